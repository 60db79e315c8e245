"""The real thing: the API queues the job, a real Celery worker checks and writes it."""

import time

import pytest

from contacts.models import Contact
from crm.imports.models import ImportJob
from crm.tenancy.context import tenant_context

from .conftest import csv_file

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def wait_for(acme, job_id, statuses, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with tenant_context(acme.tenant):
            job = ImportJob.objects.for_tenant(acme.tenant).get(pk=job_id)
        if job.status in statuses:
            return job
        time.sleep(0.2)
    raise AssertionError(f"the job is still {job.status}")


def test_a_worker_checks_and_writes_an_import_and_rejects_a_bad_one(api, acme, celery_worker):
    client = api.as_(acme.rep)
    good = "Last name,Email\n" + "".join(f"P{i},p{i}@x.example\n" for i in range(300))
    response = client.post("/api/v1/imports/", {"object": "contacts", "file": csv_file(good),
                                                "mode": "all_or_nothing"}, format="multipart")
    assert response.status_code == 201
    job = wait_for(acme, response.json()["id"], {"done", "failed"})
    assert (job.status, job.created, job.processed) == ("done", 300, 300), celery_worker.log()[-3000:]

    bad = "Last name,Email\nA,a@x.example\nB,b@\n"
    response = client.post("/api/v1/imports/", {"object": "contacts", "file": csv_file(bad),
                                                "mode": "all_or_nothing"}, format="multipart")
    job = wait_for(acme, response.json()["id"], {"done", "failed"})
    assert job.status == "failed" and job.created == 0
    body = client.get(f"/api/v1/imports/{job.pk}/").json()
    assert body["errors"] == [{"line": 3, "column": "Email", "message": "“b@” is not an email address."}]
    with tenant_context(acme.tenant):
        assert Contact.objects.for_tenant(acme.tenant).count() == 300
