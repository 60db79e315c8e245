"""Tasks run inside one tenant, refuse to run without one, and the beat schedule names real tasks."""

import pytest
from celery.schedules import crontab
from django.core import mail
from django.db import connection

from crm.celery import TenantTask, app
from crm.outbox import tasks
from crm.outbox.models import OutboxMessage, Status
from crm.outbox.services import enqueue_email
from crm.tenancy.context import NoTenantError, current_tenant, tenant_context

pytestmark = pytest.mark.django_db


@app.task(base=TenantTask, name="crm.outbox.tests.probe")
def probe(*, tenant_id, fail=False):
    """What a task body sees of its tenant."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('app.tenant_id', true)")
        setting = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM tenancy_membership")
        members_seen = cursor.fetchone()[0]
    enqueue_email(to="buyer@customer.example", subject="From a task", body="…")
    if fail:
        raise RuntimeError("the task failed after writing")
    return {"tenant": str(current_tenant().pk), "setting": setting, "members_seen": members_seen}


@pytest.mark.parametrize("kwargs", [{}, {"tenant_id": None}, {"tenant_id": ""}])
def test_a_tenant_task_refuses_to_run_without_a_tenant(kwargs, acme):
    with pytest.raises(NoTenantError):
        probe.apply(kwargs=kwargs).get()
    with tenant_context(acme.tenant):
        assert not OutboxMessage.objects.exists()  # the body never ran


def test_a_tenant_task_refuses_a_tenant_that_does_not_exist(db):
    with pytest.raises(NoTenantError):
        probe.apply(kwargs={"tenant_id": "01890000-0000-7000-8000-000000000000"}).get()
    with pytest.raises(NoTenantError):
        probe.apply(kwargs={"tenant_id": "not-a-uuid"}).get()


def test_a_tenant_task_takes_ids_not_objects(acme):
    with pytest.raises(TypeError, match="ids, not model instances"):
        probe.apply(kwargs={"tenant_id": str(acme.tenant.pk), "fail": acme.tenant}).get()


def test_a_tenant_task_runs_inside_its_tenant_under_rls(acme, globex):
    seen = probe.apply(kwargs={"tenant_id": str(acme.tenant.pk)}).get()
    assert seen == {"tenant": str(acme.tenant.pk), "setting": str(acme.tenant.pk), "members_seen": 5}
    with tenant_context(acme.tenant):
        assert OutboxMessage.objects.count() == 1  # written in acme, by the tenant context alone
    assert current_tenant() is None  # and the tenant does not leak out of the task


def test_a_failed_tenant_task_leaves_nothing_behind(acme):
    with pytest.raises(RuntimeError):
        probe.apply(kwargs={"tenant_id": str(acme.tenant.pk), "fail": True}).get()
    with tenant_context(acme.tenant):
        assert not OutboxMessage.objects.exists()


def test_outbox_tasks_are_late_acknowledged():
    """A worker that dies mid-task leaves the task on the queue for another worker."""
    for task in (tasks.deliver, tasks.deliver_system, tasks.relay, tasks.purge_sent):
        assert task.acks_late


def test_the_deliver_task_sends_a_tenant_message_once(acme):
    with tenant_context(acme.tenant):
        message = enqueue_email(to="buyer@customer.example", subject="Order confirmed", body="…")
    kwargs = {"tenant_id": str(acme.tenant.pk), "message_id": str(message.pk)}
    assert tasks.deliver.apply(kwargs=kwargs).get() == "sent"
    assert tasks.deliver.apply(kwargs=kwargs).get() == "skipped"  # a redelivered task is harmless
    assert len(mail.outbox) == 1


def test_the_deliver_task_will_not_send_another_tenants_message(acme, globex):
    with tenant_context(acme.tenant):
        message = enqueue_email(to="buyer@customer.example", subject="Order confirmed", body="…")
    kwargs = {"tenant_id": str(globex.tenant.pk), "message_id": str(message.pk)}
    assert tasks.deliver.apply(kwargs=kwargs).get() == "skipped"
    assert mail.outbox == []
    with tenant_context(acme.tenant):
        assert OutboxMessage.objects.get().status == Status.PENDING


def test_the_system_deliver_task_and_the_relay_send_what_is_due(acme):
    system = enqueue_email(to="someone@example.com", subject="Reset your password", body="…")
    with tenant_context(acme.tenant):
        enqueue_email(to="buyer@customer.example", subject="Order confirmed", body="…")
    assert tasks.deliver_system.apply(kwargs={"message_id": str(system.pk)}).get() == "sent"
    assert tasks.relay.apply().get() == 1
    assert {m.subject for m in mail.outbox} == {"Reset your password", "Order confirmed"}


def test_beat_runs_the_relay_every_15_seconds_and_the_purge_nightly():
    schedule = app.conf.beat_schedule
    relay, purge = schedule["outbox-relay"], schedule["outbox-purge-sent"]
    assert relay["task"] == tasks.relay.name and relay["schedule"] == 15.0
    assert purge["task"] == tasks.purge_sent.name and isinstance(purge["schedule"], crontab)
    for entry in schedule.values():
        assert entry["task"] in app.tasks, f"beat would schedule a task nobody runs: {entry['task']}"
