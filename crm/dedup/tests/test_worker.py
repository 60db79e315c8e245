"""The real thing: "Scan now" queues the job and a real Celery worker scans the company."""

import time

import pytest

from crm.dedup.models import DuplicateCandidate, DuplicateScan
from crm.tenancy.context import tenant_context

from .makers import contact

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_scan_now_runs_in_a_worker_and_fills_the_queue(acme, client_as, celery_worker):
    with tenant_context(acme.tenant):
        ann = contact(acme.rep, "Lee", "Ann", emails=["ann@initech.example"])
        anne = contact(acme.rep, "Lee", "Anne", emails=["ann@initech.example"])
    client = client_as(acme.admin)
    assert client.post("/duplicates/scan/").status_code == 302
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with tenant_context(acme.tenant):
            scan = DuplicateScan.objects.for_tenant(acme.tenant).get()
        if scan.status in ("done", "failed"):
            break
        time.sleep(0.2)
    assert scan.status == "done", celery_worker.log()[-3000:]
    assert scan.pairs_found == 1
    with tenant_context(acme.tenant):
        pair = DuplicateCandidate.objects.for_tenant(acme.tenant).get()
    assert {pair.record_a, pair.record_b} == {ann.pk, anne.pk} and pair.rule == "same_email"
    assert "Last scan" in client.get("/duplicates/scan/status/").content.decode()
