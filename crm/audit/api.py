"""`GET <record>/history/` for any record API: add HistoryMixin to the record's ViewSet.

    class AccountViewSet(HistoryMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet): ...

The record is found through the ViewSet's own get_object() (its tenant-scoped, visibility-checked
queryset), so another tenant's record, or one the caller may not read, is a 404 here as on the
record itself. Pages by keyset: `?before=<next_cursor>`, `?limit=` up to 200.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from .history import history_page

MAX_LIMIT = 200


class FieldChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    label = serializers.CharField()
    before = serializers.CharField(source="before_display", allow_blank=True,
                                   help_text="Shown value before; empty when it was empty or is not known.")
    after = serializers.CharField(source="after_display", allow_blank=True)
    before_known = serializers.BooleanField(help_text="False for a record older than its history.")


class ActorSerializer(serializers.Serializer):
    name = serializers.CharField(source="actor_name", allow_blank=True)
    email = serializers.CharField(source="actor_email", allow_blank=True)
    initials = serializers.CharField(source="actor_initials")
    user_id = serializers.CharField(source="actor_user_id", allow_null=True)
    membership_id = serializers.CharField(source="actor_membership_id", allow_null=True)


class HistoryEntrySerializer(serializers.Serializer):
    id = serializers.CharField()
    action = serializers.ChoiceField(choices=["created", "changed", "deleted"])
    at = serializers.DateTimeField()
    source = serializers.CharField(help_text="page, api, import, job, command, shell; system when unknown")
    actor = ActorSerializer(source="*")
    method = serializers.CharField(allow_blank=True)
    url = serializers.CharField(allow_blank=True)
    task = serializers.CharField(allow_blank=True)
    changes = FieldChangeSerializer(many=True)


class HistoryPageSerializer(serializers.Serializer):
    results = HistoryEntrySerializer(many=True, source="entries")
    next_cursor = serializers.CharField(allow_null=True)


class HistoryMixin:
    """Adds `GET <prefix>/<pk>/history/` to a ViewSet."""

    @extend_schema(
        summary="The record's change history, newest first",
        parameters=[
            OpenApiParameter("before", str, description="next_cursor of the previous page"),
            OpenApiParameter("limit", int, description=f"entries per page, at most {MAX_LIMIT} (default 50)"),
        ],
        responses=HistoryPageSerializer,
        filters=False,
    )
    @action(detail=True, methods=["get"], url_path="history", url_name="history",
            filter_backends=[], pagination_class=None)
    def history(self, request, *args, **kwargs):
        record = self.get_object()
        try:
            limit = min(max(int(request.query_params.get("limit", 50)), 1), MAX_LIMIT)
        except ValueError:
            raise ValidationError({"limit": ["Enter a whole number."]}) from None
        try:
            page = history_page(record, actor=request._request.membership, limit=limit,
                                before=request.query_params.get("before") or None)
        except ValueError:
            raise ValidationError({"before": ["This cursor is not valid."]}) from None
        return Response(HistoryPageSerializer(page).data)
