"""Custom fields in the API.

- `CustomValuesField(object_key)`: the `custom` member of a record's serializer. Out: every
  active field by name (null when empty). In: any subset by name; the record's service checks
  the values (crm.customfields.values) and a bad one is a 400 with `custom.<name>` field errors.
- `CustomFilterMixin`: `?cf_<name>=…` filters on list endpoints (selectors.py has the grammar).
- `/api/v1/custom-fields/`: the definitions; every member reads them, admins change them.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import exceptions, mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from . import registry, selectors, services
from .models import CustomField, FieldType


def _membership(context_or_request):
    request = context_or_request.get("request") if isinstance(context_or_request, dict) else context_or_request
    return getattr(getattr(request, "_request", request), "membership", None)


def specs_in_context(context: dict, object_key: str) -> list:
    """The object's specs, read once per request (the context is shared by a list's items)."""
    key = f"_customfield_specs_{object_key}"
    if key not in context:
        membership = _membership(context)
        context[key] = services.specs(membership.tenant_id, object_key) if membership else []
    return context[key]


@extend_schema_field({
    "type": "object", "additionalProperties": True,
    "description": "Custom field values by field name (see /api/v1/custom-fields/). Text, URL, email and "
                   "picklist values are strings, multi-picklists lists of strings, numbers and currency "
                   "amounts numbers, dates YYYY-MM-DD, checkboxes booleans. Send only the fields to change; "
                   "null clears one.",
    "example": {"contract_end": "2027-03-31", "segment": "Enterprise", "regions": ["EMEA", "APAC"]},
})
class CustomValuesField(serializers.Field):
    def __init__(self, object_key: str, **kwargs):
        self.object_key = object_key
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def get_attribute(self, instance):
        return getattr(instance, "custom", None) or {}

    def to_representation(self, custom):
        return {s.name: custom.get(s.name) for s in specs_in_context(self.context, self.object_key)}

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise exceptions.ValidationError("Custom fields are an object of values by field name.")
        return data


class CustomFilterMixin:
    """For list viewsets: `custom_object = "accounts"`; applies `cf_*` query parameters."""

    custom_object: str = ""

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        params = self.request.query_params
        if not any(k.startswith(selectors.PREFIX) for k in params) or getattr(self, "swagger_fake_view", False):
            return queryset
        membership = self.request._request.membership
        _refuse_hidden(membership, self.custom_object, params)
        conditions, errors = selectors.parse(services.specs(membership.tenant_id, self.custom_object), params)
        if errors:
            raise exceptions.ValidationError({k: [v] for k, v in errors.items()})
        return selectors.apply(queryset, membership.tenant_id, conditions)


def _refuse_hidden(membership, object_key: str, params) -> None:
    """Field-level security: filtering by a custom field hidden from the caller would reveal its
    values, so naming one (`cf_<name>`, `cf_<name>__gte`, …) is a 400 that says so."""
    from crm.access import fields

    gone = fields.hidden(membership, object_key)
    refused = {k: ["You cannot filter by a field that is hidden from you."] for k in params
               if k.startswith(selectors.PREFIX) and k.split("__")[0] in gone}
    if refused:
        raise exceptions.ValidationError(refused)


CUSTOM_FILTER_PARAMETER = OpenApiParameter(
    name="cf_<name>", type=OpenApiTypes.STR, location=OpenApiParameter.QUERY, required=False,
    description="Filter by a custom field: `cf_segment=Enterprise` (picklists: equals, repeat for any of; "
                "text: starts with), `cf_budget__gte=1000`, `cf_renewal__lte=2027-01-31`, `cf_notes__empty=yes`.",
)


class CustomFieldSerializer(serializers.ModelSerializer):
    object = serializers.ChoiceField(choices=[], help_text="accounts, contacts, activities, …")
    name = serializers.CharField(required=False, max_length=40,
                                 help_text="API name; derived from the label when omitted. Fixed once created.")
    type = serializers.ChoiceField(choices=FieldType.choices, help_text="Fixed once created.")
    options = serializers.ListField(child=serializers.CharField(max_length=100), required=False,
                                    help_text="Picklists: the choices, in order.")
    default = serializers.JSONField(required=False, allow_null=True)

    class Meta:
        model = CustomField
        fields = ["id", "object", "name", "label", "type", "help_text", "required", "default", "options",
                  "position", "archived", "created_at", "updated_at"]
        read_only_fields = ["id", "archived", "created_at", "updated_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["object"].choices = [(o.key, o.label) for o in registry.objects()]

    def create(self, validated_data):
        validated_data.pop("position", None)
        return services.field_create(actor=_membership(self.context), **validated_data)

    def update(self, instance, validated_data):
        return services.field_update(actor=_membership(self.context), field=instance, **validated_data)


@extend_schema(examples=[OpenApiExample("A picklist on accounts", request_only=True, value={
    "object": "accounts", "label": "Segment", "type": "picklist", "options": ["SMB", "Mid-market", "Enterprise"],
    "required": False, "help_text": "Sales segment"})])
class CustomFieldViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                         mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """Admin-defined fields of accounts, contacts and activities (and later objects). Everyone reads
    them (`?object=accounts`); only admins create and change them. Name and type are fixed once
    created; `POST …/{id}/archive/` hides a field everywhere (values are kept), `…/restore/` brings
    it back."""

    queryset = CustomField.objects.none()
    serializer_class = CustomFieldSerializer
    pagination_class = None
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        membership = self.request._request.membership
        qs = CustomField.objects.for_tenant(membership.tenant).order_by("object", "position", "label", "id")
        obj = self.request.query_params.get("object")
        if obj:
            qs = qs.filter(object=obj)
        if self.request.query_params.get("archived") not in ("1", "true", "yes"):
            qs = qs.filter(archived=False) if self.action == "list" else qs
        return qs

    def check_permissions(self, request):
        super().check_permissions(request)
        if request.method not in ("GET", "HEAD", "OPTIONS") and request._request.membership.role != "admin":
            raise exceptions.PermissionDenied("Only admins define custom fields.")

    @extend_schema(request=None, responses=CustomFieldSerializer)
    @action(detail=True, methods=["post"])
    def archive(self, request, pk=None):
        field = services.field_archive(actor=request._request.membership, field=self.get_object(), archived=True)
        return Response(self.get_serializer(field).data)

    @extend_schema(request=None, responses=CustomFieldSerializer)
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        field = services.field_archive(actor=request._request.membership, field=self.get_object(), archived=False)
        return Response(self.get_serializer(field).data)
