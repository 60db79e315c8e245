"""Duplicates against existing records, custom values, access rules, and the one-transaction write."""

import pytest

from accounts.models import Account
from contacts.models import Contact, ContactEmail
from contacts.tests.factories import AccountFactory, ContactFactory
from crm.customfields import selectors as cf_selectors
from crm.customfields import services as customfields
from crm.imports import writing

from .conftest import csv_file


def existing_contact(acme, owner, **kw):
    contact = ContactFactory(tenant=acme.tenant, owner=owner, last_name="Old", first_name="Olga",
                             email="olga@x.example", title="Buyer", **kw)
    return contact


FILE = "Last name,Email,Job title\nNew,OLGA@x.example,CEO\nFresh,fresh@x.example,\n"


@pytest.mark.parametrize(("policy", "created", "updated", "skipped", "titles"), [
    ("skip", 1, 0, 1, ["Buyer"]),
    ("update", 1, 1, 0, ["CEO"]),
    ("create", 2, 0, 0, ["Buyer", "CEO"]),
])
def test_an_existing_contact_with_the_same_email_is_skipped_updated_or_duplicated(
        acme, run_import, in_tenant, policy, created, updated, skipped, titles):
    existing_contact(acme, acme.rep)
    job = run_import(acme.rep, "contacts", csv_file(FILE), duplicates=policy)
    assert job.status == "done", job.errors
    assert (job.created, job.updated, job.skipped) == (created, updated, skipped)
    with in_tenant(acme):
        olgas = Contact.objects.for_tenant(acme.tenant).filter(email="olga@x.example").order_by("title")
        assert sorted(c.title for c in olgas) == titles
        if policy == "update":  # only the mapped, non-empty cells change; the rest is kept
            olga = olgas.get()
            assert (olga.last_name, olga.first_name) == ("New", "Olga")


def test_update_never_touches_a_record_the_user_may_not_edit(acme, run_import, in_tenant):
    # a colleague's private contact is no match for the rep (see test_visibility.py): a new one is made
    theirs = existing_contact(acme, acme.rep2)
    job = run_import(acme.rep, "contacts", csv_file(FILE), duplicates="update", mode="valid_rows")
    assert (job.errors, job.created, job.updated) == ([], 2, 0)
    with in_tenant(acme):
        theirs.refresh_from_db()
        assert (theirs.title, theirs.last_name, theirs.owner_id) == ("Buyer", "Old", acme.rep2.pk)


def test_another_companys_contact_is_never_matched(acme, globex, run_import, in_tenant):
    ContactFactory(tenant=globex.tenant, owner=globex.rep, last_name="Theirs", email="olga@x.example")
    job = run_import(acme.rep, "contacts", csv_file(FILE), duplicates="skip")
    assert (job.created, job.skipped) == (2, 0)


def test_accounts_match_by_domain_or_by_name(acme, run_import, in_tenant):
    AccountFactory(tenant=acme.tenant, owner=acme.rep, name="Nordwind AG", domain="nordwind.example")
    AccountFactory(tenant=acme.tenant, owner=acme.rep, name="Südwind GmbH")
    text = ("Name,Website,Rating\nNordwind Group,www.nordwind.example,Hot\nSÜDWIND GMBH,,Warm\nNew Co,,\n"
            "New Co,,\n")
    job = run_import(acme.rep, "accounts", csv_file(text), duplicates="update", mode="valid_rows")
    assert job.errors == [{"line": 5, "column": "Name",
                           "message": "Duplicate in this file: line 4 has the same account name."}]
    assert (job.created, job.updated) == (1, 2)
    with in_tenant(acme):
        ratings = dict(Account.objects.for_tenant(acme.tenant).values_list("name", "rating"))
    assert ratings == {"Nordwind Group": "hot", "SÜDWIND GMBH": "warm", "New Co": ""}


def test_custom_fields_are_imported_and_filterable(acme, run_import, in_tenant):
    with in_tenant(acme):
        segment = customfields.field_create(actor=acme.admin, object="contacts", label="Segment", type="picklist",
                                            options=["SMB", "Enterprise"])
        regions = customfields.field_create(actor=acme.admin, object="contacts", label="Regions",
                                            type="multi_picklist", options=["EMEA", "APAC", "AMER"])
        customfields.field_create(actor=acme.admin, object="contacts", label="Budget", type="currency")
    text = "Last name,Segment,Regions,Budget\nEk,enterprise,APAC; emea,\"1.234,50\"\nRy,SMB,,\n"
    job = run_import(acme.rep, "contacts", csv_file(text))
    assert job.status == "done", job.errors
    with in_tenant(acme):
        ek = Contact.objects.for_tenant(acme.tenant).get(last_name="Ek")
        assert ek.custom == {"segment": "Enterprise", "regions": ["EMEA", "APAC"], "budget": 1234.5}
        specs = customfields.specs(acme.tenant, "contacts")
        conditions, errors = cf_selectors.parse(specs, {"cf_segment": "Enterprise", "cf_regions": "APAC",
                                                        "cf_budget__gte": "1000"})
        assert not errors
        qs = cf_selectors.apply(Contact.objects.for_tenant(acme.tenant), acme.tenant.pk, conditions)
        assert list(qs.values_list("last_name", flat=True)) == ["Ek"]
    assert segment.pk and regions.pk


def test_a_required_custom_field_gets_its_default_or_is_an_error(acme, run_import, in_tenant):
    from django.core.exceptions import ValidationError

    with in_tenant(acme):
        customfields.field_create(actor=acme.admin, object="contacts", label="Tier", type="picklist",
                                  options=["A", "B"], required=True, default="B")
        customfields.field_create(actor=acme.admin, object="contacts", label="Code", type="text", required=True)
    from crm.imports import services

    with in_tenant(acme):  # a required field without a column: said before any row is checked
        job = services.job_create(actor=acme.rep, object="contacts", upload=csv_file("Last name\nEk\n"))
        with pytest.raises(ValidationError) as exc:
            services.job_start(actor=acme.rep, job=job, mode="dry_run")
    assert "Choose a column for: Code" in exc.value.message_dict["mapping"][0]
    job = run_import(acme.rep, "contacts", csv_file("Last name,Code\nEk,X1\nRy,\n"), mode="valid_rows")
    assert job.errors == [{"line": 3, "column": "Code", "message": "Code is required: this cell is empty."}]
    with in_tenant(acme):
        assert Contact.objects.for_tenant(acme.tenant).get(last_name="Ek").custom == {"tier": "B", "code": "X1"}


def test_owners_must_be_in_the_users_team_and_accounts_visible_to_them(acme, run_import, in_tenant):
    AccountFactory(tenant=acme.tenant, owner=acme.rep2, name="Not Mine Ltd")
    text = ("Last name,Owner,Company\nA,rep@acme.example,\nB,manager@acme.example,\nC,,Not Mine Ltd\n"
            "D,admin@globex.example,\n")
    job = run_import(acme.rep, "contacts", csv_file(text), mode="valid_rows")
    assert [(e["line"], e["column"], e["message"]) for e in job.errors] == [
        (3, "Owner", "You cannot give records to manager@acme.example: choose yourself or someone in your team."),
        (4, "Company", "Unknown account: no account “Not Mine Ltd” that you can see (use its exact name, "
                       "website or id)."),
        (5, "Owner", "Unknown owner: nobody in your company has the email “admin@globex.example”."),
    ]
    # the manager may give contacts to their team
    job = run_import(acme.manager, "contacts", csv_file("Last name,Owner\nE,rep2@acme.example\n"))
    assert job.status == "done"
    with in_tenant(acme):
        assert Contact.objects.for_tenant(acme.tenant).get(last_name="E").owner_id == acme.rep2.pk


def test_a_crash_in_the_middle_of_the_write_leaves_nothing_behind(acme, run_import, in_tenant, monkeypatch):
    from django.db import transaction

    def crash(chunk_number):
        if chunk_number == 2:
            raise RuntimeError("the worker died")

    monkeypatch.setattr(writing, "CHUNK", 2)
    monkeypatch.setattr(writing, "after_chunk", crash)
    text = "Last name,Email\n" + "".join(f"P{i},p{i}@x.example\n" for i in range(5))
    with pytest.raises(RuntimeError), transaction.atomic():
        run_import(acme.rep, "contacts", csv_file(text))
    with in_tenant(acme):
        assert Contact.objects.for_tenant(acme.tenant).count() == 0
        assert ContactEmail.objects.for_tenant(acme.tenant).count() == 0
    monkeypatch.setattr(writing, "after_chunk", None)
    job = run_import(acme.rep, "contacts", csv_file(text))
    assert job.created == 5
