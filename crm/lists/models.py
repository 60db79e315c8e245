"""Saved views, recently viewed records, export jobs and the trash of bulk deletes.

- `SavedView`: a named list view (filters as URL parameters, columns, sort), private to its owner
  or shared with the whole company. Built-in views ("My …", "Recently viewed", "All visible") are
  not rows: they exist for everyone, always (crm/lists/selectors.py BUILTIN_VIEWS).
- `RecentView`: one row per (person, object, record), upserted when a record page opens; the
  "Recently viewed" view reads the latest ones by (tenant, membership, object, -viewed_at).
- `ExportJob`: a large export run by the worker; its file is private to the requester and expires.
- `TrashBatch`: what a bulk delete removed (the records and every row that went with them, as a
  JSON snapshot) so that "Undo" can put it all back in one transaction for a while. Chosen over a
  soft-delete column: a `deleted_at IS NULL` condition would have to join every index and every
  query of every app that reads these tables (lists, search, counts, the 360° page, reports),
  where forgetting it once shows deleted customers; the trash touches none of them.
"""

from __future__ import annotations

from django.db import models

from crm.audit.history import track
from crm.tenancy.models import Membership, TenantModel


@track()
class SavedView(TenantModel):
    object = models.CharField(max_length=40)  # a crm.lists registry key
    name = models.CharField(max_length=80)
    owner = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    shared = models.BooleanField(default=False, help_text="Everyone in the company sees it.")
    # the filters as URL parameters: {"type": ["customer"], "cf_region": ["EMEA"]}
    params = models.JSONField(default=dict, blank=True)
    columns = models.JSONField(default=list, blank=True)  # column keys, in order
    sort = models.CharField(max_length=30, blank=True)

    class Meta(TenantModel.Meta):
        indexes = [
            models.Index(fields=["tenant", "object", "owner"], name="savedview_owner_idx"),
            models.Index(fields=["tenant", "object", "shared"], name="savedview_shared_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class RecentView(TenantModel):
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    object = models.CharField(max_length=40)
    record_id = models.UUIDField()
    viewed_at = models.DateTimeField()

    class Meta(TenantModel.Meta):
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(fields=["tenant", "membership", "object", "record_id"],
                                    name="recentview_uniq"),
        ]
        indexes = [models.Index(fields=["tenant", "membership", "object", "-viewed_at"], name="recentview_latest_idx")]

    def __str__(self) -> str:
        return f"{self.object}:{self.record_id}"


class ExportJob(TenantModel):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Ready"
        FAILED = "failed", "Failed"

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "Excel (XLSX)"

    requester = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    object = models.CharField(max_length=40)
    format = models.CharField(max_length=4, choices=Format.choices)
    params = models.JSONField(default=dict, blank=True)
    columns = models.JSONField(default=list, blank=True)
    sort = models.CharField(max_length=30, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    rows_total = models.PositiveIntegerField(null=True, blank=True)  # the estimate when queued
    rows_done = models.PositiveIntegerField(default=0)
    file_name = models.CharField(max_length=200, blank=True)  # inside the export storage
    error = models.CharField(max_length=300, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        indexes = [models.Index(fields=["tenant", "requester", "-created_at"], name="exportjob_requester_idx")]

    def __str__(self) -> str:
        return f"{self.object}.{self.format}"


class TrashBatch(TenantModel):
    actor = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    object = models.CharField(max_length=40)
    count = models.PositiveIntegerField()  # the records the person deleted (not the rows with them)
    summary = models.CharField(max_length=300)
    # {"rows": [[model label, [{attname: value}, …]], …] in insert order, "updates": [[label, attname, [[pk, value], …]]]}
    snapshot = models.JSONField()
    expires_at = models.DateTimeField()
    restored_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        indexes = [models.Index(fields=["tenant", "actor", "-created_at"], name="trashbatch_actor_idx")]

    def __str__(self) -> str:
        return self.summary
