"""Writing messages to the outbox and delivering them.

The life of a message
---------------------
1. Written (store_emails / enqueue_email, or any Django mail call through OutboxEmailBackend) in
   the caller's transaction, status `pending`. On commit a `deliver` task is queued; if that
   publish is lost, the relay (beat, every 15 s) finds the message anyway.
2. Claimed: in a short transaction of its own, a worker locks the row with
   SELECT … FOR UPDATE SKIP LOCKED (a row another worker holds is skipped, never waited for),
   sets `sending`, adds one to `attempts` and takes a lease (next_attempt_at = now + LEASE).
   The claim commits before any mail server is contacted: no lock or transaction is held while
   the network is slow, and a second delivery of the same message (the relay, a duplicate task,
   a redelivered task after acks_late) finds it claimed and does nothing.
3. Sent through settings.OUTBOX_TRANSPORT_BACKEND, then marked `sent` in another short
   transaction. On an error the attempt is recorded (`failed`, last_error, next_attempt_at with
   exponential backoff and jitter); after OUTBOX_MAX_ATTEMPTS it is `dead` and nobody retries it.
4. A worker that dies between claim and mark leaves the row `sending`; once the lease has run out
   the relay claims it again (counting an attempt, so a message that kills its worker dies too).

What "never sent twice" can and cannot mean
-------------------------------------------
The claim makes every message sent by at most one worker at a time, and a message marked sent is
never sent again. The one case that cannot be closed with SMTP is a worker that dies after the mail
server accepted the message but before the `sent` mark committed: nothing can tell "accepted" from
"not sent" afterwards, so that message (only the one in flight) is sent again after its lease. It
carries the same Message-ID on every attempt (derived from the outbox id), so receiving systems and
people can recognise the duplicate. Losing a message instead would be worse.
"""

from __future__ import annotations

import base64
import enum
import logging
import random
import time
from contextlib import contextmanager, nullcontext
from datetime import timedelta
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives, get_connection
from django.db import connection, transaction
from django.utils import timezone

from crm.tenancy.context import current_tenant, tenant_context
from crm.tenancy.models import Tenant

from .models import DUE_STATUSES, Kind, OutboxMessage, Status, SystemMessage

log = logging.getLogger(__name__)

DUE_FUNCTION = "outbox_due_messages"


class Outcome(enum.StrEnum):
    SENT = "sent"
    FAILED = "failed"  # will be retried
    DEAD = "dead"  # given up
    SKIPPED = "skipped"  # not due, already sent, or claimed by another worker


def _setting(name: str, default):
    return getattr(settings, name, default)


def lease() -> timedelta:
    """How long a claim lasts. Far longer than the transport's timeout, so a slow send is not
    mistaken for a dead worker (which would send the message twice)."""
    return timedelta(seconds=int(_setting("OUTBOX_LEASE_SECONDS", 300)))


def max_attempts() -> int:
    return int(_setting("OUTBOX_MAX_ATTEMPTS", 8))


def backoff(attempt: int) -> timedelta:
    """Delay before retry number `attempt` + 1: base·2^(attempt-1), capped, with "equal jitter"
    (a random half on top of a fixed half) so messages that failed together do not retry together."""
    base = float(_setting("OUTBOX_RETRY_BASE_SECONDS", 30))
    cap = float(_setting("OUTBOX_RETRY_MAX_SECONDS", 6 * 3600))
    delay = min(cap, base * 2 ** max(0, attempt - 1))
    return timedelta(seconds=delay / 2 + random.uniform(0, delay / 2))


# --- writing ---------------------------------------------------------------------------------

def _message_id_domain() -> str:
    configured = _setting("OUTBOX_MESSAGE_ID_DOMAIN", "")
    if configured:
        return configured
    _, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    return address.rpartition("@")[2] or "crm.localhost"


def message_id_for(message_pk) -> str:
    """The Message-ID of an outbox message: the same on every attempt, so a re-send is recognisable."""
    return f"<outbox.{message_pk}@{_message_id_domain()}>"


def email_to_payload(message: EmailMessage) -> dict:
    attachments = []
    for attachment in message.attachments:
        if not isinstance(attachment, tuple):
            # a prebuilt MIME part cannot be stored as JSON faithfully; refuse rather than drop it
            raise ValueError("Outbox mail takes (filename, content, mimetype) attachments only")
        filename, content, mimetype = attachment
        if isinstance(content, bytes):
            attachments.append({"filename": filename, "mimetype": mimetype,
                                "content_b64": base64.b64encode(content).decode()})
        else:
            attachments.append({"filename": filename, "mimetype": mimetype, "content": str(content)})
    return {
        "from": str(message.from_email or settings.DEFAULT_FROM_EMAIL),
        "to": [str(a) for a in message.to],
        "cc": [str(a) for a in message.cc],
        "bcc": [str(a) for a in message.bcc],
        "reply_to": [str(a) for a in message.reply_to],
        "subject": str(message.subject),
        "body": str(message.body),
        "content_subtype": message.content_subtype,
        "alternatives": [[str(content), mimetype] for content, mimetype in getattr(message, "alternatives", [])],
        "headers": {str(k): str(v) for k, v in message.extra_headers.items()},
        "attachments": attachments,
    }


def payload_to_email(payload: dict, *, connection=None) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=payload.get("subject", ""),
        body=payload.get("body", ""),
        from_email=payload.get("from") or settings.DEFAULT_FROM_EMAIL,
        to=payload.get("to", []),
        cc=payload.get("cc", []),
        bcc=payload.get("bcc", []),
        reply_to=payload.get("reply_to", []),
        headers=payload.get("headers", {}),
        connection=connection,
    )
    message.content_subtype = payload.get("content_subtype", "plain")
    for content, mimetype in payload.get("alternatives", []):
        message.attach_alternative(content, mimetype)
    for attachment in payload.get("attachments", []):
        content = (
            base64.b64decode(attachment["content_b64"]) if "content_b64" in attachment else attachment["content"]
        )
        message.attach(attachment["filename"], content, attachment["mimetype"])
    return message


def store_emails(messages: list[EmailMessage]) -> list[OutboxMessage | SystemMessage]:
    """Write messages to the outbox in the current transaction; queue their delivery on commit.

    With a tenant entered (crm.tenancy.context) they are that tenant's OutboxMessages; with none,
    SystemMessages (see that model for why). A message without recipients is skipped, as Django's
    SMTP backend skips it.
    """
    tenant = current_tenant()
    model = OutboxMessage if tenant is not None else SystemMessage
    stored = []
    for message in messages:
        if not message.recipients():
            continue
        row = model(kind=Kind.EMAIL, payload=email_to_payload(message))
        if tenant is not None:
            row.tenant = tenant
        headers = row.payload["headers"]
        if not any(k.lower() == "message-id" for k in headers):
            headers["Message-ID"] = message_id_for(row.pk)
        row.save(force_insert=True)
        stored.append(row)
        transaction.on_commit(lambda row=row: _queue_delivery(row), robust=True)
    return stored


def enqueue_email(
    *,
    to: list[str] | str,
    subject: str,
    body: str,
    html: str | None = None,
    from_email: str | None = None,
    cc: list[str] | None = None,
    bcc: list[str] | None = None,
    reply_to: list[str] | None = None,
    headers: dict | None = None,
) -> OutboxMessage | SystemMessage:
    """Put one email in the outbox, in the current transaction (in the current tenant, if any)."""
    message = EmailMultiAlternatives(
        subject=subject, body=body, from_email=from_email, to=[to] if isinstance(to, str) else list(to),
        cc=cc or [], bcc=bcc or [], reply_to=reply_to or [], headers=headers or {},
    )
    if html:
        message.attach_alternative(html, "text/html")
    stored = store_emails([message])
    if not stored:
        raise ValueError("An email needs at least one recipient")
    return stored[0]


def _queue_delivery(row) -> None:
    """After commit: hand the message to a worker. A failure here loses nothing (the relay sends it)."""
    from . import tasks

    retry_policy = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
    try:
        if isinstance(row, OutboxMessage):
            tasks.deliver.apply_async(
                kwargs={"tenant_id": str(row.tenant_id), "message_id": str(row.pk)},
                retry=True, retry_policy=retry_policy,
            )
        else:
            tasks.deliver_system.apply_async(
                kwargs={"message_id": str(row.pk)}, retry=True, retry_policy=retry_policy
            )
    except Exception:  # noqa: BLE001  (the broker is down: the relay picks the message up)
        log.warning("could not queue outbox message %s; the relay will send it", row.pk, exc_info=True)


# --- delivering ------------------------------------------------------------------------------

def deliver(message: OutboxMessage | SystemMessage) -> Outcome:
    """Deliver one message if it is due and nobody else holds it; see the module docstring.

    Must be called outside any transaction (each step commits on its own): it raises
    RuntimeError when nested in an atomic block, because a send inside a transaction that later
    rolls back would be a mail about nothing and would be sent again.
    """
    if isinstance(message, OutboxMessage):
        return deliver_tenant_message(tenant=message.tenant_id, message_id=message.pk)
    return deliver_system_message(message_id=message.pk)


def deliver_tenant_message(*, tenant, message_id) -> Outcome:
    """`tenant`: a Tenant or its id. Every step runs in that tenant, under RLS."""
    if not isinstance(tenant, Tenant):
        tenant = Tenant.objects.get(pk=tenant)
    return _deliver(OutboxMessage.objects.for_tenant(tenant), message_id, lambda: tenant_context(tenant))


def deliver_system_message(*, message_id) -> Outcome:
    return _deliver(SystemMessage.objects.all(), message_id, nullcontext)


@contextmanager
def _step(scope):
    """One step of a delivery: its own transaction (durable: never inside a caller's), in scope."""
    with transaction.atomic(durable=True), scope():
        yield


def _claim(messages, message_id):
    """Lock the row if it is due and free, and take it: status sending, attempts + 1, a lease."""
    now = timezone.now()
    rows = list(
        messages.select_for_update(skip_locked=True)
        .filter(pk=message_id, status__in=DUE_STATUSES, next_attempt_at__lte=now)[:1]
    )
    if not rows:
        return None
    row = rows[0]
    if row.attempts >= max_attempts():
        # only reachable for a message whose worker died while sending it, attempts exhausted
        row.status = Status.DEAD
        row.last_error = (row.last_error + "\n" if row.last_error else "") + "worker lost while sending"
        row.save(update_fields=["status", "last_error", "updated_at"])
        log.error("outbox message %s is dead: its worker was lost on the last attempt", row.pk)
        return Outcome.DEAD
    row.status = Status.SENDING
    row.attempts += 1
    row.next_attempt_at = now + lease()
    row.save(update_fields=["status", "attempts", "next_attempt_at", "updated_at"])
    return row


def _transport():
    return get_connection(
        settings.OUTBOX_TRANSPORT_BACKEND,
        fail_silently=False,
        timeout=int(_setting("OUTBOX_SEND_TIMEOUT_SECONDS", 30)),
    )


def _deliver(messages, message_id, scope) -> Outcome:
    """`messages`: the queryset the message is in (a tenant's outbox, named explicitly, or the
    system one); `scope`: what each step runs in (the tenant's context)."""
    with _step(scope):
        claimed = _claim(messages, message_id)
    if claimed is None:
        return Outcome.SKIPPED
    if claimed is Outcome.DEAD:
        return Outcome.DEAD
    attempt = claimed.attempts

    try:
        transport = _transport()
        if transport.send_messages([payload_to_email(claimed.payload, connection=transport)]) != 1:
            raise RuntimeError("the mail transport accepted no message")
    except Exception as exc:  # noqa: BLE001  (any failure of the send is recorded and retried)
        return _record_failure(messages, claimed, attempt, exc, scope)

    with _step(scope):
        # A stale claimant (its lease ran out mid-send) may also finish: "sent" wins either way,
        # and a later failure of the other claimant cannot un-send it (see _record_failure).
        messages.filter(pk=claimed.pk).exclude(status=Status.SENT).update(
            status=Status.SENT, sent_at=timezone.now(), last_error="", updated_at=timezone.now()
        )
    log.info("outbox message %s sent (attempt %s)", claimed.pk, attempt)
    return Outcome.SENT


def _record_failure(messages, claimed, attempt: int, exc: Exception, scope) -> Outcome:
    error = f"attempt {attempt}: {type(exc).__name__}: {exc}"[:2000]
    dead = attempt >= max_attempts()
    with _step(scope):
        # only the current claim may record its failure (fencing by the attempt number)
        messages.filter(pk=claimed.pk, status=Status.SENDING, attempts=attempt).update(
            status=Status.DEAD if dead else Status.FAILED,
            last_error=error,
            next_attempt_at=timezone.now() + backoff(attempt),
            updated_at=timezone.now(),
        )
    if dead:
        log.error("outbox message %s is dead after %s attempts: %s", claimed.pk, attempt, error)
        return Outcome.DEAD
    log.warning("outbox message %s failed, will retry: %s", claimed.pk, error)
    return Outcome.FAILED


# --- finding due messages --------------------------------------------------------------------

def due_tenant_messages(limit: int = 500) -> list[tuple]:
    """(tenant_id, id) of tenant messages due now, across tenants, oldest first.

    The relay runs in no tenant, so RLS hides every OutboxMessage from it. Instead of bypassing
    RLS it asks the one reviewed SECURITY DEFINER function (migration 0002), which reveals only
    these two ids; every claim and send then happens inside the message's tenant, under RLS.
    """
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT tenant_id, id FROM {DUE_FUNCTION}(%s)", [limit])
        return cursor.fetchall()


def due_system_messages(limit: int = 500) -> list:
    return list(
        SystemMessage.objects.filter(status__in=DUE_STATUSES, next_attempt_at__lte=timezone.now())
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )


def deliver_pending(*, batch_size: int = 500, max_seconds: float | None = None) -> int:
    """Deliver, synchronously, every message due now: system messages and every tenant's.

    What the relay runs; tests call it to "let the worker run" (the transport is locmem there).
    Returns how many messages were sent. Stops when a pass claims nothing (what is left is held
    by another worker or not due yet) or after `max_seconds`.
    """
    started = time.monotonic()
    sent = 0
    tenants: dict = {}
    while True:
        claimed = 0
        work = [(None, pk) for pk in due_system_messages(batch_size)] + due_tenant_messages(batch_size)
        for tenant_id, pk in work:
            if tenant_id is None:
                outcome = deliver_system_message(message_id=pk)
            else:
                if tenant_id not in tenants:
                    tenants[tenant_id] = Tenant.objects.filter(pk=tenant_id).first()
                if tenants[tenant_id] is None:
                    continue  # deleted since: its messages went with it
                outcome = deliver_tenant_message(tenant=tenants[tenant_id], message_id=pk)
            claimed += outcome is not Outcome.SKIPPED
            sent += outcome is Outcome.SENT
            if max_seconds is not None and time.monotonic() - started > max_seconds:
                return sent
        if not claimed:
            return sent


def purge_sent(*, older_than: timedelta = timedelta(days=30)) -> int:
    """Delete sent messages older than `older_than`, tenant by tenant (under RLS). Failed and dead
    messages are kept for inspection."""
    cutoff = timezone.now() - older_than
    deleted, _ = SystemMessage.objects.filter(status=Status.SENT, sent_at__lt=cutoff).delete()
    for tenant in Tenant.objects.order_by("pk").iterator():
        with tenant_context(tenant):
            count, _ = (
                OutboxMessage.objects.for_tenant(tenant).filter(status=Status.SENT, sent_at__lt=cutoff).delete()
            )
            deleted += count
    return deleted
