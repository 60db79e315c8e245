"""Field-level security in record history: a field hidden from me is left out of the history I
read (before and after values, custom fields too), on the record's page and in the API, while
the admin still sees every change."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from accounts.models import Account
from contacts.models import Contact
from crm.access.tests.helpers import restrict_fields as _restrict
from crm.audit.history import history_for, history_page, history_source
from crm.customfields import services as customfields
from crm.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db



def changed(entries) -> list[list[tuple[str, str, str]]]:
    return [[(c.field, c.before_display, c.after_display) for c in e.changes] for e in entries
            if e.action == "changed"]


def fields_in(entries) -> set[str]:
    return {c.field for e in entries for c in e.changes}


@pytest.fixture
def initech(acme):
    """An account of the rep's whose revenue, website and rating changed, then its rating alone."""
    with tenant_context(acme.tenant):
        customfields.field_create(actor=acme.admin, object="accounts", label="Credit limit", type="number")
        customfields.field_create(actor=acme.admin, object="accounts", label="Tier", type="text")
        with history_source("page", actor=acme.admin):
            account = Account.objects.create(tenant=acme.tenant, name="Initech", owner=acme.rep,
                                             annual_revenue=1_000_000, website="https://initech.example",
                                             domain="initech.example", custom={"credit_limit": 5000, "tier": "B"})
            account.annual_revenue, account.website, account.domain = 2_500_000, "https://ini.example", "ini.example"
            account.rating = "hot"
            account.save()
            account.custom = {"credit_limit": 9000, "tier": "B"}
            account.save()
            account.custom = {"credit_limit": 9000, "tier": "A"}
            account.save()
    return account


def read(actor, record):
    with tenant_context(actor.tenant):
        return history_for(record, actor=actor)


def test_a_hidden_field_is_left_out_of_the_history_old_and_new_values(acme, initech):
    _restrict(acme, {("accounts", "annual_revenue"): "hidden", ("accounts", "website"): "hidden",
                     ("accounts", "cf_credit_limit"): "hidden"})
    entries = read(acme.rep, initech)
    assert not {"annual_revenue", "website", "domain"} & fields_in(entries)  # the domain follows the website
    assert changed(entries) == [
        [("custom", "{'tier': 'B'}", "{'tier': 'A'}")],
        [("rating", "", "Hot")],
    ]  # the credit limit's own change is not an entry at all
    text = str([(c.before, c.after, c.before_display, c.after_display) for e in entries for c in e.changes])
    assert "2500000" not in text and "ini.example" not in text and "9000" not in text and "5000" not in text
    # the admin reads every change
    admin = read(acme.admin, initech)
    assert {"annual_revenue", "website", "domain", "rating", "custom"} <= fields_in(admin)
    assert len(changed(admin)) == 3


def test_a_read_only_field_still_shows_in_the_history(acme, initech):
    _restrict(acme, {("accounts", "annual_revenue"): "read_only"})
    assert "annual_revenue" in fields_in(read(acme.rep, initech))


def test_a_contacts_hidden_email_and_phone_leave_its_history(acme):
    with tenant_context(acme.tenant), history_source("page", actor=acme.rep):
        jane = Contact.objects.create(tenant=acme.tenant, first_name="Jane", last_name="Doe", owner=acme.rep,
                                      email="jane@old.example", phone="+4930111")
        jane.email, jane.phone, jane.title = "jane@new.example", "+4930222", "CTO"
        jane.save()
    _restrict(acme, {("contacts", "email"): "hidden", ("contacts", "phone"): "hidden"})
    entries = read(acme.rep, jane)
    assert changed(entries) == [[("title", "", "CTO")]]
    assert not {"email", "phone"} & fields_in(entries)
    assert {"email", "phone", "title"} <= fields_in(read(acme.admin, jane))


def test_the_history_api_and_the_account_page_leave_the_hidden_values_out(acme, initech, api, client_as):
    _restrict(acme, {("accounts", "annual_revenue"): "hidden", ("accounts", "website"): "hidden"})
    body = api.as_(acme.rep).get(f"/api/v1/accounts/{initech.pk}/history/").json()
    fields = {c["field"] for e in body["results"] for c in e["changes"]}
    assert fields and not {"annual_revenue", "website", "domain"} & fields
    assert "ini.example" not in str(body) and "2,500,000" not in str(body) and "2500000" not in str(body)
    admin_body = api.as_(acme.admin).get(f"/api/v1/accounts/{initech.pk}/history/").json()
    assert "ini.example" in str(admin_body)
    # the 360° page's history list
    page = client_as(acme.rep).get(reverse("account_detail", kwargs={"pk": initech.pk})).content.decode()
    history_html = page.split('id="history-heading"', 1)[1]
    assert "Rating" in history_html and "Annual revenue" not in history_html and "ini.example" not in history_html
    with tenant_context(acme.tenant):
        rendered = render_to_string("audit/history.html",
                                    {"entries": history_page(initech, actor=acme.rep, limit=20).entries})
    assert "Website" not in rendered and "Domain" not in rendered


def test_the_history_reads_as_many_queries_with_hidden_fields(acme, initech, django_assert_max_num_queries):
    _restrict(acme, {("accounts", "annual_revenue"): "hidden"})
    with tenant_context(acme.tenant):
        history_for(initech, actor=acme.rep)  # the access context, once per membership
        with django_assert_max_num_queries(3):
            history_for(initech, actor=acme.rep)
