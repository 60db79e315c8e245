"""The outbox: everything that leaves the process (mail first) is a row here before it is sent.

A message is written in the same transaction as the change that causes it, so a rolled-back change
sends nothing and a committed one is never lost. Workers claim due rows (SELECT … FOR UPDATE SKIP
LOCKED), send them, and mark each one sent; see services.py for the life of a message.

Two tables with the same shape:
- OutboxMessage: tenant-owned (under row-level security like every tenant table);
- SystemMessage: mail that belongs to no tenant (see its docstring).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from crm.tenancy.ids import new_id
from crm.tenancy.models import TenantModel


class Kind(models.TextChoices):
    EMAIL = "email", "Email"


class Status(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    # claimed by a worker; next_attempt_at is then the end of its lease (see services.LEASE)
    SENDING = "sending", "Being sent"
    SENT = "sent", "Sent"
    # the last attempt failed; the next one is due at next_attempt_at
    FAILED = "failed", "Failed, will retry"
    # attempts exhausted: nobody retries it any more; kept for inspection
    DEAD = "dead", "Given up"


# The statuses a worker may pick up once next_attempt_at has passed ('sending' past its lease: the
# worker that claimed it died). Also the predicate of the due index and of outbox_due_messages().
DUE_STATUSES = (Status.PENDING, Status.FAILED, Status.SENDING)


class MessageFields(models.Model):
    """The shape both outbox tables share.

    payload (kind "email"): from, to, cc, bcc, reply_to, subject, body, alternatives
    ([content, mimetype] pairs: the HTML part), headers, attachments (base64).
    """

    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.EMAIL)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    # how many times a worker claimed it; also the fencing token of the current claim
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True, default="")
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.kind} {self.id} to {', '.join(self.payload.get('to', []))} ({self.status})"

    @property
    def subject(self) -> str:
        return self.payload.get("subject", "")


class OutboxMessage(TenantModel, MessageFields):
    """A message caused by something in a tenant: under RLS, written in that tenant's transaction."""

    class Meta(TenantModel.Meta):
        constraints = [*TenantModel.Meta.constraints]
        indexes = [
            # what the relay looks for (outbox_due_messages()); partial, so it holds only the few
            # unsent rows however many sent ones the table keeps
            models.Index(
                fields=["tenant", "next_attempt_at"],
                name="outbox_msg_due_idx",
                condition=models.Q(status__in=DUE_STATUSES),
            ),
            # per-tenant listing by status, and the nightly purge of old sent rows
            models.Index(fields=["tenant", "status", "next_attempt_at"], name="outbox_msg_status_idx"),
            models.Index(fields=["tenant", "status", "sent_at"], name="outbox_msg_sent_idx"),
        ]


class SystemMessage(MessageFields):
    """Mail that belongs to no tenant: it is written where no tenant is entered.

    Password resets and "an account already exists for this address" notices are sent to a person
    who is not signed in, so there is no tenant to write them under, and they concern only that
    person's own login (a global User), not any company's data. Holding them in a tenant's outbox
    would be wrong twice: a person may belong to several tenants or none, and a tenant's admins must
    not read another company's (or a stranger's) reset links. So they live here, outside RLS,
    with the same life cycle as OutboxMessage. Never write tenant data into this table: mail sent
    while a tenant is entered goes to OutboxMessage (crm.outbox.mail decides by the tenant context).
    """

    id = models.UUIDField(primary_key=True, default=new_id, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["next_attempt_at"], name="outbox_sys_due_idx", condition=models.Q(status__in=DUE_STATUSES)
            ),
            models.Index(fields=["status", "sent_at"], name="outbox_sys_sent_idx"),
        ]
