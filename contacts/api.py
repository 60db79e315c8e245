"""`/api/v1/contacts/` and `/api/v1/activities/`: thin over services and selectors.

Reads go through the selectors (tenant + visibility: another rep's record is a 404); writes go
through the services, whose ValidationError becomes a 400 with field errors (crm/api/errors.py).
Field-level security (crm.access.fields): responses leave out the fields the caller may not see
(a hidden email takes the `emails` list along), a write naming one is a 400, a read-only field's
change is refused by the service's guard (400), and filtering by a hidden field is a 400.
"""

from __future__ import annotations

import django_filters
from django.db import transaction
from django_countries.serializer_fields import CountryField
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from crm.access import fields as fls
from crm.api.pagination import KeysetPagination
from crm.audit.api import HistoryMixin
from crm.customfields.api import CUSTOM_FILTER_PARAMETER, CustomFilterMixin, CustomValuesField
from crm.tenancy.search import prefix_q

from . import gdpr, selectors, services
from .models import (
    AccountRelation,
    Activity,
    ActivityComment,
    Channel,
    Consent,
    Contact,
    ContactEmail,
    ContactPhone,
)


def _actor(view):
    return view.request._request.membership


class SecuredFiltersMixin:
    """A filter on a field the caller may not see would tell its values: a 400 naming the
    parameter. `filter_fields` maps query parameters to the field they read (`cf_*`: custom fields)."""

    secured_object: str = ""  # crm.access registry key
    filter_fields: dict = {}

    def hidden_filter_field(self, param: str, value: str) -> str | None:
        if param.startswith("cf_"):
            return fls.custom_key(param[3:].partition("__")[0])
        return self.filter_fields.get(param)

    def filter_queryset(self, queryset):
        if not getattr(self, "swagger_fake_view", False):
            gone = fls.hidden(_actor(self), self.secured_object)
            errors = {}
            for param, values in self.request.query_params.lists() if gone else ():
                for value in values:
                    if self.hidden_filter_field(param, value) in gone:
                        errors[param] = ["This field is hidden for you: you cannot filter by it."]
            if errors:
                raise exceptions.ValidationError(errors)
        return super().filter_queryset(queryset)


# --- contacts -----------------------------------------------------------------------------------

class ContactEmailSerializer(serializers.ModelSerializer):
    email = serializers.CharField(max_length=254)

    class Meta:
        model = ContactEmail
        fields = ["email", "label", "is_primary"]


class ContactPhoneSerializer(serializers.ModelSerializer):
    number = serializers.CharField(max_length=40, help_text="E.164 (+49301234567), or national with a mailing country")

    class Meta:
        model = ContactPhone
        fields = ["number", "label", "is_primary"]


class AccountRelationSerializer(serializers.ModelSerializer):
    account = serializers.UUIDField(source="account_id")

    class Meta:
        model = AccountRelation
        fields = ["account", "role"]


class ConsentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Consent
        fields = ["channel", "status", "recorded_at", "source", "proof"]
        read_only_fields = fields


class ConsentRecordSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=Channel.choices)
    status = serializers.ChoiceField(choices=Consent.Status.choices)
    source = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    proof = serializers.CharField(required=False, allow_blank=True, default="")


class EraseSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, help_text="Why the person is erased (kept in the security log).")


class ContactSerializer(fls.SecuredSerializerMixin, serializers.ModelSerializer):
    secured_object = "contacts"

    account = serializers.UUIDField(source="account_id", allow_null=True, required=False)
    reports_to = serializers.UUIDField(source="reports_to_id", allow_null=True, required=False)
    owner = serializers.UUIDField(source="owner_id", required=False,
                                  help_text="Defaults to you; a manager may give it to someone in their team.")
    mailing_country = CountryField(required=False, allow_blank=True)
    emails = ContactEmailSerializer(many=True, required=False)
    phones = ContactPhoneSerializer(many=True, required=False)
    relations = AccountRelationSerializer(many=True, required=False, source="account_relations")
    consents = ConsentSerializer(many=True, read_only=True)
    full_name = serializers.CharField(read_only=True)
    custom = CustomValuesField("contacts")

    class Meta:
        model = Contact
        fields = [
            "id", "salutation", "first_name", "last_name", "full_name", "title", "department", "account",
            "reports_to", "email", "phone", "emails", "phones", "relations", "mailing_street", "mailing_city",
            "mailing_postal_code", "mailing_region", "mailing_country", "preferred_channel", "language",
            "birthday", "owner", "do_not_contact", "consents", "custom", "created_at", "updated_at",
        ]
        read_only_fields = ["id", "email", "phone", "full_name", "consents", "created_at", "updated_at"]

    def _service_kwargs(self, data: dict) -> dict:
        kwargs = dict(data)
        for source, name in (("account_id", "account"), ("reports_to_id", "reports_to"), ("owner_id", "owner")):
            if source in kwargs:
                kwargs[name] = kwargs.pop(source)
        if "account_relations" in kwargs:
            kwargs["relations"] = [{"account": r["account_id"], "role": r["role"]}
                                   for r in kwargs.pop("account_relations")]
        for name in ("emails", "phones"):
            if name in kwargs:
                kwargs[name] = [dict(e) for e in kwargs[name]]
        return kwargs

    def create(self, validated_data):
        return services.contact_create(actor=self.context["actor"], **self._service_kwargs(validated_data))

    def update(self, instance, validated_data):
        return services.contact_update(actor=self.context["actor"], contact=instance,
                                       **self._service_kwargs(validated_data))


class ContactFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(method="filter_search", help_text="Name prefix (last name first) or exact email")
    account = django_filters.UUIDFilter(field_name="account_id")
    owner = django_filters.UUIDFilter(field_name="owner_id")
    do_not_contact = django_filters.BooleanFilter()

    class Meta:
        model = Contact
        fields = ["search", "account", "owner", "do_not_contact"]

    def filter_search(self, queryset, name, value):
        value = (value or "").strip()
        if not value:
            return queryset
        if "@" in value:
            return queryset.filter(email=value.lower())
        return queryset.filter(prefix_q("name_key", value))


class ContactPagination(KeysetPagination):
    ordering = ("name_key", "id")


@extend_schema(parameters=[CUSTOM_FILTER_PARAMETER])
class ContactViewSet(SecuredFiltersMixin, CustomFilterMixin, HistoryMixin, viewsets.ModelViewSet):
    """Contacts you may see (yours, your team's; admins: all). Emails and phones are lists with
    one primary each; phones come back in E.164. `GET /contacts/<id>/history/`: their changes."""

    queryset = Contact.objects.none()
    serializer_class = ContactSerializer
    filterset_class = ContactFilter
    pagination_class = ContactPagination
    custom_object = "contacts"
    secured_object = "contacts"

    def hidden_filter_field(self, param, value):
        if param == "search" and "@" in (value or ""):
            return "email"  # the search matches an exact email
        return super().hidden_filter_field(param, value)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return selectors.contact_list(actor=_actor(self)).prefetch_related(
            "emails", "phones", "consents", "account_relations")

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "actor": getattr(self.request._request, "membership", None)}

    def perform_destroy(self, instance):
        services.contact_delete(actor=_actor(self), contact=instance)

    @extend_schema(request=None, responses={200: OpenApiTypes.OBJECT},
                   description="Everything held about the contact (GDPR access request), in sections: "
                               "contact, emails, phones, account_relations, consents, activities, history. "
                               "Admins; managers for their team's contacts. Logged in the security log.")
    @action(detail=True, methods=["get"], url_path="gdpr-export", url_name="gdpr-export",
            filter_backends=[], pagination_class=None)
    def gdpr_export(self, request, *args, **kwargs):
        contact = self.get_object()
        return Response(gdpr.contact_export(actor=_actor(self), contact=contact, request=request._request))

    @extend_schema(request=EraseSerializer, responses=ContactSerializer,
                   description="Erase the person (GDPR): anonymised in place, statistics kept, history "
                               "blanked, the reason in the security log. Admins only; cannot be undone.")
    @action(detail=True, methods=["post"], url_path="erase", url_name="erase",
            filter_backends=[], pagination_class=None)
    def erase(self, request, *args, **kwargs):
        contact = self.get_object()
        data = EraseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        gdpr.contact_erase(actor=_actor(self), contact=contact, reason=data.validated_data["reason"],
                           request=request._request)
        contact = self.get_queryset().get(pk=contact.pk)
        return Response(ContactSerializer(contact, context=self.get_serializer_context()).data)

    @extend_schema(request=ConsentRecordSerializer, responses=ConsentSerializer)
    @action(detail=True, methods=["post"], url_path="consent", url_name="consent",
            filter_backends=[], pagination_class=None)
    def consent(self, request, *args, **kwargs):
        contact = self.get_object()
        data = ConsentRecordSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with transaction.atomic():
            consent = services.consent_record(actor=_actor(self), contact=contact, **data.validated_data)
        return Response(ConsentSerializer(consent).data, status=status.HTTP_201_CREATED)


# --- activities ---------------------------------------------------------------------------------

class ActivityCommentSerializer(serializers.ModelSerializer):
    author = serializers.UUIDField(source="author_id", read_only=True)

    class Meta:
        model = ActivityComment
        fields = ["id", "author", "body", "read_at", "created_at"]
        read_only_fields = ["id", "author", "read_at", "created_at"]


class ActivitySerializer(fls.SecuredSerializerMixin, serializers.ModelSerializer):
    secured_object = "activities"

    account = serializers.UUIDField(source="account_id", allow_null=True, required=False)
    contact = serializers.UUIDField(source="contact_id", allow_null=True, required=False)
    owner = serializers.UUIDField(source="owner_id", required=False,
                                  help_text="Tasks only: defaults to you; a manager may assign to their team.")
    attendees = serializers.ListField(child=serializers.UUIDField(), required=False, write_only=True,
                                      help_text="Meetings: colleagues (membership ids)")
    attendee_contacts = serializers.ListField(child=serializers.UUIDField(), required=False, write_only=True,
                                              help_text="Meetings: contacts")
    custom = CustomValuesField("activities")

    class Meta:
        model = Activity
        fields = [
            "id", "kind", "subject", "body", "owner", "account", "contact", "related_type", "related_id",
            "occurred_at", "ends_at", "due_at", "status", "priority", "completed_at", "remind_at", "reminded_at",
            "direction", "duration_minutes", "outcome", "location", "attendees", "attendee_contacts", "custom",
            "created_at", "updated_at",
        ]
        read_only_fields = ["id", "related_type", "related_id", "completed_at", "reminded_at", "created_at",
                            "updated_at"]

    def create(self, data):
        actor = self.context["actor"]
        data = dict(data)
        links = {"account": data.pop("account_id", None), "contact": data.pop("contact_id", None)}
        if data.get("kind") == Activity.Kind.TASK:
            return services.task_create(
                actor=actor, subject=data.get("subject", ""), due_at=data.get("due_at"),
                priority=data.get("priority") or Activity.Priority.NORMAL, remind_at=data.get("remind_at"),
                body=data.get("body", ""), owner=data.get("owner_id"), custom=data.get("custom"), **links,
            )
        allowed = {"body", "occurred_at", "ends_at", "direction", "duration_minutes", "outcome", "location",
                   "attendees", "attendee_contacts", "custom"}
        return services.activity_log(actor=actor, kind=data.get("kind"), subject=data.get("subject", ""),
                                     **links, **{k: v for k, v in data.items() if k in allowed})

    def update(self, instance, data):
        for name in ("kind", "account_id", "contact_id", "owner_id", "attendees", "attendee_contacts"):
            if name in data and data[name] != getattr(instance, name, None):
                raise serializers.ValidationError({name.removesuffix("_id"): ["This cannot be changed."]})
            data.pop(name, None)
        return services.activity_update(actor=self.context["actor"], activity=instance, **data)


class ActivityFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=Activity.Kind.choices)
    status = django_filters.ChoiceFilter(choices=Activity.Status.choices)
    account = django_filters.UUIDFilter(field_name="account_id")
    contact = django_filters.UUIDFilter(field_name="contact_id")
    owner = django_filters.UUIDFilter(field_name="owner_id")
    due_before = django_filters.IsoDateTimeFilter(field_name="due_at", lookup_expr="lt")
    due_after = django_filters.IsoDateTimeFilter(field_name="due_at", lookup_expr="gte")

    class Meta:
        model = Activity
        fields = ["kind", "status", "account", "contact", "owner", "due_before", "due_after"]


class ActivityPagination(KeysetPagination):
    ordering = ("-occurred_at", "-id")


@extend_schema(parameters=[CUSTOM_FILTER_PARAMETER])
class ActivityViewSet(SecuredFiltersMixin, CustomFilterMixin, HistoryMixin, mixins.CreateModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin,
                      mixins.DestroyModelMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Calls, meetings, tasks, notes, logged emails and visits you may see, newest first.
    `POST /activities/<id>/complete/` completes a task (idempotent); managers comment with
    `POST /activities/<id>/comments/`."""

    queryset = Activity.objects.none()
    serializer_class = ActivitySerializer
    filterset_class = ActivityFilter
    pagination_class = ActivityPagination
    custom_object = "activities"
    secured_object = "activities"
    filter_fields = {"due_before": "due_at", "due_after": "due_at"}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return selectors.activity_list(actor=_actor(self))

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "actor": getattr(self.request._request, "membership", None)}

    def perform_destroy(self, instance):
        services.activity_delete(actor=_actor(self), activity=instance)

    @extend_schema(request=None, responses=ActivitySerializer)
    @action(detail=True, methods=["post"], url_path="complete", url_name="complete",
            filter_backends=[], pagination_class=None)
    def complete(self, request, *args, **kwargs):
        task = services.task_complete(actor=_actor(self), task=self.get_object())
        return Response(ActivitySerializer(task, context=self.get_serializer_context()).data)

    @extend_schema(request=ActivityCommentSerializer, responses=ActivityCommentSerializer)
    @action(detail=True, methods=["post"], url_path="comments", url_name="comments",
            filter_backends=[], pagination_class=None, serializer_class=ActivityCommentSerializer)
    def comments(self, request, *args, **kwargs):
        activity = self.get_object()
        data = ActivityCommentSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        comment = services.activity_comment_add(actor=_actor(self), activity=activity,
                                                body=data.validated_data["body"])
        return Response(ActivityCommentSerializer(comment).data, status=status.HTTP_201_CREATED)
