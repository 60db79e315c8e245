"""Saved views and exports in the API.

- `GET /api/v1/views/?object=accounts`: the built-in views and the saved views the caller may use
  (their own and the shared ones).
- `POST /api/v1/exports/` {object, format, view | filters, columns, sort}: an export job, always
  (the API does not stream files); `GET /api/v1/exports/{id}/`: its status, progress and, when
  ready, `download_url` (`GET /api/v1/exports/{id}/download/`, the requester only, until it expires).
Bad input is a 400 with field errors (`filters.<parameter>` for a bad filter value).
"""

from __future__ import annotations

from django.http import FileResponse, Http404
from django.urls import path, reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.customfields import services as customfields
from crm.tenancy.cache import tenant_cache

from . import exports, paging, registry, selectors, services
from .models import ExportJob, SavedView
from .tasks import progress_key


class SavedViewSerializer(serializers.ModelSerializer):
    filters = serializers.JSONField(source="params", read_only=True)
    owner = serializers.UUIDField(source="owner_id", read_only=True)
    builtin = serializers.SerializerMethodField()

    class Meta:
        model = SavedView
        fields = ["id", "object", "name", "owner", "shared", "filters", "columns", "sort", "builtin"]
        read_only_fields = fields

    def get_builtin(self, view) -> bool:
        return False


class ViewListView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("object", OpenApiTypes.STR, description="accounts, contacts, activities…")],
        responses=SavedViewSerializer(many=True),
        summary="Saved list views the caller may use (built-in ones have ids all/mine/recent)",
    )
    def get(self, request):
        actor = request._request.membership
        key = request.query_params.get("object", "")
        try:
            definition = registry.get(key)
        except KeyError:
            known = ", ".join(d.key for d in registry.definitions())
            raise serializers.ValidationError({"object": [f"Choose one of: {known}."]}) from None
        builtins = [{"id": k, "object": definition.key, "name": selectors.builtin_label(definition, k), "owner": None,
                     "shared": True, "filters": {},
                     "columns": [c.key for c in definition.columns
                                 if c.default and registry.column_visible(actor, definition, c)],
                     "sort": registry.sort_for(actor, definition, "").key, "builtin": True}
                    for k in selectors.builtin_views(definition)]
        saved = SavedViewSerializer(selectors.views_for(actor=actor, object_key=definition.key), many=True).data
        # a shared view may name fields hidden from the caller: they see it without them (as the page does)
        visible_columns = {c.key for c in selectors.all_columns(definition, selectors.visible_specs(
            actor, definition, customfields.specs(actor.tenant_id, definition.custom_object)
            if definition.custom_object else [])) if registry.column_visible(actor, definition, c)}
        for view in saved:
            hidden = set(selectors.hidden_params(actor, definition, view["filters"] or {}))
            view["filters"] = {k: v for k, v in (view["filters"] or {}).items() if k not in hidden}
            view["columns"] = [c for c in view["columns"] or [] if c in visible_columns]
            if not any(s.key == view["sort"] and registry.sort_visible(actor, definition, s) for s in definition.sorts):
                view["sort"] = registry.sort_for(actor, definition, "").key
        return Response([*builtins, *saved])


class ExportCreateSerializer(serializers.Serializer):
    object = serializers.CharField()
    format = serializers.ChoiceField(choices=["csv", "xlsx"])
    view = serializers.CharField(required=False, allow_blank=True,
                                 help_text="A saved view's id, or all / mine / recent")
    filters = serializers.DictField(required=False, help_text="URL filter parameters, e.g. {\"type\": \"customer\", "
                                                              "\"cf_region\": [\"EMEA\"]}")
    columns = serializers.ListField(child=serializers.CharField(), required=False)
    sort = serializers.CharField(required=False, allow_blank=True)

    def validate_object(self, value):
        try:
            registry.get(value)
        except KeyError:
            raise serializers.ValidationError("There is no such list.") from None
        return value


class ExportJobSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()
    rows_done = serializers.SerializerMethodField()

    class Meta:
        model = ExportJob
        fields = ["id", "object", "format", "status", "rows_total", "rows_done", "columns", "sort", "error",
                  "created_at", "finished_at", "expires_at", "download_url"]
        read_only_fields = fields

    def get_rows_done(self, job) -> int:
        if job.status == ExportJob.Status.DONE:
            return job.rows_done
        return int(tenant_cache.get(progress_key(job.pk)) or 0)

    def get_download_url(self, job) -> str | None:
        if job.status != ExportJob.Status.DONE or (job.expires_at and job.expires_at <= timezone.now()):
            return None
        request = self.context.get("request")
        url = reverse("api-export-download", args=[job.pk])
        return request.build_absolute_uri(url) if request else url


class ExportCreateView(APIView):
    @extend_schema(request=ExportCreateSerializer, responses={201: ExportJobSerializer},
                   summary="Export a list view (its filters and columns) as CSV or XLSX, as a job")
    def post(self, request):
        actor = request._request.membership
        body = ExportCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        definition = registry.get(data["object"])
        params = {}
        for key, value in (data.get("filters") or {}).items():
            params[key] = [str(v) for v in value] if isinstance(value, list) else [str(value)]
        if data.get("view"):
            params["view"] = [data["view"]]
        hidden = selectors.hidden_params(actor, definition, params)
        if hidden:
            raise serializers.ValidationError({f"filters.{k}": ["You cannot filter by a field that is hidden from you."]
                                               for k in hidden})
        state = selectors.resolve(actor, definition, params, columns=data.get("columns") or None)
        if state.errors:
            raise serializers.ValidationError({(k if k == "view" else f"filters.{k}"): [v]
                                               for k, v in state.errors.items()})
        unknown = [c for c in (data.get("columns") or []) if c not in {col.key for col in state.columns}]
        if unknown:
            raise serializers.ValidationError({"columns": [f"Unknown or hidden columns: {', '.join(unknown)}."]})
        sort = data.get("sort") or (state.view.sort if state.view else "")
        sorts = [s for s in definition.sorts if registry.sort_visible(actor, definition, s)]
        if state.view is not None and not data.get("sort") and sort not in {s.key for s in sorts}:
            sort = ""  # a saved view's sort on a field now hidden from the caller: the default
        if sort and sort not in {s.key for s in sorts}:
            choices = ", ".join(s.key for s in sorts)
            raise serializers.ValidationError({"sort": [f"Sort by one of: {choices}."]})
        filters = dict(state.params)
        if state.builtin != "all" or state.view is not None:
            filters["view"] = [state.builtin if state.view is None else str(state.view.pk)]
        total = paging.count(selectors.rows_queryset(state), cap=exports.DIRECT_LIMIT)
        job = services.export_create(actor=actor, object=definition.key, format=data["format"], params=filters,
                                     columns=[c.key for c in state.columns], sort=sort or sorts[0].key,
                                     rows_total=total.value)
        return Response(ExportJobSerializer(job, context={"request": request}).data, status=status.HTTP_201_CREATED)


class ExportDetailView(APIView):
    @extend_schema(responses=ExportJobSerializer, summary="An export job: status, progress, download link")
    def get(self, request, pk):
        job = services.export_get(actor=request._request.membership, pk=pk)
        return Response(ExportJobSerializer(job, context={"request": request}).data)


class ExportDownloadView(APIView):
    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
                   summary="The finished export file (the requester only, until it expires)")
    def get(self, request, pk):
        job = services.export_get(actor=request._request.membership, pk=pk)
        if job.status != ExportJob.Status.DONE or not job.file_name or job.expires_at <= timezone.now():
            raise Http404
        store = exports.storage()
        if not store.exists(job.file_name):
            raise Http404
        return FileResponse(store.open(job.file_name, "rb"), as_attachment=True,
                            filename=f"{job.object}.{job.format}", content_type=exports.CONTENT_TYPES[job.format])


urlpatterns = [
    path("views/", ViewListView.as_view(), name="api-views"),
    path("exports/", ExportCreateView.as_view(), name="api-exports"),
    path("exports/<uuid:pk>/", ExportDetailView.as_view(), name="api-export-detail"),
    path("exports/<uuid:pk>/download/", ExportDownloadView.as_view(), name="api-export-download"),
]
