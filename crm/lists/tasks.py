"""The export job and the lists' purge jobs.

Export: thin, enters the tenant (TenantTask) and writes the file. The task runs in one transaction
(a consistent snapshot of the list), so its row count is published through the tenant cache as it
goes (`export:<job id>:done`), which the job's page and API read; the job row itself is updated
when the file is ready.

Purge (nightly, beat entry "lists-purge" in crm/celery.py): `purge_all_tenants` walks the tenants
(a global table) and queues one `purge_tenant` per tenant, which enters that tenant (TenantTask:
one transaction, RLS on) and
- keeps each person's newest RECENT_LIMIT recently viewed records per object, deleting the rest.
  Chosen over "viewed in the last 90 days": the "Recently viewed" view reads exactly the newest
  RECENT_LIMIT rows per person and object (crm/lists/selectors.py), so rows beyond them are never
  shown and the purge changes nothing anyone sees, while an age limit would empty the view of
  someone who has not opened a record for three months (and keep thousands of unread rows of
  someone who opens hundreds a day). The table stays bounded by members x objects x RECENT_LIMIT.
- deletes trash batches (what a bulk delete removed, kept for undo for an hour) a day after they
  expired: after that they are dead copies of deleted customer data (undo refuses them already;
  the extra day keeps the "too late to undo" answer for a late click instead of a 404).
"""

from __future__ import annotations

import datetime as dt
import os
import uuid

from django.db import connection, transaction
from django.utils import timezone

from crm.celery import TenantTask, app
from crm.tenancy.cache import tenant_cache
from crm.tenancy.models import Tenant

from . import exports, registry, selectors
from .models import ExportJob, TrashBatch

TRASH_KEPT_AFTER_EXPIRY = dt.timedelta(days=1)


def progress_key(job_id) -> str:
    return f"export:{job_id}:done"


@app.task(base=TenantTask, name="crm.lists.tasks.run_export", acks_late=True)
def run_export(*, tenant_id: str, job_id: str) -> int:
    job = ExportJob.objects.filter(tenant_id=tenant_id, pk=uuid.UUID(job_id)).select_related("requester").first()
    if job is None or job.status == ExportJob.Status.DONE:
        return 0  # gone, or a second delivery of a finished job (acks_late)
    actor = job.requester
    if not actor.is_active:
        job.status, job.error = ExportJob.Status.FAILED, "The requester is no longer a member."
        job.save(update_fields=["status", "error", "updated_at"])
        return 0
    definition = registry.get(job.object)
    state = selectors.resolve(actor, definition, job.params, columns=job.columns or None)
    state.sort = registry.sort_for(actor, definition, job.sort)  # never a hidden field's order
    name = f"{tenant_id}/{job.pk}.{job.format}"
    store = exports.storage()
    path = store.path(name)
    os.makedirs(os.path.dirname(path), exist_ok=True)

    def progress(done):
        tenant_cache.set(progress_key(job.pk), done, timeout=3600)

    try:
        # a savepoint: a database error while reading rolls back to here, and the job can still
        # be marked failed in the task's transaction
        with transaction.atomic(), open(path, "wb") as target:
            writer = exports.write_xlsx if job.format == "xlsx" else exports.write_csv
            done = writer(state, target, progress=progress)
    except Exception as exc:  # recorded on the job (the person sees why), not retried forever
        job.status, job.error = ExportJob.Status.FAILED, f"The export failed: {type(exc).__name__}."[:300]
        job.save(update_fields=["status", "error", "updated_at"])
        return 0
    job.status = ExportJob.Status.DONE
    job.rows_done = done
    job.file_name = name
    job.finished_at = timezone.now()
    job.expires_at = job.finished_at + exports.KEEP_FOR
    job.save(update_fields=["status", "rows_done", "file_name", "finished_at", "expires_at", "updated_at"])
    return done


@app.task(name="crm.lists.tasks.purge_expired_exports", acks_late=True, ignore_result=True)
def purge_expired_exports() -> int:
    """Delete export files older than exports.KEEP_FOR (+1 h). Files only, no tenant data is read:
    the download view refuses expired jobs anyway. Meant for the beat schedule (hourly)."""
    import time

    root = exports.storage().location
    cutoff = time.time() - exports.KEEP_FOR.total_seconds() - 3600
    removed = 0
    for folder, _dirs, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            try:
                if os.path.getmtime(path) < cutoff:
                    os.remove(path)
                    removed += 1
            except OSError:
                continue
    return removed


def recent_views_purge(tenant_id, *, keep: int = selectors.RECENT_LIMIT) -> int:
    """Delete the recently-viewed rows beyond each person's newest `keep` per object, in the
    current tenant context. The window's order is that of recentview_latest_idx (tenant,
    membership, object, -viewed_at), so the planner can read the index instead of sorting."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            DELETE FROM lists_recentview r
             USING (SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY membership_id, object
                                                                  ORDER BY viewed_at DESC) AS n
                                      FROM lists_recentview WHERE tenant_id = %s) ranked
                     WHERE n > %s) old
             WHERE r.tenant_id = %s AND r.id = old.id
            """,
            [tenant_id, keep, tenant_id],
        )
        return cursor.rowcount


def trash_purge(tenant_id, *, now=None) -> int:
    """Delete trash batches that expired more than TRASH_KEPT_AFTER_EXPIRY ago (restored or not)."""
    now = now or timezone.now()
    deleted, _ = TrashBatch.objects.filter(tenant_id=tenant_id, expires_at__lt=now - TRASH_KEPT_AFTER_EXPIRY).delete()
    return deleted


@app.task(base=TenantTask, name="crm.lists.tasks.purge_tenant", acks_late=True, ignore_result=True)
def purge_tenant(*, tenant_id: str) -> dict:
    """One tenant's purge (idempotent: a second run finds nothing more to delete)."""
    return {"recent_views": recent_views_purge(tenant_id), "trash_batches": trash_purge(tenant_id)}


@app.task(name="crm.lists.tasks.purge_all_tenants", acks_late=True, ignore_result=True)
def purge_all_tenants() -> int:
    """Nightly (beat): one purge_tenant job per tenant."""
    n = 0
    for tenant_id in Tenant.objects.order_by("id").values_list("id", flat=True).iterator():
        purge_tenant.delay(tenant_id=str(tenant_id))
        n += 1
    return n
