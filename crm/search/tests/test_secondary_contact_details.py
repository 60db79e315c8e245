"""Global search finds a contact by any of their emails or phone numbers, exactly (0002)."""

from __future__ import annotations

import pytest

from contacts import services
from crm.search.selectors import global_search
from crm.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db


def titles(actor, q):
    with tenant_context(actor.tenant):
        return [h.title for g in global_search(actor, q) if g.key == "contacts" for h in g.hits]


@pytest.fixture
def nina(acme):
    with tenant_context(acme.tenant):
        return services.contact_create(
            actor=acme.rep, first_name="Nina", last_name="Neumann",
            emails=["nina@work.example", "Nina.Private@Home.example"], phones=["+49 30 1111111", "+49 171 2222222"],
        )


def test_a_secondary_email_finds_the_contact_whatever_its_case(acme, nina):
    assert titles(acme.rep, "nina.private@home.example") == ["Nina Neumann"]
    assert titles(acme.rep, "NINA.PRIVATE@HOME.EXAMPLE") == ["Nina Neumann"]


def test_the_primary_email_still_finds_the_contact(acme, nina):
    assert titles(acme.rep, "nina@work.example") == ["Nina Neumann"]


def test_a_secondary_phone_finds_the_contact_as_typed(acme, nina):
    assert titles(acme.rep, "+49 171 2222222") == ["Nina Neumann"]
    assert titles(acme.rep, "+491712222222") == ["Nina Neumann"]


def test_a_part_of_a_secondary_email_is_not_a_match(acme, nina):
    assert titles(acme.rep, "private@home.example") == []


def test_a_colleague_and_another_company_do_not_find_it(acme, globex, nina):
    assert titles(acme.rep2, "nina.private@home.example") == []
    assert titles(globex.admin, "nina.private@home.example") == []
    assert titles(globex.admin, "+49 171 2222222") == []


def test_the_top_bar_finds_the_contact_by_a_secondary_phone(client_as, acme, nina):
    page = client_as(acme.rep).get("/search/", {"q": "+49 171 2222222"}).content.decode()
    assert "Nina Neumann" in page
