"""Field-level security in imports: the mapping offers no hidden or read-only field, a mapping
naming one is refused with a clear error and nothing is imported, and a hidden email or website
is no way to look a record up."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from accounts.models import Account
from contacts.models import Contact
from crm.access.tests.helpers import restrict_fields as _restrict
from crm.customfields import services as customfields
from crm.imports import services
from crm.imports.models import ImportJob
from crm.tenancy.context import tenant_context

from .conftest import csv_file

pytestmark = pytest.mark.django_db

TEXT = "Surname,Email,Phone,Segment\nEk,ek@x.example,+49 30 1234567,SMB\nRy,ry@x.example,,Enterprise\n"



@pytest.fixture
def segment(acme):
    with tenant_context(acme.tenant):
        return customfields.field_create(actor=acme.admin, object="contacts", label="Segment", type="picklist",
                                         options=["SMB", "Enterprise"])


@pytest.fixture
def restricted(acme, segment):
    _restrict(acme, {("contacts", "email"): "read_only", ("contacts", "phone"): "hidden",
                     ("contacts", "cf_segment"): "hidden"})


def jobs(company):
    with tenant_context(company.tenant):
        return list(ImportJob.objects.for_tenant(company.tenant).order_by("created_at"))


def contacts(company):
    with tenant_context(company.tenant):
        return {c.last_name: c for c in Contact.objects.for_tenant(company.tenant)}


def test_the_mapping_page_offers_no_hidden_or_read_only_field(client_as, acme, restricted):
    client = client_as(acme.rep)
    response = client.post(reverse("import_new"), {"object": "contacts", "file": csv_file(TEXT),
                                                   "duplicates": "skip"})
    [job] = jobs(acme)
    assert job.mapping == ["last_name", "", "", ""]  # the guessed columns are left out
    page = client.get(response["Location"]).content.decode()
    assert '<option value="last_name" selected>' in page
    for target in ("email", "phone", "custom.segment"):
        assert f'value="{target}"' not in page
    assert "Not imported: Email is read only for you." in page
    assert "Phone is" not in page and "Segment is" not in page  # hidden: not offered, not named
    # the admin's page offers them all
    admin = client_as(acme.admin)
    admin.post(reverse("import_new"), {"object": "contacts", "file": csv_file(TEXT), "duplicates": "skip"})
    admin_job = [j for j in jobs(acme) if j.created_by_id == acme.admin.pk][0]
    assert admin_job.mapping == ["last_name", "email", "phone", "custom.segment"]
    admin_page = admin.get(reverse("import_mapping", args=[admin_job.pk])).content.decode()
    assert '<option value="email" selected>' in admin_page and "read only for you" not in admin_page


def test_a_posted_mapping_naming_a_read_only_field_is_refused_and_nothing_runs(client_as, acme, restricted,
                                                                              django_capture_on_commit_callbacks):
    client = client_as(acme.rep)
    client.post(reverse("import_new"), {"object": "contacts", "file": csv_file(TEXT), "duplicates": "skip"})
    [job] = jobs(acme)
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(reverse("import_mapping", args=[job.pk]),
                               {"column_0": "last_name", "column_1": "email", "column_2": "", "column_3": "",
                                "duplicates": "skip"})
    assert response.status_code == 200
    assert "“Email” cannot be imported: Email is read only for you." in response.content.decode()
    assert callbacks == []
    [job] = jobs(acme)
    assert job.status == "uploaded" and job.mapping == ["last_name", "", "", ""]


def test_the_api_refuses_a_mapping_to_a_hidden_or_read_only_field_with_a_field_error(api, acme, restricted):
    client = api.as_(acme.rep)
    for target, message in [("email", "“Email” cannot be imported: Email is read only for you."),
                            ("phone", "“Email” cannot be imported: you cannot set Phone."),
                            ("custom.segment", "“Email” cannot be imported: you cannot set Segment.")]:
        response = client.post("/api/v1/imports/", {
            "object": "contacts", "file": csv_file(TEXT), "mode": "all_or_nothing",
            "mapping": json.dumps({"Surname": "last_name", "Email": target})}, format="multipart")
        assert response.status_code == 400, response.content
        assert message in json.dumps(response.json(), ensure_ascii=False)
    assert jobs(acme) == [] and contacts(acme) == {}
    # the admin may
    response = api.as_(acme.admin).post("/api/v1/imports/", {
        "object": "contacts", "file": csv_file(TEXT), "mode": "dry_run",
        "mapping": json.dumps({"Surname": "last_name", "Email": "email", "Phone": "phone"})}, format="multipart")
    assert response.status_code == 201, response.content


def test_an_import_without_a_mapping_fills_only_what_the_rep_may_set(acme, restricted, run_import):
    job = run_import(acme.rep, "contacts", csv_file(TEXT))
    assert job.status == "done", (job.message, job.errors)
    found = contacts(acme)
    assert set(found) == {"Ek", "Ry"}
    assert found["Ek"].email == "" and found["Ek"].phone == "" and found["Ek"].custom == {}


def test_a_mapping_stored_before_the_restriction_is_refused_at_check_and_run(acme, segment):
    with tenant_context(acme.tenant):
        job = services.job_create(actor=acme.rep, object="contacts", upload=csv_file(TEXT), mode="all_or_nothing")
    assert job.mapping == ["last_name", "email", "phone", "custom.segment"]
    services.job_validate(job_id=job.pk, tenant=acme.tenant)
    _restrict(acme, {("contacts", "email"): "read_only"})
    # the run: refused before anything is written
    job = services.job_run(job_id=job.pk, tenant=acme.tenant)
    assert job.status == "failed"
    assert job.message == "Nothing was imported: “Email” cannot be imported: Email is read only for you."
    assert contacts(acme) == {}
    # a new check says the same
    with tenant_context(acme.tenant):
        ImportJob.objects.for_tenant(acme.tenant).filter(pk=job.pk).update(status="uploaded")
    job = services.job_validate(job_id=job.pk, tenant=acme.tenant)
    assert job.status == "failed" and "Email is read only for you" in job.message
    # and starting it again is refused too
    with tenant_context(acme.tenant), pytest.raises(Exception, match="read only for you"):
        services.job_start(actor=acme.rep, job=job)


def test_the_write_itself_refuses_a_mapping_with_a_restricted_field(acme, tmp_path):
    from django.core.exceptions import ValidationError

    from crm.imports import objects, writing

    _restrict(acme, {("contacts", "email"): "hidden"})
    job = ImportJob(tenant_id=acme.tenant.pk, object="contacts", header=["Surname", "Mail"],
                    mapping=["last_name", "email"], created_by=acme.rep)
    with tenant_context(acme.tenant), pytest.raises(ValidationError) as exc:
        writing.write(actor=acme.rep, importer=objects.get("contacts"), job=job, columns=["last_name", "email"],
                      mapped={"last_name", "email"}, directory=tmp_path, specs=[])
    assert exc.value.message_dict == {"mapping": ["“Mail” cannot be imported: you cannot set Email."]}


def test_a_hidden_email_finds_no_contact_for_an_activity(acme, run_import):
    with tenant_context(acme.tenant):
        Contact.objects.create(tenant=acme.tenant, first_name="Jo", last_name="Ek", email="jo@ek.example",
                               owner=acme.rep)
    _restrict(acme, {("contacts", "email"): "hidden"})
    text = "Kind,Subject,Contact\ncall,Intro call,jo@ek.example\n"
    job = run_import(acme.rep, "activities", csv_file(text))
    assert job.status == "failed"
    assert [e["message"] for e in job.errors] == [
        "Unknown contact: no contact “jo@ek.example” that you can see (use the id: emails are hidden from you)."]
    admin_job = run_import(acme.admin, "activities", csv_file(text, name="admin.csv"))
    assert admin_job.status == "done", admin_job.errors


def test_a_hidden_website_finds_no_account_by_its_domain(acme, run_import):
    with tenant_context(acme.tenant):
        Account.objects.create(tenant=acme.tenant, name="Initech", website="https://globalsoft.example",
                               domain="globalsoft.example", owner=acme.rep)
    _restrict(acme, {("accounts", "website"): "hidden"})
    text = "Last name,Company\nEk,globalsoft.example\n"
    job = run_import(acme.rep, "contacts", csv_file(text))
    assert job.status == "failed"
    assert "Unknown account" in job.errors[0]["message"]
    by_name = run_import(acme.rep, "contacts", csv_file("Last name,Company\nEk,Initech\n", name="b.csv"))
    assert by_name.status == "done", by_name.errors
    admin_job = run_import(acme.admin, "contacts", csv_file(text, name="admin.csv"))
    assert admin_job.status == "done", admin_job.errors
