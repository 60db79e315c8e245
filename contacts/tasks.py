"""Task reminders, mailed through the outbox by a beat job.

How the job finds the tenants with due reminders: it walks the tenants (a global table, no RLS)
and asks each one, inside its own tenant context, whether any reminder is due: one probe of
activity_reminder_idx (tenant, status, remind_at) under RLS, well under a millisecond. We chose
this over a second SECURITY DEFINER function like the outbox relay's (which must find work within
15 s across every tenant and so cannot afford a walk): reminders run once a minute, a walk over
thousands of tenants costs a fraction of that minute, and every read stays under RLS with nothing
new for the catalog test to review. When the tenant count makes the walk too slow, the outbox's
pattern (crm/outbox/migrations/0002_due_messages_function.py) is the way up: a reviewed function
returning only the tenant ids.

The per-tenant task takes the tenant id only, enters the tenant (TenantTask) and calls the
service, which sends and stamps each reminder in one transaction (once, also when runs overlap).
"""

from __future__ import annotations

from django.utils import timezone

from crm.celery import TenantTask, app
from crm.tenancy.context import tenant_context
from crm.tenancy.models import Tenant

from . import services


def tenants_with_due_reminders(now=None) -> list[str]:
    """Ids of tenants with at least one due, unsent reminder (each checked inside its own tenant)."""
    now = now or timezone.now()
    due = []
    for tenant in Tenant.objects.order_by("id").iterator():
        with tenant_context(tenant):
            if services.due_reminders_query(tenant.pk, now).exists():
                due.append(str(tenant.pk))
    return due


@app.task(name="contacts.tasks.dispatch_task_reminders", acks_late=True, ignore_result=True)
def dispatch_task_reminders() -> int:
    """Every minute (beat): queue one send_task_reminders per tenant that has reminders due."""
    tenant_ids = tenants_with_due_reminders()
    for tenant_id in tenant_ids:
        send_task_reminders.delay(tenant_id=tenant_id)
    return len(tenant_ids)


@app.task(base=TenantTask, name="contacts.tasks.send_task_reminders", acks_late=True)
def send_task_reminders(*, tenant_id: str) -> int:
    """Mail the owners of this tenant's due tasks (idempotent: reminded_at is set with the mail)."""
    return services.task_reminders_send(tenant_id=tenant_id)
