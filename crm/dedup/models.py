"""Duplicate candidates, scans and merges of accounts and contacts.

- `DuplicateCandidate`: one row per pair of records (`record_a` < `record_b`) that a rule found,
  with the strongest rule, a score 0-100 and what matched. Written by the scan (crm/dedup/scan.py,
  a Celery job per tenant: nightly and "Scan now"); "Not a duplicate" sets it to dismissed, which
  the next scan keeps (it updates scores, never the status). The pair, not the rule, is what a
  person judges, so the pair is unique.
- `DuplicateScan`: one run of the scan, so the queue can say when it last ran and show progress.
- `MergeRecord`: what a merge did, enough to undo it: the losers' rows as they were, every related
  row changed or deleted (a journal of before-images, crm/dedup/journal.py), the master's values
  before and after. Undo replays the journal backwards in one transaction.

Records are referenced by plain UUID columns, not foreign keys: a candidate or a merge record
outlives the records it names (the losers are deleted by the merge and come back on undo with
their ids).
"""

from __future__ import annotations

from django.db import models

from crm.audit.history import track
from crm.tenancy.models import Membership, TenantModel


class ObjectType(models.TextChoices):
    ACCOUNTS = "accounts", "Accounts"
    CONTACTS = "contacts", "Contacts"


class Rule(models.TextChoices):
    SAME_EMAIL = "same_email", "Same email"
    SAME_PHONE = "same_phone", "Same phone"
    SAME_DOMAIN = "same_domain", "Same domain"
    SIMILAR_NAME = "similar_name", "Similar name"


# which rules apply to which object, strongest first (a pair found by several keeps the first)
RULES = {
    ObjectType.CONTACTS: (Rule.SAME_EMAIL, Rule.SAME_PHONE, Rule.SIMILAR_NAME),
    ObjectType.ACCOUNTS: (Rule.SAME_DOMAIN, Rule.SAME_PHONE, Rule.SIMILAR_NAME),
}


# found_at changes on every nightly scan: left out, so an unchanged pair makes no history event
@track(exclude=["found_at"])
class DuplicateCandidate(TenantModel):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DISMISSED = "dismissed", "Not a duplicate"
        MERGED = "merged", "Merged"

    object = models.CharField(max_length=10, choices=ObjectType.choices)
    record_a = models.UUIDField(help_text="The smaller id of the pair.")
    record_b = models.UUIDField()
    rule = models.CharField(max_length=14, choices=Rule.choices, help_text="The strongest rule that matched.")
    # 0-100: an integer, so the queue's order and filter stay leakproof under RLS
    score = models.PositiveSmallIntegerField()
    detail = models.CharField(max_length=300, blank=True, help_text="What matched, e.g. the email.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    found_at = models.DateTimeField()
    dismissed_by = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    dismissed_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(fields=["tenant", "object", "record_a", "record_b"], name="dupcandidate_pair_uniq"),
            models.CheckConstraint(condition=models.Q(record_a__lt=models.F("record_b")), name="dupcandidate_ordered"),
        ]
        indexes = [
            # the queue: open pairs of one object, best first (keyset on score, id)
            models.Index(fields=["tenant", "object", "status", "-score", "-id"], name="dupcandidate_queue_idx"),
            models.Index(fields=["tenant", "object", "status", "rule", "-score", "-id"], name="dupcandidate_rule_idx"),
            # a record's pairs: record_a through the unique constraint, record_b here
            models.Index(fields=["tenant", "object", "record_b"], name="dupcandidate_b_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.object}: {self.record_a} ~ {self.record_b} ({self.rule})"


@track()
class DuplicateScan(TenantModel):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    requested_by = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    records_seen = models.PositiveIntegerField(default=0)
    pairs_found = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)

    class Meta(TenantModel.Meta):
        indexes = [models.Index(fields=["tenant", "-created_at", "-id"], name="dupscan_recent_idx")]

    def __str__(self) -> str:
        return f"scan {self.status}"


# the journal and images are the merge's own record of the rows (their changes have history of
# their own); only who merged what, and the undo, are worth events
@track(exclude=["journal", "master_before", "master_after"])
class MergeRecord(TenantModel):
    object = models.CharField(max_length=10, choices=ObjectType.choices)
    master_id = models.UUIDField()
    loser_ids = models.JSONField(default=list)
    # the names shown in the history, as they were ("Anna Müller, Anna Mueller")
    loser_names = models.CharField(max_length=600, blank=True)
    master_before = models.JSONField(default=dict, help_text="The master's field values before the merge.")
    master_after = models.JSONField(default=dict, help_text="…and after it (undo checks nobody changed them).")
    journal = models.JSONField(default=list, help_text="Before-images of every row changed or deleted, in order.")
    moved = models.JSONField(default=dict, help_text="What moved to the master, counted by relation label.")
    merged_by = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta(TenantModel.Meta):
        indexes = [
            models.Index(fields=["tenant", "object", "master_id", "-created_at"], name="mergerecord_master_idx"),
            models.Index(fields=["tenant", "-created_at", "-id"], name="mergerecord_recent_idx"),
        ]

    def __str__(self) -> str:
        return f"merge into {self.master_id}"
