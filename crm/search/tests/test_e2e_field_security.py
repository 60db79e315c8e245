"""The search page in a real browser for a rep whose profile hides a contact's email: the contact
is found by name without the address under it, and not found by the address.
Screenshot: artifacts/screenshots/fls-search*.png."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from contacts.models import Contact
from crm.access import engine
from crm.access import services as access
from crm.access.defaults import system_profiles
from crm.tenancy.context import tenant_context

pytestmark = [pytest.mark.e2e]
SHOTS = Path(__file__).resolve().parents[3] / "artifacts" / "screenshots"


def test_a_hidden_email_neither_shows_nor_finds(page, sign_in, acme):
    with tenant_context(acme.tenant):
        Contact.objects.create(tenant=acme.tenant, first_name="Nina", last_name="Neumann", title="Buyer",
                               email="nina@work.example", owner=acme.rep)
        profile = system_profiles(acme.tenant.pk)["rep"]
        access.permission_set_save(actor=acme.admin, permission_set=profile, name=profile.name, is_profile=True,
                                   fields={("contacts", "email"): "hidden"})
    engine.forget(acme.rep)
    sign_in("rep@acme.example")
    page.goto("/search/?q=Neumann")
    expect(page.get_by_role("link", name="Nina Neumann")).to_be_visible()
    expect(page.get_by_text("Buyer")).to_be_visible()
    expect(page.get_by_text("nina@work.example")).to_have_count(0)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "fls-search.png"), full_page=True)
    page.goto("/search/?q=nina%40work.example")
    expect(page.get_by_role("heading", name="Nothing found")).to_be_visible()
    page.screenshot(path=str(SHOTS / "fls-search-by-hidden-email.png"), full_page=True)
