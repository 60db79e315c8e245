"""Field-level security in global search: a field hidden from me neither shows under a hit nor
finds a record (an exact email, phone or domain must not be an oracle for a hidden value)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from contacts import services as contacts
from crm.access.tests.helpers import restrict_fields as _restrict
from crm.search.selectors import global_search
from crm.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db



def hits(actor, q, key):
    with tenant_context(actor.tenant):
        return [(h.title, h.subtitle) for g in global_search(actor, q) if g.key == key for h in g.hits]


@pytest.fixture
def nina(acme):
    with tenant_context(acme.tenant):
        return contacts.contact_create(
            actor=acme.rep, first_name="Nina", last_name="Neumann", title="Buyer",
            emails=["nina@work.example", "nina.private@home.example"], phones=["+49 30 1111111", "+49 171 2222222"],
        )


def test_a_hidden_email_does_not_find_the_contact_nor_shows_under_the_name(acme, nina):
    _restrict(acme, {("contacts", "email"): "hidden"})
    assert hits(acme.rep, "nina@work.example", "contacts") == []
    assert hits(acme.rep, "nina.private@home.example", "contacts") == []  # the other addresses follow
    assert hits(acme.rep, "Neumann", "contacts") == [("Nina Neumann", "Buyer")]
    # the admin is not restricted
    assert hits(acme.admin, "nina@work.example", "contacts") == [("Nina Neumann", "Buyer · nina@work.example")]


def test_a_hidden_email_is_not_matched_word_by_word_either(acme, nina):
    assert hits(acme.rep, "nina@work.ex", "contacts")  # the words branch reads the address (a prefix)…
    _restrict(acme, {("contacts", "email"): "hidden"})
    assert hits(acme.rep, "nina@work.ex", "contacts") == []  # …not when it is hidden


def test_a_hidden_phone_does_not_find_the_contact(acme, nina):
    _restrict(acme, {("contacts", "phone"): "hidden"})
    assert hits(acme.rep, "+49 30 1111111", "contacts") == []
    assert hits(acme.rep, "+49 171 2222222", "contacts") == []
    assert hits(acme.rep, "nina@work.example", "contacts") == [("Nina Neumann", "Buyer · nina@work.example")]
    assert [t for t, _ in hits(acme.admin, "+49 171 2222222", "contacts")] == ["Nina Neumann"]


def test_a_hidden_first_name_neither_shows_nor_matches(acme):
    with tenant_context(acme.tenant):
        contacts.contact_create(actor=acme.rep, first_name="Olga", last_name="Petrova", emails=["op@x.example"])
    _restrict(acme, {("contacts", "first_name"): "hidden"})
    assert hits(acme.rep, "Petrova", "contacts") == [("Petrova", "op@x.example")]
    # the first name tells nothing: a right and a wrong one find the same (the key is "last first")
    assert hits(acme.rep, "Petrova Olga", "contacts") == hits(acme.rep, "Petrova Xyzw", "contacts")
    assert hits(acme.rep, "Petrova Ol", "contacts") == hits(acme.rep, "Petrova Xy", "contacts")
    assert hits(acme.rep, "Olga", "contacts") == []
    assert [t for t, _ in hits(acme.admin, "Olga", "contacts")] == ["Olga Petrova"]
    assert [t for t, _ in hits(acme.admin, "Petrova Ol", "contacts")] == ["Olga Petrova"]


def test_a_hidden_website_hides_the_domain_from_search(acme):
    from accounts.models import Account

    with tenant_context(acme.tenant):
        Account.objects.create(tenant=acme.tenant, name="Initech", domain="globalsoft.example",
                               website="https://globalsoft.example", billing_city="Austin", owner=acme.rep)
    _restrict(acme, {("accounts", "website"): "hidden"})  # the domain is derived from it
    assert hits(acme.rep, "globalsoft.example", "accounts") == []
    assert hits(acme.rep, "globalsoft.ex", "accounts") == []  # nor a prefix of it, word by word
    assert hits(acme.rep, "Initech", "accounts") == [("Initech", "Austin")]
    assert hits(acme.admin, "globalsoft.example", "accounts") == [("Initech", "globalsoft.example · Austin")]
    assert [t for t, _ in hits(acme.admin, "globalsoft.ex", "accounts")] == ["Initech"]


def test_the_page_suggestions_and_api_leave_the_hidden_value_out(acme, nina, client_as):
    _restrict(acme, {("contacts", "email"): "hidden"})
    client = client_as(acme.rep)
    page = client.get(reverse("search"), {"q": "Neumann"}).content.decode()
    assert "Nina Neumann" in page and "nina@work.example" not in page
    suggest = client.get(reverse("search_suggest"), {"q": "Neum"}).content.decode()
    assert "Nina Neumann" in suggest and "nina@work.example" not in suggest
    assert "Nothing found" in client.get(reverse("search"), {"q": "nina@work.example"}).content.decode()
    api = client.get("/api/v1/search/", {"q": "Neumann"}).json()
    assert [h["title"] for h in api["results"]["contacts"]] == ["Nina Neumann"]
    assert "nina@work.example" not in str(api)
    assert client.get("/api/v1/search/", {"q": "nina@work.example"}).json()["results"]["contacts"] == []
    admin = client_as(acme.admin).get(reverse("search"), {"q": "Neumann"}).content.decode()
    assert "nina@work.example" in admin


def test_a_restricted_search_runs_the_same_number_of_queries(acme, nina, django_assert_max_num_queries):
    from crm.search.registry import search_types

    _restrict(acme, {("contacts", "email"): "hidden", ("accounts", "website"): "hidden"})
    with tenant_context(acme.tenant):
        global_search(acme.rep, "warm up")  # the access context, once per membership
        with django_assert_max_num_queries(1 + 2 * len(search_types())):
            global_search(acme.rep, "Neumann")
