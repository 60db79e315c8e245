"""The Celery app, its tenant-aware base task, and the beat schedule (in code, not the DB)."""

import os

from celery import Celery, Task
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings.dev")

app = Celery("crm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(lambda: ["crm.outbox", "crm.audit", "crm.tenancy", "contacts"])


class TenantTask(Task):
    """A task that runs inside one tenant.

    Tasks take `tenant_id` (and object ids, never objects) as keyword arguments and refuse to run
    without it. The body runs in a transaction with the tenant entered, so every query is scoped
    by RLS. acks_late + idempotent bodies: a task may run twice after a worker crash, never zero
    times.

    `atomic = False` is for the rare task that must commit in steps (the outbox commits its claim
    before it talks to the mail server, so no transaction stays open during a slow send): the
    tenant is still required and must exist, and the body enters tenant_context() for each of its
    transactions itself.
    """

    abstract = True
    acks_late = True
    atomic = True

    def __call__(self, *args, **kwargs):
        from django.core.exceptions import ValidationError
        from django.db import models

        from crm.tenancy.context import NoTenantError, tenant_context
        from crm.tenancy.models import Tenant

        tenant_id = kwargs.get("tenant_id")
        if not tenant_id:
            raise NoTenantError(f"{self.name} needs tenant_id (a keyword argument); it will not run without one")
        if any(isinstance(value, models.Model) for value in (*args, *kwargs.values())):
            raise TypeError(f"{self.name} takes ids, not model instances (they go stale in the queue)")
        try:
            tenant = Tenant.objects.filter(pk=tenant_id).first()
        except ValidationError:
            tenant = None
        if tenant is None:
            raise NoTenantError(f"{self.name}: there is no tenant {tenant_id!r}")
        if not self.atomic:
            return super().__call__(*args, **kwargs)
        with tenant_context(tenant):
            return super().__call__(*args, **kwargs)


app.conf.beat_schedule = {
    # the outbox relay: picks up messages whose send was not triggered on commit (crash, retry)
    "outbox-relay": {"task": "crm.outbox.tasks.relay", "schedule": 15.0},
    "outbox-purge-sent": {"task": "crm.outbox.tasks.purge_sent", "schedule": crontab(hour=3, minute=15)},
    # task reminders: per tenant with reminders due, mail the owners through the outbox (contacts/tasks.py)
    "task-reminders": {"task": "contacts.tasks.dispatch_task_reminders", "schedule": 60.0},
    # export files expire after a day (crm/lists/exports.py); the download view refuses them sooner
    "exports-purge": {"task": "crm.lists.tasks.purge_expired_exports", "schedule": crontab(minute=25)},
    # per tenant: recently viewed beyond what the view shows, trash batches a day after they expired
    "lists-purge": {"task": "crm.lists.tasks.purge_all_tenants", "schedule": crontab(hour=3, minute=40)},
    # import uploads, spools and error files: removed 7 days after the import ended (the jobs stay)
    "imports-purge-files": {"task": "crm.imports.tasks.purge_import_files", "schedule": crontab(hour=3, minute=50)},
}
