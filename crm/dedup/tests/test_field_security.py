"""Field-level security in duplicates and merge: the queue, the record panels and the API say
"Same email" without an address hidden from me; the merge page neither shows a hidden field nor
lets me choose a read-only one (the master's value is kept), and a merge choosing one is refused."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from accounts.models import Account
from contacts.models import Contact
from crm.access.tests.helpers import restrict_fields as _restrict
from crm.dedup import services
from crm.dedup.tasks import run_scan

from .makers import account, contact, custom_field

pytestmark = pytest.mark.django_db



def merge_url(object_label, *records):
    return f"/duplicates/merge/?object={object_label}&" + "&".join(f"ids={r.pk}" for r in records)


@pytest.fixture
def twins(acme, in_tenant):
    """Two of the rep's contacts with one address, and two similar names at one email domain."""
    with in_tenant(acme):
        ann = contact(acme.rep, "Lee", "Ann", emails=["ann@initech.example"])
        anne = contact(acme.rep, "Lee", "Anne", emails=["ann@initech.example"])
        bo = contact(acme.rep, "Stark", "Bo", emails=["bo@hooli.example"])
        bob = contact(acme.rep, "Stark", "Bob", emails=["bob.s@hooli.example"])
        run_scan(acme.tenant)
    return ann, anne, bo, bob


def test_the_queue_says_same_email_without_a_hidden_address(acme, twins, client_as):
    _restrict(acme, {("contacts", "email"): "hidden"})
    html = client_as(acme.rep).get("/duplicates/?object=contacts").content.decode()
    assert "Same email" in html and str(twins[0].pk) in html
    assert "initech.example" not in html and "hooli.example" not in html  # nor a similar name's @domain
    assert "Bo Stark" in html  # the similar-name pair is still listed, with the names
    admin = client_as(acme.admin).get("/duplicates/?object=contacts").content.decode()
    assert "ann@initech.example" in admin and "@hooli.example" in admin


def test_the_record_panel_and_the_api_leave_the_hidden_address_out(acme, twins, client_as, api):
    _restrict(acme, {("contacts", "email"): "hidden"})
    ann = twins[0]
    panel = client_as(acme.rep).get(f"/duplicates/panel/contacts/{ann.pk}/").content.decode()
    assert "Same email" in panel and "ann@initech.example" not in panel
    body = api.as_(acme.rep).get("/api/v1/duplicates/?object=contacts").json()
    assert body["results"] and all("example" not in r["detail"] for r in body["results"])
    admin = api.as_(acme.admin).get("/api/v1/duplicates/?object=contacts").json()
    assert "ann@initech.example" in [r["detail"] for r in admin["results"]]


def test_a_hidden_website_hides_the_domain_in_the_accounts_queue(acme, in_tenant, client_as):
    with in_tenant(acme):
        account(acme.rep, "Initech", website="https://initech.example")
        account(acme.rep, "Initech Europe", website="https://www.initech.example")
        run_scan(acme.tenant)
    _restrict(acme, {("accounts", "website"): "hidden"})
    html = client_as(acme.rep).get("/duplicates/?object=accounts").content.decode()
    assert "Same domain" in html and "Initech Europe" in html and "initech.example" not in html
    assert "initech.example" in client_as(acme.admin).get("/duplicates/?object=accounts").content.decode()


@pytest.fixture
def firms(acme, in_tenant):
    """Two accounts of the rep's: the master without revenue or rating, the other with both."""
    with in_tenant(acme):
        custom_field(acme, "accounts", "tier")
        master = account(acme.rep, "Initech", rating="", custom={"tier": "gold"})
        other = account(acme.rep, "Initech GmbH", annual_revenue=7_654_321, rating="hot", phone="+4930999",
                        custom={"tier": "silver"})
    return master, other


def test_the_merge_page_hides_hidden_fields_and_locks_read_only_ones(acme, firms, client_as):
    _restrict(acme, {("accounts", "annual_revenue"): "hidden", ("accounts", "rating"): "read_only",
                     ("accounts", "cf_tier"): "hidden"})
    master, other = firms
    html = client_as(acme.rep).get(merge_url("accounts", master, other)).content.decode()
    assert "Annual revenue" not in html and "7654321" not in html and "7,654,321" not in html
    assert "silver" not in html and 'name="f:custom.tier"' not in html
    assert 'name="f:rating"' not in html  # read only: not offered…
    assert "Rating" in html and "Hot" in html and "Read only for you: the master's value is kept" in html
    assert 'name="f:phone"' in html  # …the rest is
    admin = client_as(acme.admin).get(merge_url("accounts", master, other)).content.decode()
    assert 'name="f:rating"' in admin and "Annual revenue" in admin and 'name="f:custom.tier"' in admin


def test_choosing_the_other_records_read_only_value_is_refused_and_nothing_is_merged(acme, firms, in_tenant,
                                                                                   client_as, api):
    _restrict(acme, {("accounts", "rating"): "read_only", ("accounts", "annual_revenue"): "hidden"})
    master, other = firms
    response = client_as(acme.rep).post("/duplicates/merge/", {
        "object": "accounts", "ids": [master.pk, other.pk], "master": master.pk, "f:rating": other.pk})
    assert response.status_code == 400
    assert "Rating is read only for you: the master&#x27;s value is kept." in response.content.decode()
    response = api.as_(acme.rep).post("/api/v1/merges/", {
        "object": "accounts", "master": str(master.pk), "losers": [str(other.pk)],
        "fields": {"annual_revenue": str(other.pk)}}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"fields": ["Annual revenue: you cannot set this field."]}
    with in_tenant(acme):
        assert Account.objects.for_tenant(acme.tenant).filter(pk__in=[master.pk, other.pk]).count() == 2


def test_a_merge_keeps_the_masters_read_only_and_hidden_values_even_when_empty(acme, firms, in_tenant):
    _restrict(acme, {("accounts", "rating"): "read_only", ("accounts", "annual_revenue"): "hidden",
                     ("accounts", "cf_tier"): "hidden"})
    master, other = firms
    with in_tenant(acme):
        # naming the master's own value is no change
        services.records_merge(actor=acme.rep, object_label="accounts", master=master.pk, losers=[other.pk],
                               fields={"rating": str(master.pk), "phone": str(other.pk)})
        kept = Account.objects.for_tenant(acme.tenant).get(pk=master.pk)
    assert (kept.rating, kept.annual_revenue, kept.custom.get("tier"), kept.phone) == ("", None, "gold", "+4930999")


def test_the_admin_merge_still_fills_the_gaps(acme, firms, in_tenant):
    _restrict(acme, {("accounts", "rating"): "read_only"})
    master, other = firms
    with in_tenant(acme):
        services.records_merge(actor=acme.admin, object_label="accounts", master=master.pk, losers=[other.pk],
                               fields={"custom.tier": str(other.pk)})
        kept = Account.objects.for_tenant(acme.tenant).get(pk=master.pk)
    assert (kept.rating, kept.annual_revenue, kept.custom.get("tier")) == ("hot", 7_654_321, "silver")


def test_a_contact_merge_does_not_choose_a_hidden_primary_email(acme, in_tenant):
    with in_tenant(acme):
        master = contact(acme.rep, "Lee", "Ann")
        other = contact(acme.rep, "Lee", "Anne", emails=["anne@initech.example"])
    _restrict(acme, {("contacts", "email"): "hidden"})
    with in_tenant(acme), pytest.raises(ValidationError) as exc:
        services.records_merge(actor=acme.rep, object_label="contacts", master=master.pk, losers=[other.pk],
                               fields={"email": str(other.pk)})
    assert exc.value.message_dict == {"fields": ["Primary email: you cannot set this field."]}
    with in_tenant(acme):
        services.records_merge(actor=acme.rep, object_label="contacts", master=master.pk, losers=[other.pk])
        assert Contact.objects.for_tenant(acme.tenant).get(pk=master.pk).email == ""
