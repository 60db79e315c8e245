"""Delivery: each message sent once, retried with backoff, re-sent only if its worker died."""

import threading
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection, transaction
from django.utils import timezone

from crm.outbox import services
from crm.outbox.models import OutboxMessage, Status, SystemMessage
from crm.outbox.services import Outcome, deliver, deliver_pending, deliver_tenant_message, enqueue_email
from crm.tenancy.context import tenant_context

from .transports import SlowServer, WorkerKilled, sent_to

TRANSPORTS = "crm.outbox.tests.transports"


def write(company, to="buyer@customer.example", subject="Order confirmed"):
    with tenant_context(company.tenant):
        return enqueue_email(to=to, subject=subject, body="Thanks for your order.")


def reload(company, message):
    with tenant_context(company.tenant):
        return OutboxMessage.objects.for_tenant(company.tenant).get(pk=message.pk)


def time_passes(company, message):
    """Make the message's next attempt (or the end of its lease) due now."""
    with tenant_context(company.tenant):
        OutboxMessage.objects.for_tenant(company.tenant).filter(pk=message.pk).update(
            next_attempt_at=timezone.now() - timedelta(seconds=1)
        )


@pytest.mark.django_db
def test_a_message_delivered_twice_is_sent_once(acme):
    message = write(acme)
    assert deliver(message) is Outcome.SENT
    assert deliver(message) is Outcome.SKIPPED
    assert deliver_pending() == 0
    assert len(sent_to("buyer@customer.example")) == 1
    row = reload(acme, message)
    assert (row.status, row.attempts) == (Status.SENT, 1)
    assert row.sent_at is not None


@pytest.mark.django_db(transaction=True)
def test_two_workers_delivering_the_same_message_at_the_same_time_send_it_once(acme, settings, monkeypatch):
    settings.OUTBOX_TRANSPORT_BACKEND = f"{TRANSPORTS}.SlowServer"
    SlowServer.accepted = []
    message = write(acme)  # committed: transactional test
    start = threading.Barrier(2)

    # The worst interleaving, forced: a worker that found the message due waits (up to 1 s) for the
    # other to have looked too before it takes its lease. Without the row lock both would send.
    both_looked = threading.Barrier(2)
    take_lease = services.lease

    def lease_once_both_looked():
        try:
            both_looked.wait(timeout=1)
        except threading.BrokenBarrierError:
            pass  # the other worker found nothing to take: the lock worked
        return take_lease()

    monkeypatch.setattr(services, "lease", lease_once_both_looked)
    outcomes = []

    def worker():
        try:
            start.wait()
            outcomes.append(deliver_tenant_message(tenant=acme.tenant.pk, message_id=message.pk))
        finally:
            connection.close()  # each thread has its own database connection

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes) == [Outcome.SENT, Outcome.SKIPPED]
    assert len(SlowServer.accepted) == 1
    assert reload(acme, message).status == Status.SENT


@pytest.mark.django_db(transaction=True)
def test_a_message_another_worker_holds_is_skipped_without_waiting(acme):
    message = write(acme)
    locked, release = threading.Event(), threading.Event()

    def other_worker():
        try:
            with transaction.atomic(), tenant_context(acme.tenant):
                list(OutboxMessage.objects.select_for_update().filter(pk=message.pk))
                locked.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        assert locked.wait(timeout=10)
        started = time.monotonic()
        assert deliver(message) is Outcome.SKIPPED
        assert time.monotonic() - started < 2
    finally:
        release.set()
        thread.join(timeout=30)
    assert deliver(message) is Outcome.SENT
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_a_failed_send_is_retried_later_with_growing_backoff_then_given_up(acme, settings):
    settings.OUTBOX_TRANSPORT_BACKEND = f"{TRANSPORTS}.DownServer"
    settings.OUTBOX_MAX_ATTEMPTS = 3
    settings.OUTBOX_RETRY_BASE_SECONDS = 60
    message = write(acme)

    before = timezone.now()
    assert deliver(message) is Outcome.FAILED
    row = reload(acme, message)
    assert (row.status, row.attempts) == (Status.FAILED, 1)
    assert "451 mail server unavailable" in row.last_error
    assert timedelta(seconds=30) <= row.next_attempt_at - before <= timedelta(seconds=61)
    assert deliver(message) is Outcome.SKIPPED  # not due yet: no hammering a server that is down
    assert deliver_pending() == 0

    time_passes(acme, message)
    before = timezone.now()
    assert deliver_pending() == 0
    row = reload(acme, message)
    assert (row.status, row.attempts) == (Status.FAILED, 2)
    assert timedelta(seconds=60) <= row.next_attempt_at - before <= timedelta(seconds=121)

    time_passes(acme, message)
    assert deliver(message) is Outcome.DEAD
    row = reload(acme, message)
    assert (row.status, row.attempts) == (Status.DEAD, 3)

    settings.OUTBOX_TRANSPORT_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    time_passes(acme, message)
    assert deliver_pending() == 0  # nobody retries a dead message
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_failed_message_is_sent_when_it_is_due_and_the_server_is_back(acme, settings):
    settings.OUTBOX_TRANSPORT_BACKEND = f"{TRANSPORTS}.DownServer"
    message = write(acme)
    assert deliver(message) is Outcome.FAILED

    settings.OUTBOX_TRANSPORT_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    time_passes(acme, message)
    assert deliver_pending() == 1
    row = reload(acme, message)
    assert (row.status, row.attempts, row.last_error) == (Status.SENT, 2, "")


@pytest.mark.django_db
def test_a_message_whose_worker_died_mid_send_is_sent_again_after_its_lease(acme, settings):
    settings.OUTBOX_TRANSPORT_BACKEND = f"{TRANSPORTS}.DyingWorker"
    message = write(acme)
    with pytest.raises(WorkerKilled):
        deliver(message)
    row = reload(acme, message)
    assert row.status == Status.SENDING
    assert row.next_attempt_at > timezone.now() + timedelta(seconds=60)  # the lease

    settings.OUTBOX_TRANSPORT_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert deliver_pending() == 0  # while the lease runs, the worker may just be slow
    time_passes(acme, message)  # the lease runs out
    assert deliver_pending() == 1
    [sent] = mail.outbox
    assert sent.message()["Message-ID"] == services.message_id_for(message.pk)  # receivers can de-duplicate
    assert reload(acme, message).status == Status.SENT


@pytest.mark.django_db
def test_a_message_that_kills_its_worker_every_time_is_eventually_given_up(acme, settings):
    settings.OUTBOX_TRANSPORT_BACKEND = f"{TRANSPORTS}.DyingWorker"
    settings.OUTBOX_MAX_ATTEMPTS = 2
    message = write(acme)
    for _ in range(2):
        with pytest.raises(WorkerKilled):
            deliver_pending()
        time_passes(acme, message)
    assert deliver_pending() == 0
    row = reload(acme, message)
    assert row.status == Status.DEAD
    assert "worker lost" in row.last_error


@pytest.mark.django_db
def test_the_relay_delivers_every_tenants_mail_and_system_mail_without_bypassing_rls(acme, globex):
    write(acme, to="buyer@acme-customer.example")
    write(globex, to="buyer@globex-customer.example")
    enqueue_email(to="someone@example.com", subject="Reset your password", body="…")

    assert deliver_pending() == 3
    assert {m.to[0] for m in mail.outbox} == {
        "buyer@acme-customer.example", "buyer@globex-customer.example", "someone@example.com"
    }
    assert SystemMessage.objects.get().status == Status.SENT
    for company in (acme, globex):
        with tenant_context(company.tenant):
            assert set(OutboxMessage.objects.values_list("status", flat=True)) == {Status.SENT}
    # the relay ran in no tenant, and RLS still hides every tenant's messages there
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM outbox_outboxmessage")
        assert cursor.fetchone() == (0,)


@pytest.mark.django_db
def test_the_due_function_reveals_only_ids_of_due_messages(acme, globex, settings):
    due = write(acme)
    sent = write(globex)
    deliver(sent)
    settings.OUTBOX_TRANSPORT_BACKEND = f"{TRANSPORTS}.DownServer"
    retry_later = write(globex)
    deliver(retry_later)

    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM outbox_due_messages(100)")
        assert [column.name for column in cursor.description] == ["tenant_id", "id"]
        assert cursor.fetchall() == [(acme.tenant.pk, due.pk)]


@pytest.mark.django_db
def test_the_due_function_is_a_narrow_reviewed_security_definer():
    from django.conf import settings

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.prosecdef, pg_get_userbyid(p.proowner), p.proconfig, "
            "has_function_privilege(%s, p.oid, 'EXECUTE'), p.proacl::text[] "
            "FROM pg_proc p WHERE p.proname = 'outbox_due_messages'",
            [settings.DATABASE_APP_ROLE],
        )
        [(definer, owner, config, app_may_run, acl)] = cursor.fetchall()
    assert definer and owner != settings.DATABASE_APP_ROLE
    assert config == ["search_path=public, pg_temp"]
    assert app_may_run
    assert not any(entry.startswith("=") for entry in acl)  # PUBLIC may not run it


@pytest.mark.django_db
def test_purge_removes_sent_mail_older_than_30_days_and_keeps_the_rest(acme, globex, settings):
    old, recent, other_tenant_old = write(acme), write(acme), write(globex)
    settings.OUTBOX_TRANSPORT_BACKEND = f"{TRANSPORTS}.DownServer"
    settings.OUTBOX_MAX_ATTEMPTS = 1
    dead = write(acme)
    deliver(dead)
    settings.OUTBOX_TRANSPORT_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    system_old = enqueue_email(to="someone@example.com", subject="Reset", body="…")
    deliver_pending()
    long_ago = timezone.now() - timedelta(days=31)
    for company, message in ((acme, old), (globex, other_tenant_old), (acme, dead)):
        with tenant_context(company.tenant):
            OutboxMessage.objects.filter(pk=message.pk).update(sent_at=long_ago, created_at=long_ago)
    SystemMessage.objects.filter(pk=system_old.pk).update(sent_at=long_ago)

    assert services.purge_sent() == 3
    with tenant_context(acme.tenant):
        assert set(OutboxMessage.objects.values_list("pk", flat=True)) == {recent.pk, dead.pk}
    with tenant_context(globex.tenant):
        assert not OutboxMessage.objects.exists()
    assert not SystemMessage.objects.exists()


@pytest.mark.django_db
def test_deliver_refuses_to_send_inside_a_callers_transaction(acme):
    """A send inside a transaction that then rolls back would mail about nothing (and resend it)."""
    message = write(acme)
    with pytest.raises(RuntimeError, match="durable"), transaction.atomic():
        deliver(message)
    assert mail.outbox == []


@pytest.mark.django_db
def test_the_function_sees_unsent_messages_through_an_owner_only_read_policy():
    """The owner is under FORCEd RLS too; its extra policy must never reach the application role."""
    from django.conf import settings

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT policyname, roles::text[], cmd FROM pg_policies WHERE tablename = 'outbox_outboxmessage' "
            "ORDER BY policyname"
        )
        policies = {name: (roles, cmd) for name, roles, cmd in cursor.fetchall()}
        cursor.execute("SELECT pg_get_userbyid(proowner) FROM pg_proc WHERE proname = 'outbox_due_messages'")
        [(owner,)] = cursor.fetchall()
    assert set(policies) == {"tenant_isolation", "outbox_relay_due"}
    assert policies["outbox_relay_due"] == ([owner], "SELECT")
    assert owner not in (settings.DATABASE_APP_ROLE, "public")
