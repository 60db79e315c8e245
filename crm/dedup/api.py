"""`/api/v1/duplicates/` and `/api/v1/merges/`: thin over selectors and services.

    GET  /api/v1/duplicates/?object=contacts[&rule=same_email]   open pairs you can see, best first
    POST /api/v1/duplicates/{id}/dismiss/                        "not a duplicate" (remembered)
    GET  /api/v1/merges/                                         merges whose master you can see
    POST /api/v1/merges/ {object, master, losers, fields}        merge; fields: {"phone": "<record id>"}
    POST /api/v1/merges/{id}/undo/                               undo (the merger or an admin, 7 days)

A record you cannot see is a 404 (also inside a merge request); one you see but may not edit or
delete is a 403; bad input is a 400 with field errors (crm/api/errors.py).
"""

from __future__ import annotations

import uuid

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.response import Response

from crm.api.pagination import KeysetPagination

from . import selectors, services
from .models import RULES, DuplicateCandidate, MergeRecord, ObjectType, Rule


def _actor(view):
    return view.request._request.membership


class RecordRefSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()


class DuplicateSerializer(serializers.ModelSerializer):
    records = serializers.SerializerMethodField()
    detail = serializers.SerializerMethodField(help_text="What matched (the email, phone or domain), unless that "
                                                         "field is hidden from you.")

    class Meta:
        model = DuplicateCandidate
        fields = ["id", "object", "record_a", "record_b", "records", "rule", "score", "detail", "status", "found_at"]
        read_only_fields = fields

    def get_detail(self, obj) -> str:
        # field-level security: the view passes the caller's `detail_of`; without it, nothing
        detail_of = self.context.get("detail_of")
        return detail_of(obj.rule, obj.detail) if detail_of else ""

    @extend_schema_field(RecordRefSerializer(many=True))
    def get_records(self, obj) -> list[dict]:
        names = self.context.get("names", {})
        return [{"id": str(i), "name": names.get(i, "")} for i in (obj.record_a, obj.record_b)]


class DuplicatePagination(KeysetPagination):
    ordering = ("-score", "-id")


@extend_schema(parameters=[
    OpenApiParameter("object", str, enum=[o.value for o in ObjectType], required=True,
                     description="accounts or contacts"),
    OpenApiParameter("rule", str, enum=[r.value for r in Rule], required=False),
])
class DuplicateViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Likely duplicate pairs, found by the nightly scan (or an admin's "Scan now"); only pairs
    whose two records you may both see."""

    queryset = DuplicateCandidate.objects.none()
    serializer_class = DuplicateSerializer
    pagination_class = DuplicatePagination

    def _object(self) -> str:
        value = self.request.query_params.get("object", "")
        if value not in {o.value for o in ObjectType}:
            raise ApiValidationError({"object": ["Choose accounts or contacts."]})
        return value

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        object_label = self._object()
        rule = self.request.query_params.get("rule", "")
        if rule and rule not in RULES[object_label]:
            raise ApiValidationError({"rule": [f"Choose one of {', '.join(RULES[object_label])}."]})
        return selectors.candidates_visible(actor=_actor(self), object_label=object_label, rule=rule)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        ids = {c.record_a for c in page} | {c.record_b for c in page}
        object_label = self._object()
        names = {r.pk: getattr(r, "full_name", None) or str(r)
                 for r in selectors.visible_records(_actor(self), object_label).filter(pk__in=ids)}
        serializer = self.get_serializer(page, many=True, context={
            **self.get_serializer_context(), "names": names,
            "detail_of": selectors.pair_details(_actor(self), object_label)})
        return self.get_paginated_response(serializer.data)

    @extend_schema(request=None, responses={200: DuplicateSerializer})
    @action(detail=True, methods=["post"])
    def dismiss(self, request, pk=None):
        """Not a duplicate: the pair is not suggested again (later scans keep the decision)."""
        actor = _actor(self)
        try:
            candidate = DuplicateCandidate.objects.for_tenant(actor.tenant_id).filter(pk=uuid.UUID(str(pk))).first()
        except ValueError:
            candidate = None
        if candidate is None:
            raise NotFound()
        candidate = services.pair_dismiss(actor=actor, object_label=candidate.object,
                                          record_ids=[candidate.record_a, candidate.record_b])
        return Response(DuplicateSerializer(candidate, context={
            "names": {}, "detail_of": selectors.pair_details(actor, candidate.object)}).data)


class MergeSerializer(serializers.ModelSerializer):
    master = serializers.UUIDField(source="master_id", read_only=True)
    losers = serializers.ListField(source="loser_ids", child=serializers.UUIDField(), read_only=True)
    merged_by = serializers.UUIDField(source="merged_by_id", read_only=True, allow_null=True)
    undone_by = serializers.UUIDField(source="undone_by_id", read_only=True, allow_null=True)
    moved = serializers.DictField(child=serializers.IntegerField(), read_only=True,
                                  help_text="What moved to the master, by relation: {\"Activities\": 4}.")

    class Meta:
        model = MergeRecord
        fields = ["id", "object", "master", "losers", "loser_names", "moved", "merged_by", "created_at",
                  "undone_at", "undone_by"]
        read_only_fields = fields


class MergeRequestSerializer(serializers.Serializer):
    object = serializers.ChoiceField(choices=ObjectType.choices)
    master = serializers.UUIDField(help_text="The record that stays.")
    losers = serializers.ListField(child=serializers.UUIDField(), min_length=1, max_length=services.MAX_RECORDS - 1,
                                   help_text="The records merged into it and then deleted (1 or 2).")
    fields = serializers.DictField(
        child=serializers.UUIDField(), required=False, default=dict,
        help_text="Which record's value the master takes, per field: {\"phone\": \"<id>\", \"custom.segment\": "
                  "\"<id>\"}. Fields not named keep the master's value, or another record's where the master's "
                  "is empty.")


class MergeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Merges of accounts and contacts whose surviving record you can see, newest first."""

    queryset = MergeRecord.objects.none()
    serializer_class = MergeSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return selectors.merges_visible(actor=_actor(self))

    @extend_schema(request=MergeRequestSerializer, responses={201: MergeSerializer})
    def create(self, request, *args, **kwargs):
        """Merge 2 or 3 records: related records move to the master, the others are deleted."""
        body = MergeRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        merge = services.records_merge(actor=_actor(self), object_label=data["object"], master=data["master"],
                                       losers=data["losers"], fields={k: str(v) for k, v in data["fields"].items()})
        return Response(MergeSerializer(merge).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: MergeSerializer})
    @action(detail=True, methods=["post"])
    def undo(self, request, pk=None):
        """Restore the merged records with their ids and related records, and the master's values."""
        merge = selectors.merge_get(actor=_actor(self), pk=pk)
        merge = services.merge_undo(actor=_actor(self), merge=merge)
        return Response(MergeSerializer(merge).data)
