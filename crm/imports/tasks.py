"""The import's Celery tasks: thin, tenant id + job id in, the services do the work.

Both are `atomic = False`: the check commits its progress in small steps, and the run opens its
own single write transaction (services.job_run), with progress reported beside it. acks_late:
a task redelivered after a worker died runs again; job_run's advisory lock and status check make
the second run wait for the first and then do nothing, and a run that died wrote nothing.
"""

from __future__ import annotations

from crm.celery import TenantTask, app
from crm.tenancy.models import Tenant

from . import services


@app.task(base=TenantTask, bind=True, atomic=False, name="crm.imports.tasks.validate_import")
def validate_import(self, *, tenant_id: str, job_id: str, then_run: bool = False) -> None:
    tenant = Tenant.objects.get(pk=tenant_id)
    services.job_validate(job_id=job_id, tenant=tenant)
    if then_run:
        services.job_run(job_id=job_id, tenant=tenant)


@app.task(base=TenantTask, bind=True, atomic=False, name="crm.imports.tasks.run_import")
def run_import(self, *, tenant_id: str, job_id: str) -> None:
    services.job_run(job_id=job_id, tenant=Tenant.objects.get(pk=tenant_id))


@app.task(name="crm.imports.tasks.purge_import_files", acks_late=True, ignore_result=True)
def purge_import_files() -> int:
    """Remove the files of imports that ended more than services.FILES_KEPT_FOR ago (all tenants;
    each tenant's jobs are read in its own tenant context). For the beat schedule, daily."""
    return services.import_files_purge()
