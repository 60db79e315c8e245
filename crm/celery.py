"""The Celery app, its tenant-aware base task, and the beat schedule (in code, not the DB)."""

import os

from celery import Celery, Task
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings.dev")

app = Celery("crm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(lambda: ["crm.outbox", "crm.audit", "crm.tenancy"])


class TenantTask(Task):
    """A task that runs inside one tenant.

    Tasks take `tenant_id` (and object ids, never objects) and refuse to run without it. The
    body runs in a transaction with the tenant entered, so every query is scoped by RLS.
    acks_late + idempotent bodies: a task may run twice after a worker crash, never zero times.
    """

    abstract = True
    acks_late = True

    def __call__(self, *args, **kwargs):
        from crm.tenancy.context import NoTenantError, tenant_context
        from crm.tenancy.models import Tenant

        tenant_id = kwargs.get("tenant_id")
        if not tenant_id:
            raise NoTenantError(f"{self.name} needs tenant_id")
        tenant = Tenant.objects.get(pk=tenant_id)
        with tenant_context(tenant):
            return super().__call__(*args, **kwargs)


app.conf.beat_schedule = {
    # the outbox relay: picks up messages whose send was not triggered on commit (crash, retry)
    "outbox-relay": {"task": "crm.outbox.tasks.relay", "schedule": 15.0},
    "outbox-purge-sent": {"task": "crm.outbox.tasks.purge_sent", "schedule": crontab(hour=3, minute=15)},
}
