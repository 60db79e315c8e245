"""`/api/v1/accounts/`: customer accounts, through the visibility engine, with their history.

Thin: the serializer validates shapes, the services apply the rules, the selectors decide what is
visible. Lists page by keyset on (name_key, id).
"""

from __future__ import annotations

import django_filters
from django_countries.serializer_fields import CountryField
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets

from crm.access import fields as field_security
from crm.access import policy
from crm.api.pagination import KeysetPagination
from crm.audit.api import HistoryMixin
from crm.customfields.api import CUSTOM_FILTER_PARAMETER, CustomFilterMixin, CustomValuesField
from crm.lists.paging import sort_alias
from crm.tenancy.models import Membership

from . import selectors, services
from .models import Account


def _actor(serializer) -> Membership:
    return serializer.context["request"]._request.membership


class OwnerField(serializers.PrimaryKeyRelatedField):
    """A member of the caller's company, by membership id."""

    def get_queryset(self):
        actor = _actor(self.parent)
        return Membership.objects.for_tenant(actor.tenant).filter(is_active=True)


class ParentField(serializers.PrimaryKeyRelatedField):
    """An account the caller may see, by id."""

    def get_queryset(self):
        actor = _actor(self.parent)
        return policy.visible(Account.objects.for_tenant(actor.tenant), actor, "read")


class TagNamesField(serializers.ListField):
    child = serializers.CharField(max_length=services.MAX_TAG_LENGTH)

    def to_representation(self, data):
        return [tag.name for tag in data.all()]


class AccountSerializer(field_security.SecuredSerializerMixin, serializers.ModelSerializer):
    """Field-level security (SecuredSerializerMixin): fields hidden from the caller are left out of
    responses (custom ones inside `custom` too) and naming one in a write is a 400; a read-only
    field's change is refused by the services' guard (400 with that field's error)."""

    secured_object = "accounts"
    owner = OwnerField(required=False, help_text="Membership id; defaults to the caller on create.")
    parent = ParentField(required=False, allow_null=True)
    tags = TagNamesField(required=False, help_text="Tag names; new ones are created.")
    custom = CustomValuesField("accounts")
    # the service adds a missing scheme, checks the address and derives `domain`
    website = serializers.CharField(max_length=300, required=False, allow_blank=True)
    billing_country = CountryField(required=False, allow_blank=True)
    shipping_country = CountryField(required=False, allow_blank=True)

    class Meta:
        model = Account
        fields = [
            "id", "name", "kind", "type", "industry", "website", "domain", "phone",
            "billing_street", "billing_city", "billing_postal_code", "billing_region", "billing_country",
            "shipping_street", "shipping_city", "shipping_postal_code", "shipping_region", "shipping_country",
            "employees", "annual_revenue", "currency", "owner", "parent", "source", "rating", "status",
            "description", "tags", "custom", "created_by", "modified_by", "created_at", "updated_at",
        ]
        read_only_fields = ["id", "domain", "created_by", "modified_by", "created_at", "updated_at"]

    def create(self, validated_data):
        return services.account_create(actor=_actor(self), **validated_data)

    def update(self, instance, validated_data):
        return services.account_update(actor=_actor(self), account=instance, **validated_data)


class AccountFilterSet(django_filters.FilterSet):
    search = django_filters.CharFilter(label="Name starts with, or exact domain")
    type = django_filters.ChoiceFilter(choices=Account.Type.choices)
    industry = django_filters.ChoiceFilter(choices=Account.Industry.choices)
    owner = django_filters.UUIDFilter(label="Owner (membership id)")
    status = django_filters.ChoiceFilter(choices=Account.Status.choices)
    rating = django_filters.ChoiceFilter(choices=Account.Rating.choices)
    tag = django_filters.CharFilter(label="Tag name")
    country = django_filters.CharFilter(label="Billing country code", max_length=2)

    class Meta:
        model = Account
        fields = ["search", "type", "industry", "owner", "status", "rating", "tag", "country"]

    # the field each filter compares, for field-level security
    SECURED = {"type": "type", "industry": "industry", "status": "status", "rating": "rating", "tag": "tags",
               "country": "billing_country"}

    def filter_queryset(self, queryset):
        # one definition of the filters for pages and API: the selector's (leakproof, indexed)
        data = {k: v for k, v in self.form.cleaned_data.items() if v not in (None, "")}
        actor = self.request._request.membership
        hidden = field_security.hidden(actor, "accounts")
        # filtering by a hidden field would reveal its values: a 400 that says so, not a silent no-op
        refused = {name: ["You cannot filter by a field that is hidden from you."]
                   for name in data if self.SECURED.get(name) in hidden}
        if refused:
            raise serializers.ValidationError(refused)
        data["q"] = data.pop("search", "")
        # "exact domain" only for whoever may see the website (the domain derives from it)
        data["match_domain"] = "domain" not in hidden
        return selectors.AccountFilter(**data).apply(queryset, tenant_id=actor.tenant_id,
                                                     walk_tag_links=policy.sees_all(actor))


class AccountPagination(KeysetPagination):
    ordering = ("name_key", "id")

    def get_ordering(self, request, queryset, view):
        # an admin's tag filter carries the tag links' copy of the keys: order by that index
        copies = tuple(sort_alias(f) for f in self.ordering)
        if all(c in queryset.query.annotations for c in copies):
            return copies
        return super().get_ordering(request, queryset, view)


@extend_schema(parameters=[CUSTOM_FILTER_PARAMETER])
class AccountViewSet(CustomFilterMixin, HistoryMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                     mixins.UpdateModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """Customer accounts you may see: your own, your team's if you manage one, all as an admin.
    `?search=` matches the start of the name or an exact domain. `GET /accounts/<id>/history/`:
    who changed what, when."""

    queryset = Account.objects.none()  # for the schema only; requests use get_queryset()
    serializer_class = AccountSerializer
    filterset_class = AccountFilterSet
    pagination_class = AccountPagination
    custom_object = "accounts"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        qs = selectors.account_list(actor=self.request._request.membership)
        return qs.prefetch_related("tags")

    def perform_destroy(self, instance):
        services.account_delete(actor=self.request._request.membership, account=instance)
