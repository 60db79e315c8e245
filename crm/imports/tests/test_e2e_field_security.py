"""The import mapping page in a real browser for a rep whose profile makes the email read only and
hides the phone: neither is offered, and the Email column says why it is not imported.
Screenshot: artifacts/screenshots/fls-import-mapping.png."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from crm.access import engine
from crm.access import services as access
from crm.access.defaults import system_profiles
from crm.tenancy.context import tenant_context

pytestmark = [pytest.mark.e2e]
SHOTS = Path(__file__).resolve().parents[3] / "artifacts" / "screenshots"
FILE = b"Surname,Email,Phone,City\nEk,ek@x.example,+49 30 1234567,Berlin\n"


def test_the_mapping_offers_no_restricted_field_and_says_why(page, sign_in, acme):
    with tenant_context(acme.tenant):
        profile = system_profiles(acme.tenant.pk)["rep"]
        access.permission_set_save(actor=acme.admin, permission_set=profile, name=profile.name, is_profile=True,
                                   fields={("contacts", "email"): "read_only", ("contacts", "phone"): "hidden"})
    engine.forget(acme.rep)
    sign_in("rep@acme.example")
    page.goto("/imports/new/?object=contacts")
    page.get_by_label("File").set_input_files(files=[{"name": "fair.csv", "mimeType": "text/csv", "buffer": FILE}])
    page.get_by_role("button", name="Upload and map columns").click()
    expect(page.get_by_role("heading", name="Map the columns")).to_be_visible()
    email = page.get_by_label("Email")
    expect(email).to_have_value("")
    expect(email.locator("option[value=email]")).to_have_count(0)
    expect(page.get_by_label("Phone").locator("option[value=phone]")).to_have_count(0)
    expect(page.get_by_text("Not imported: Email is read only for you.")).to_be_visible()
    expect(page.get_by_label("Surname")).to_have_value("last_name")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "fls-import-mapping.png"), full_page=True)
