"""Imports in the API, as jobs.

    POST /api/v1/imports/                 multipart: object, file, mode, [duplicates], [mapping]
    GET  /api/v1/imports/                 your imports (admins: everyone's), newest first
    GET  /api/v1/imports/{id}/            status, progress, counts, errors [{line, column, message}]
    GET  /api/v1/imports/{id}/errors.csv  the rejected rows with their messages (all of them)

A job is checked (and, unless mode=dry_run, written) by a Celery worker: poll the job until its
status is `validated` (dry run), `done` or `failed`.
"""

from __future__ import annotations

import json

from django.http import FileResponse, Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, parsers, serializers, status, viewsets
from rest_framework.response import Response

from . import objects, reading, selectors, services
from .models import DuplicatePolicy, ImportJob, Mode

EXAMPLE_JOB = {
    "id": "0193a0c2-7a8e-7c31-9d2e-5f0b8a1c2d3e", "object": "contacts", "mode": "all_or_nothing",
    "duplicates": "skip", "status": "failed", "file_name": "fair-2026.csv", "encoding": "utf-8-sig",
    "delimiter": ";", "mapping": {"First name": "first_name", "Surname": "last_name", "E-mail": "email",
                                  "Owner": "owner", "Segment": "custom.segment", "Notes": ""},
    "rows": 3, "valid": 1, "invalid": 2, "created": 0, "updated": 0, "skipped": 0, "processed": 3,
    "progress": 100, "error_count": 2,
    "errors": [{"line": 3, "column": "E-mail", "message": "“jane@” is not an email address."},
               {"line": 4, "column": "Owner", "message": "Unknown owner: nobody in your company has the email "
                                                         "“bob@example.com”."}],
    "message": "Nothing was imported: 2 rows have errors. Fix them, or import only the valid rows.",
    "errors_csv": "/api/v1/imports/0193a0c2-7a8e-7c31-9d2e-5f0b8a1c2d3e/errors.csv",
    "created_at": "2026-11-26T14:02:11Z", "validated_at": "2026-11-26T14:02:12Z", "started_at": None,
    "finished_at": "2026-11-26T14:02:12Z",
}


class ImportErrorSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="The row as a spreadsheet numbers it: the header is line 1.")
    column = serializers.CharField(help_text="The column's header in the file.")
    message = serializers.CharField()


class ImportJobSerializer(serializers.ModelSerializer):
    mapping = serializers.SerializerMethodField(help_text="Column header → field key (\"\" = ignored).")
    progress = serializers.IntegerField(source="percent", read_only=True, help_text="Percent of rows processed.")
    errors = ImportErrorSerializer(many=True, read_only=True,
                                   help_text="The first 1,000 errors; error_count has the total, errors_csv all.")
    errors_csv = serializers.SerializerMethodField()

    class Meta:
        model = ImportJob
        fields = ["id", "object", "mode", "duplicates", "status", "file_name", "encoding", "delimiter", "mapping",
                  "rows", "valid", "invalid", "created", "updated", "skipped", "processed", "progress",
                  "error_count", "errors", "message", "errors_csv", "created_at", "validated_at", "started_at",
                  "finished_at"]
        read_only_fields = fields

    def get_mapping(self, job) -> dict:
        return {h or f"Column {i + 1}": (job.mapping[i] if i < len(job.mapping) else "")
                for i, h in enumerate(job.header)}

    def get_errors_csv(self, job) -> str:
        return f"/api/v1/imports/{job.pk}/errors.csv"


class ImportCreateSerializer(serializers.Serializer):
    object = serializers.ChoiceField(choices=[], help_text="accounts, contacts or activities.")
    file = serializers.FileField(help_text="CSV (UTF-8 with or without BOM, Windows-1252, Latin-1; , ; tab or | "
                                           "separated) or Excel .xlsx (first sheet). The first row names the columns.")
    mode = serializers.ChoiceField(choices=Mode.choices, default=Mode.DRY_RUN,
                                   help_text="dry_run: check only. all_or_nothing: write only if every row is "
                                             "valid. valid_rows: write the valid rows, report the others.")
    duplicates = serializers.ChoiceField(choices=DuplicatePolicy.choices, default=DuplicatePolicy.SKIP,
                                         help_text="A row matching an existing record (contacts: email; accounts: "
                                                   "website domain or name): skip it, update the record, or "
                                                   "create another.")
    mapping = serializers.CharField(required=False, allow_blank=True,
                                    help_text="JSON object {column header: field key or \"\"}; omitted: the "
                                              "mapping remembered for this file layout, else by column names. "
                                              "Custom fields are `custom.<name>`.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["object"].choices = [(i.key, i.label) for i in objects.all_importers()]

    def validate_mapping(self, value):
        if not value:
            return None
        try:
            parsed = json.loads(value)
        except ValueError:
            raise serializers.ValidationError("The mapping is not valid JSON.") from None
        if not isinstance(parsed, dict):
            raise serializers.ValidationError("The mapping is a JSON object of column header → field key.")
        return parsed


@extend_schema_view(
    list=extend_schema(summary="Your imports, newest first"),
    retrieve=extend_schema(summary="An import job: status, progress, counts and errors",
                           examples=[OpenApiExample("A rejected all-or-nothing import", value=EXAMPLE_JOB,
                                                    response_only=True)]),
)
class ImportJobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Import jobs: accounts, contacts and activities from CSV or XLSX, checked row by row (errors by
    line and column), written all-or-nothing or only the valid rows, by a background worker."""

    queryset = ImportJob.objects.none()
    serializer_class = ImportJobSerializer
    parser_classes = [parsers.MultiPartParser, parsers.FormParser, parsers.JSONParser]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return selectors.import_list(actor=self.request._request.membership)

    def get_object(self):
        job = selectors.import_get(actor=self.request._request.membership, pk=self.kwargs["pk"])
        if job is None:
            raise Http404
        return job

    @extend_schema(
        summary="Start an import",
        request={"multipart/form-data": ImportCreateSerializer},
        responses={201: ImportJobSerializer, 400: OpenApiResponse(description="Field errors: no file, unknown "
                                                                                "object, bad mode, bad mapping.")},
        examples=[
            OpenApiExample("Contacts, all or nothing", request_only=True, media_type="multipart/form-data", value={
                "object": "contacts", "file": "(the CSV file)", "mode": "all_or_nothing", "duplicates": "update",
                "mapping": json.dumps({"First name": "first_name", "Surname": "last_name", "E-mail": "email"})}),
            OpenApiExample("The job, just queued", response_only=True, status_codes=["201"],
                           value={**EXAMPLE_JOB, "status": "validating", "rows": 0, "valid": 0, "invalid": 0,
                                  "processed": 0, "progress": 0, "error_count": 0, "errors": [], "message": "",
                                  "validated_at": None, "finished_at": None}),
        ],
    )
    def create(self, request, *args, **kwargs):
        data = ImportCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        actor = request._request.membership
        job = services.job_create(actor=actor, object=data.validated_data["object"],
                                  upload=data.validated_data["file"], mode=data.validated_data["mode"],
                                  duplicates=data.validated_data["duplicates"],
                                  mapping=data.validated_data.get("mapping"))
        if data.validated_data.get("mapping") is not None:
            services.job_set_mapping(actor=actor, job=job, mapping=job.mapping)
        services.job_start(actor=actor, job=job, mode=data.validated_data["mode"])
        return Response(ImportJobSerializer(job, context=self.get_serializer_context()).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(summary="The rejected rows as CSV: the file's columns plus Line and Errors",
                   responses={(200, "text/csv"): OpenApiTypes.BINARY})
    def errors_csv(self, request, pk=None):  # routed in urls.py: /imports/{id}/errors.csv, no slash
        job = self.get_object()
        return errors_file_response(job, api=True)


def errors_file_response(job: ImportJob, *, api: bool = False):
    """The error CSV; 410 Gone with the reason once the job's files expired (services.FILES_KEPT_FOR)."""
    from django.http import HttpResponse, JsonResponse

    if services.files_expired(job):
        message = services.files_expired_message()
        if api:
            return JsonResponse({"detail": message}, status=410)
        return HttpResponse(message, status=410, content_type="text/plain; charset=utf-8")
    path = reading.job_dir(job.tenant_id, job.pk, create=False) / "errors.csv"
    name = job.file_name.rsplit(".", 1)[0] + "-errors.csv"
    if not path.exists():
        content = reading.csv_bytes(["Line", "Errors", *job.header], [])
        response = HttpResponse(content, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    return FileResponse(open(path, "rb"), as_attachment=True, filename=name, content_type="text/csv; charset=utf-8")
