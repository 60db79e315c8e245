"""Exports of list views: the shown columns (custom ones too), visibility, formula neutralising,
direct download for small lists, a background job for large ones, and the API."""

import csv
import io

import pytest
from openpyxl import load_workbook

from crm.lists import exports
from crm.lists.models import ExportJob
from crm.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db


def read_csv(response) -> list[list[str]]:
    body = response.content.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


def test_csv_export_has_the_views_columns_and_only_visible_rows(client_as, acme, custom_fields, make_account):
    make_account(name="Mine EMEA", custom={"region": "EMEA", "budget": 1500})
    make_account(name="Mine APAC", custom={"region": "APAC"})
    make_account(name="Colleague EMEA", owner=acme.rep2, custom={"region": "EMEA"})
    client = client_as(acme.rep)
    client.post("/lists/accounts/columns/", {"columns": ["cf_region", "cf_budget", "owner"]})
    response = client.get("/lists/accounts/export/?format=csv&cf_region=EMEA")
    assert response["Content-Disposition"].startswith('attachment; filename="accounts-')
    rows = read_csv(response)
    assert rows == [["Name", "Region", "Budget", "Owner"], ["Mine EMEA", "EMEA", "1500", "Acme Rep"]]


def test_cells_that_look_like_formulas_are_neutralised_but_numbers_stay_numbers(client_as, acme, custom_fields,
                                                                              make_account):
    make_account(name="=HYPERLINK(\"http://evil\",\"x\")", custom={"code": "+1 555", "budget": -12})
    make_account(name="@SUM(A1)", custom={"code": "-2+3"})
    make_account(name="\tTabbed", phone="")
    client = client_as(acme.rep)
    client.post("/lists/accounts/columns/", {"columns": ["cf_code", "cf_budget"]})
    rows = read_csv(client.get("/lists/accounts/export/?format=csv"))
    body = {r[0]: r[1:] for r in rows[1:]}
    assert body["'=HYPERLINK(\"http://evil\",\"x\")"] == ["'+1 555", "-12"]
    assert body["'@SUM(A1)"] == ["'-2+3", ""]
    assert "'\tTabbed" in body

    workbook = load_workbook(io.BytesIO(client.get("/lists/accounts/export/?format=xlsx").content))
    sheet = list(workbook.active.iter_rows(values_only=True))
    assert sheet[0] == ("Name", "Code", "Budget")
    by_name = {r[0]: r[1:] for r in sheet[1:]}
    assert by_name["'=HYPERLINK(\"http://evil\",\"x\")"] == ("'+1 555", -12)  # a number, not text


def test_contacts_and_activities_export(client_as, acme):
    from contacts.tests.factories import ActivityFactory, ContactFactory

    ContactFactory(tenant=acme.tenant, owner=acme.rep, last_name="Visible", email="v@x.example")
    ContactFactory(tenant=acme.tenant, owner=acme.rep2, last_name="Hidden")
    ActivityFactory(tenant=acme.tenant, owner=acme.rep, subject="=cmd|' /C calc'!A0")
    client = client_as(acme.rep)
    contacts = read_csv(client.get("/lists/contacts/export/?format=csv"))
    assert [r[0] for r in contacts[1:]] == ["Visible, " + contacts[1][0].split(", ")[1]]
    activities = read_csv(client.get("/lists/activities/export/?format=csv"))
    assert activities[1][0] == "'=cmd|' /C calc'!A0"


def test_a_large_export_becomes_a_job_with_a_private_download(client_as, acme, make_account, monkeypatch):
    from crm.lists.tasks import run_export

    for i in range(5):
        make_account(name=f"Row {i}")
    monkeypatch.setattr(exports, "DIRECT_LIMIT", 3)
    client = client_as(acme.rep)
    response = client.get("/lists/accounts/export/?format=xlsx")
    with tenant_context(acme.tenant):
        job = ExportJob.objects.for_tenant(acme.tenant).get()
    assert response.status_code == 302 and response["Location"] == f"/exports/{job.pk}/"
    assert "Writing 0" in client.get(f"/exports/{job.pk}/").content.decode()
    run_export(tenant_id=str(acme.tenant.pk), job_id=str(job.pk))  # what the worker does
    page = client.get(f"/exports/{job.pk}/").content.decode()
    assert "5 rows" in page and "Download" in page
    download = client.get(f"/exports/{job.pk}/download/")
    sheet = list(load_workbook(io.BytesIO(b"".join(download.streaming_content))).active.iter_rows(values_only=True))
    assert [r[0] for r in sheet] == ["Name", *[f"Row {i}" for i in range(5)]]
    # the requester's alone
    assert client_as(acme.manager).get(f"/exports/{job.pk}/download/").status_code == 404


def test_the_export_api_queues_a_job_and_reports_it(api, acme, custom_fields, make_account):
    make_account(name="Api EMEA", custom={"region": "EMEA"})
    client = api.as_(acme.rep)
    bad = client.post("/api/v1/exports/", {"object": "accounts", "format": "pdf"}, format="json")
    assert bad.status_code == 400 and "format" in bad.json()["error"]["fields"]
    bad = client.post("/api/v1/exports/", {"object": "accounts", "format": "csv", "filters": {"cf_budget__gte": "x"}},
                      format="json")
    assert bad.status_code == 400 and "filters.cf_budget__gte" in bad.json()["error"]["fields"]
    created = client.post("/api/v1/exports/", {"object": "accounts", "format": "csv", "filters": {"cf_region": "EMEA"},
                                               "columns": ["name", "cf_region"]}, format="json")
    assert created.status_code == 201, created.json()
    job_id = created.json()["id"]
    assert created.json()["status"] == "queued" and created.json()["download_url"] is None
    from crm.lists.tasks import run_export

    run_export(tenant_id=str(acme.tenant.pk), job_id=job_id)
    detail = client.get(f"/api/v1/exports/{job_id}/").json()
    assert detail["status"] == "done" and detail["rows_done"] == 1
    file = client.get(detail["download_url"])
    body = b"".join(file.streaming_content).decode("utf-8-sig")
    assert body.splitlines() == ["Name,Region", "Api EMEA,EMEA"]
    assert api.as_(acme.rep2).get(f"/api/v1/exports/{job_id}/").status_code == 404


def test_the_views_api_lists_built_in_and_visible_saved_views(api, acme):
    from crm.lists import services

    with tenant_context(acme.tenant):
        services.view_create(actor=acme.rep2, object="accounts", name="Private", params={}, columns=[], sort="name")
        services.view_create(actor=acme.rep2, object="accounts", name="Shared", params={"type": ["customer"]},
                             columns=["name"], sort="name", shared=True)
    response = api.as_(acme.rep).get("/api/v1/views/?object=accounts")
    assert [v["name"] for v in response.json()] == ["All visible", "My accounts", "Recently viewed", "Shared"]
    assert api.as_(acme.rep).get("/api/v1/views/?object=nope").status_code == 400


@pytest.mark.worker
def test_a_real_worker_writes_the_export(client_as, acme, make_account, celery_worker, monkeypatch):
    for i in range(4):
        make_account(name=f"Worker {i}")
    monkeypatch.setattr(exports, "DIRECT_LIMIT", 2)
    client = client_as(acme.rep)
    response = client.get("/lists/accounts/export/?format=csv")
    assert response.status_code == 302
    import time

    with tenant_context(acme.tenant):
        job = ExportJob.objects.for_tenant(acme.tenant).get()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with tenant_context(acme.tenant):
            job.refresh_from_db()
        if job.status in ("done", "failed"):
            break
        time.sleep(0.2)
    assert job.status == "done", celery_worker.log()[-3000:]
    body = b"".join(client.get(f"/exports/{job.pk}/download/").streaming_content).decode("utf-8-sig")
    assert body.splitlines()[1:] == [f"Worker {i}" + ",Customer,,,,Acme Rep," for i in range(4)] or \
        [line.split(",")[0] for line in body.splitlines()[1:]] == [f"Worker {i}" for i in range(4)]


def test_the_openapi_schema_describes_views_and_exports(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert {"/api/v1/views/", "/api/v1/exports/", "/api/v1/exports/{id}/"} <= set(schema["paths"])
    assert "post" in schema["paths"]["/api/v1/exports/"]


def test_an_export_reads_every_row_once_in_order_across_keyset_batches(client_as, acme, make_account, monkeypatch):
    from accounts import services

    accounts = [make_account(name=f"Batch {i:02d}") for i in range(7)]
    with tenant_context(acme.tenant):
        services.account_set_tags(actor=acme.rep, account=accounts[3], names=["VIP", "Fair"])
    monkeypatch.setattr(exports, "BATCH", 2)
    client = client_as(acme.rep)
    client.post("/lists/accounts/columns/", {"columns": ["owner", "tags"]})
    rows = read_csv(client.get("/lists/accounts/export/?format=csv"))
    assert [r[0] for r in rows[1:]] == [f"Batch {i:02d}" for i in range(7)]
    assert rows[4] == ["Batch 03", "Acme Rep", "Fair, VIP"]
    client.post("/lists/contacts/columns/", {"columns": ["account", "owner"]})
    from contacts.tests.factories import ContactFactory

    ContactFactory(tenant=acme.tenant, owner=acme.rep, last_name="Zed", first_name="", account=accounts[0])
    assert read_csv(client.get("/lists/contacts/export/?format=csv"))[1] == ["Zed", "Batch 00", "Acme Rep"]
