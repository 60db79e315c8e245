"""A manager hands a leaving rep's book over in the browser: picks the leaver and two receivers,
sees what would move, and nothing has moved until they confirm."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from accounts.models import Account
from crm.tenancy.context import tenant_context

pytestmark = [pytest.mark.e2e]

SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


def test_manager_previews_a_hand_over(page, sign_in, acme):
    with tenant_context(acme.tenant):
        for name in ("Initech", "Globodyne", "Hooli"):
            Account.objects.create(tenant=acme.tenant, name=name, owner=acme.rep)

    sign_in("manager@acme.example")
    page.get_by_role("link", name="Hand over a book").click()
    page.wait_for_url(re.compile(r"/settings/access/transfer/$"))
    page.get_by_label("Whose records").select_option(label="Acme Rep")
    page.get_by_role("checkbox", name="Acme Rep Two").check()
    page.get_by_role("checkbox", name="Acme Manager").check()
    page.get_by_role("button", name="Preview").press("Enter")
    preview = page.get_by_test_id("transfer-preview")
    expect(preview).to_contain_text("Accounts")
    expect(preview.get_by_role("row", name=re.compile("Accounts"))).to_contain_text("3")
    expect(page.get_by_role("button", name="Hand over now")).to_be_visible()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "access-transfer-preview.png"), full_page=True)
    with tenant_context(acme.tenant):
        assert Account.objects.filter(owner=acme.rep).count() == 3
