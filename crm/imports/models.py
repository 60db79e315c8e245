"""Imports of accounts, contacts and activities from CSV and XLSX files, as jobs.

An `ImportJob` is one uploaded file and what became of it: the detected encoding and delimiter,
the column mapping, the counts, the progress of the Celery task, the first errors. The file itself
(and the spool files the validation writes for the write phase, and the full error CSV) live in a
private, tenant-scoped directory (`files.job_dir`), never under static or a public media URL.

`ImportMapping` remembers, per object and *file layout* (a hash of the normalised header row),
which column went to which field, so the next file with the same layout gets its mapping back.
"""

from __future__ import annotations

from django.db import models

from crm.audit.history import track
from crm.tenancy.models import Membership, TenantModel

# the stored error list is capped; the full list is the error CSV file
MAX_STORED_ERRORS = 1000


class Mode(models.TextChoices):
    DRY_RUN = "dry_run", "Dry run (check only, write nothing)"
    ALL_OR_NOTHING = "all_or_nothing", "All or nothing"
    VALID_ROWS = "valid_rows", "Only the valid rows"


class DuplicatePolicy(models.TextChoices):
    SKIP = "skip", "Skip the row"
    UPDATE = "update", "Update the existing record"
    CREATE = "create", "Create a new record anyway"


class Status(models.TextChoices):
    UPLOADED = "uploaded", "Uploaded"
    VALIDATING = "validating", "Checking"
    VALIDATED = "validated", "Checked"
    RUNNING = "running", "Importing"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


# Progress, counts and the error list change every few thousand rows while a job runs; history
# keeps the job's meaningful changes (created, mapped, status) and not each progress tick.
@track(exclude=["processed", "preview", "errors", "error_count"])
class ImportJob(TenantModel):
    object = models.CharField(max_length=40)
    mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.DRY_RUN)
    duplicates = models.CharField(max_length=8, choices=DuplicatePolicy.choices, default=DuplicatePolicy.SKIP)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.UPLOADED)
    file_name = models.CharField(max_length=255)
    file_format = models.CharField(max_length=4, default="csv")  # csv | xlsx
    file_size = models.BigIntegerField(default=0)
    encoding = models.CharField(max_length=20, blank=True)
    delimiter = models.CharField(max_length=4, blank=True)
    header = models.JSONField(default=list, blank=True)
    layout = models.CharField(max_length=64, blank=True)  # sha256 of the normalised header
    # one field key per column ("" = ignored), in column order
    mapping = models.JSONField(default=list, blank=True)
    rows = models.IntegerField(default=0)
    valid = models.IntegerField(default=0)
    invalid = models.IntegerField(default=0)
    created = models.IntegerField(default=0)
    updated = models.IntegerField(default=0)
    skipped = models.IntegerField(default=0)
    processed = models.IntegerField(default=0)
    # the first MAX_STORED_ERRORS of [{"line", "column", "message"}]; error_count is the total
    errors = models.JSONField(default=list, blank=True)
    error_count = models.IntegerField(default=0)
    preview = models.JSONField(default=list, blank=True)
    message = models.CharField(max_length=500, blank=True)  # why a job failed, in words
    created_by = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    validated_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        indexes = [
            models.Index(fields=["tenant", "created_by", "-created_at", "-id"], name="importjob_mine_idx"),
            models.Index(fields=["tenant", "-created_at", "-id"], name="importjob_recent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.object} import of {self.file_name}"

    @property
    def is_busy(self) -> bool:
        return self.status in (Status.VALIDATING, Status.RUNNING)

    @property
    def percent(self) -> int:
        if not self.rows:
            return 0
        return min(100, round(100 * self.processed / self.rows))


@track()
class ImportMapping(TenantModel):
    object = models.CharField(max_length=40)
    layout = models.CharField(max_length=64)
    header = models.JSONField(default=list)
    mapping = models.JSONField(default=list)

    class Meta(TenantModel.Meta):
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(fields=["tenant", "object", "layout"], name="importmapping_layout_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.object} layout {self.layout[:8]}"
