"""The export job: thin, enters the tenant (TenantTask) and writes the file.

Progress: the task runs in one transaction (a consistent snapshot of the list), so its row count
is published through the tenant cache as it goes (`export:<job id>:done`), which the job's page
and API read; the job row itself is updated when the file is ready.
"""

from __future__ import annotations

import os
import uuid

from django.utils import timezone

from crm.celery import TenantTask, app
from crm.tenancy.cache import tenant_cache

from . import exports, registry, selectors
from .models import ExportJob


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
    state.sort = definition.sort(job.sort)
    name = f"{tenant_id}/{job.pk}.{job.format}"
    store = exports.storage()
    path = store.path(name)
    os.makedirs(os.path.dirname(path), exist_ok=True)

    def progress(done):
        tenant_cache.set(progress_key(job.pk), done, timeout=3600)

    try:
        with open(path, "wb") as target:
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
