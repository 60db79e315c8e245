"""Outbox tasks: thin, every one safe to run twice (the claim in services.py makes them idempotent).

deliver / deliver_system are queued on commit of the transaction that wrote the message; relay and
purge_sent run from the beat schedule in crm/celery.py. relay and purge_sent are platform tasks
that work across tenants, so they take no tenant_id: they enter each tenant themselves, and every
read and write of tenant data still happens inside that tenant, under RLS.
"""

from __future__ import annotations

from crm.celery import TenantTask, app

from . import services


@app.task(base=TenantTask, name="crm.outbox.tasks.deliver", acks_late=True, atomic=False)
def deliver(*, tenant_id: str, message_id: str) -> str:
    """Send one tenant message (its claim and its "sent" mark are separate transactions in the tenant)."""
    return services.deliver_tenant_message(tenant=tenant_id, message_id=message_id).value


@app.task(name="crm.outbox.tasks.deliver_system", acks_late=True)
def deliver_system(*, message_id: str) -> str:
    """Send one system message (password reset and the like: mail that belongs to no tenant)."""
    return services.deliver_system_message(message_id=message_id).value


@app.task(name="crm.outbox.tasks.relay", acks_late=True, ignore_result=True)
def relay() -> int:
    """Every 15 s: send whatever is due (queued delivery lost, retries, leases of dead workers).
    Bounded in time so runs do not pile up; overlapping runs are safe (SKIP LOCKED)."""
    return services.deliver_pending(max_seconds=60)


@app.task(name="crm.outbox.tasks.purge_sent", acks_late=True, ignore_result=True)
def purge_sent() -> int:
    """Nightly: delete sent messages older than 30 days."""
    return services.purge_sent()
