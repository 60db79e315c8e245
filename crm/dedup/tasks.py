"""The duplicate scan as Celery jobs: nightly for every tenant (beat), and on demand ("Scan now").

`scan_tenant` commits in steps (TenantTask.atomic = False) so the queue page can show "running"
while it works: the claim, the scan and its result are three short transactions, each inside
the tenant's context. The scan itself is one transaction: a crash leaves the previous candidates
as they were, and the run marked failed. Idempotent: running it twice finds the same pairs.
"""

from __future__ import annotations

from celery.schedules import crontab
from django.utils import timezone

from crm.celery import TenantTask, app
from crm.tenancy.context import tenant_context
from crm.tenancy.models import Tenant

from . import scan
from .models import DuplicateScan


def _set(tenant, scan_id, **values) -> None:
    with tenant_context(tenant):
        DuplicateScan.objects.for_tenant(tenant).filter(pk=scan_id).update(**values, updated_at=timezone.now())


def run_scan(tenant, scan_id=None) -> dict:
    """The body of the job, callable from tests and commands."""
    if scan_id is None:
        with tenant_context(tenant):
            scan_id = DuplicateScan.objects.create(tenant=tenant).pk
    _set(tenant, scan_id, status=DuplicateScan.Status.RUNNING, started_at=timezone.now())
    try:
        with tenant_context(tenant):
            result = scan.scan_tenant(tenant.pk)
    except Exception as exc:
        _set(tenant, scan_id, status=DuplicateScan.Status.FAILED, finished_at=timezone.now(), error=str(exc)[:300])
        raise
    _set(tenant, scan_id, status=DuplicateScan.Status.DONE, finished_at=timezone.now(),
         records_seen=sum(seen for seen, _ in result.values()), pairs_found=sum(n for _, n in result.values()))
    return {k: {"records": seen, "pairs": n} for k, (seen, n) in result.items()}


class SteppedTenantTask(TenantTask):
    abstract = True
    atomic = False


@app.task(base=SteppedTenantTask, name="crm.dedup.tasks.scan_tenant", acks_late=True)
def scan_tenant(*, tenant_id: str, scan_id: str | None = None) -> dict:
    return run_scan(Tenant.objects.get(pk=tenant_id), scan_id)


@app.task(name="crm.dedup.tasks.scan_all_tenants", acks_late=True, ignore_result=True)
def scan_all_tenants() -> int:
    """Nightly (beat): one scan job per tenant."""
    n = 0
    for tenant_id in Tenant.objects.order_by("id").values_list("id", flat=True).iterator():
        scan_tenant.delay(tenant_id=str(tenant_id))
        n += 1
    return n


app.conf.beat_schedule.setdefault(
    "dedup-nightly-scan", {"task": "crm.dedup.tasks.scan_all_tenants", "schedule": crontab(hour=2, minute=30)},
)
