"""A large file checked by a real Celery worker: its parse helpers start inside the worker, and the
errors they find come back with the right lines and columns."""

import pytest

from .conftest import csv_file
from .test_worker import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_worker_checks_a_large_file_with_helper_processes(api, acme, celery_worker):
    rows = [f"P{i},p{i}@x.example" for i in range(25_000)]
    rows[24_000] = "Bad,p24000@"  # line 24,002: parsed by a helper (past the first 20,000 rows)
    rows[24_500] = ",p24500@x.example"
    rows[24_900] = "Twice,p3@x.example"
    response = api.as_(acme.rep).post("/api/v1/imports/", {
        "object": "contacts", "file": csv_file("Last name,Email\n" + "\n".join(rows) + "\n"), "mode": "dry_run",
    }, format="multipart")
    assert response.status_code == 201
    job = wait_for(acme, response.json()["id"], {"validated", "failed"}, timeout=180)
    assert (job.status, job.rows, job.invalid) == ("validated", 25_000, 3), celery_worker.log()[-3000:]
    assert job.errors == [
        {"line": 24_002, "column": "Email", "message": "“p24000@” is not an email address."},
        {"line": 24_502, "column": "Last name", "message": "Last name is required: this cell is empty."},
        {"line": 24_902, "column": "Email", "message": "Duplicate in this file: line 5 has the same email address."},
    ]
    assert "parse helper process(es) started" in celery_worker.log()
