"""POST /api/v1/imports/ and GET /api/v1/imports/{id}/ (+ errors.csv)."""

import json

import pytest

from crm.imports import services
from crm.imports.models import ImportJob

from .conftest import csv_file

BAD = "Last name,Email\nEk,ek@x.example\nRy,ry@\n"


def post(client, **data):
    return client.post("/api/v1/imports/", data, format="multipart")


def test_posting_a_file_creates_a_job_that_is_checked_after_commit(api, acme, django_capture_on_commit_callbacks):
    client = api.as_(acme.rep)
    with django_capture_on_commit_callbacks() as callbacks:
        response = post(client, object="contacts", file=csv_file(BAD), mode="all_or_nothing",
                        mapping=json.dumps({"Last name": "last_name", "Email": "email"}))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["status"], body["object"], body["mode"]) == ("validating", "contacts", "all_or_nothing")
    assert body["mapping"] == {"Last name": "last_name", "Email": "email"}
    assert len(callbacks) == 1  # the Celery task is queued only once the job is committed


def test_the_job_reports_errors_by_line_and_column(api, acme, run_import):
    job = run_import(acme.rep, "contacts", csv_file(BAD))
    response = api.as_(acme.rep).get(f"/api/v1/imports/{job.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "failed"
    assert (body["rows"], body["valid"], body["invalid"], body["created"], body["progress"]) == (2, 1, 1, 0, 100)
    assert body["errors"] == [{"line": 3, "column": "Email", "message": "“ry@” is not an email address."}]
    csv_response = api.as_(acme.rep).get(f"/api/v1/imports/{job.pk}/errors.csv")
    assert csv_response.status_code == 200
    content = b"".join(csv_response.streaming_content).decode("utf-8-sig")
    assert content.splitlines()[1] == "3,Email: “ry@” is not an email address.,Ry,ry@"


@pytest.mark.parametrize(("data", "field"), [
    ({"object": "contacts"}, "file"),
    ({"object": "unicorns", "file": True}, "object"),
    ({"object": "contacts", "file": True, "mode": "sometimes"}, "mode"),
    ({"object": "contacts", "file": True, "mapping": "{not json"}, "mapping"),
    ({"object": "contacts", "file": True, "mapping": json.dumps({"Nope": "email"})}, "mapping"),
    ({"object": "contacts", "file": True, "mapping": json.dumps({"Email": "shoe_size"})}, "mapping"),
    ({"object": "contacts", "file": True, "mapping": json.dumps({"Email": "email"})}, "mapping"),  # no last name
])
def test_a_bad_request_is_a_400_with_field_errors(api, acme, data, field):
    if data.pop("file", None):
        data["file"] = csv_file(BAD)
    response = post(api.as_(acme.rep), **data)
    assert response.status_code == 400, response.content
    assert field in json.dumps(response.json())


def test_another_companys_job_and_its_errors_are_not_found(api, acme, globex, run_import):
    job = run_import(acme.rep, "contacts", csv_file(BAD))
    client = api.as_(globex.admin)
    assert client.get(f"/api/v1/imports/{job.pk}/").status_code == 404
    assert client.get(f"/api/v1/imports/{job.pk}/errors.csv").status_code == 404
    assert client.get("/api/v1/imports/").json()["results"] == []


def test_colleagues_do_not_see_each_others_imports_but_admins_and_managers_do(api, acme, run_import):
    job = run_import(acme.rep, "contacts", csv_file(BAD))
    assert api.as_(acme.rep2).get(f"/api/v1/imports/{job.pk}/").status_code == 404
    assert api.as_(acme.manager).get(f"/api/v1/imports/{job.pk}/").status_code == 200
    assert api.as_(acme.admin).get(f"/api/v1/imports/{job.pk}/").status_code == 200


def test_the_schema_describes_imports_with_examples(client, db):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert {"/api/v1/imports/", "/api/v1/imports/{id}/", "/api/v1/imports/{id}/errors.csv"} <= set(schema["paths"])
    post_op = schema["paths"]["/api/v1/imports/"]["post"]
    assert "multipart/form-data" in post_op["requestBody"]["content"]
    assert post_op["requestBody"]["content"]["multipart/form-data"].get("examples")
    detail = schema["paths"]["/api/v1/imports/{id}/"]["get"]["responses"]["200"]["content"]["application/json"]
    assert detail.get("examples")


def test_only_the_uploader_may_run_a_job(acme, run_import, in_tenant):
    from django.core.exceptions import PermissionDenied

    job = run_import(acme.rep, "contacts", csv_file(BAD), mode="dry_run")
    with in_tenant(acme), pytest.raises(PermissionDenied):
        services.job_start(actor=acme.admin, job=ImportJob.objects.get(pk=job.pk), mode="valid_rows", validate=False)
