"""The admin configures access in the browser: builds a small role tree, opens accounts to everyone
(read only) with the organisation-wide default — and a rep then sees a colleague's account."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from accounts.models import Account
from crm.tenancy.context import tenant_context

pytestmark = [pytest.mark.e2e]

SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"access-{name}.png"), full_page=True)


def test_admin_builds_roles_sets_a_default_and_a_rep_sees_the_account(page, sign_in, acme):
    with tenant_context(acme.tenant):
        account = Account.objects.create(tenant=acme.tenant, name="Initech", owner=acme.rep2)

    sign_in("rep@acme.example")
    page.goto("/accounts/")
    expect(page.get_by_role("link", name="Initech")).to_have_count(0)
    page.context.clear_cookies()

    sign_in("admin@acme.example")
    page.get_by_role("link", name="Access").click()
    page.wait_for_url(re.compile(r"/settings/access/roles/$"))
    page.get_by_label(re.compile(r"^Name")).fill("Chief executive")
    page.get_by_role("button", name="Add role").click()
    expect(page.get_by_test_id("role-tree")).to_contain_text("Chief executive")
    page.get_by_label(re.compile(r"^Name")).fill("Sales director")
    page.get_by_label("Reports to").select_option(label="Chief executive")
    page.get_by_role("button", name="Add role").click()
    page.get_by_label(re.compile(r"^Member\*?$")).select_option(label="Acme Manager (manager@acme.example)")
    page.get_by_label("Role", exact=True).select_option(label="Sales director")
    page.get_by_role("button", name="Save role").click()
    ceo = page.get_by_test_id("role-node").filter(has_text="Chief executive").first
    expect(ceo.get_by_test_id("role-node").filter(has_text="Sales director")).to_contain_text("Acme Manager")
    # the tree is collapsible with the keyboard
    ceo.locator("summary").first.focus()
    page.keyboard.press("Enter")
    expect(ceo.get_by_text("Sales director")).to_be_hidden()
    page.keyboard.press("Enter")
    expect(ceo.get_by_text("Sales director")).to_be_visible()
    shot(page, "roles")

    page.get_by_role("link", name="Organisation-wide defaults").click()
    page.get_by_label("Accounts", exact=True).select_option(label="Public read only")
    page.get_by_role("button", name="Save defaults").click()
    expect(page.get_by_text("Organisation-wide defaults saved")).to_be_visible()
    expect(page.get_by_label("Accounts", exact=True)).to_have_value("read")
    shot(page, "defaults")
    page.context.clear_cookies()

    sign_in("rep@acme.example")
    page.goto("/accounts/")
    page.get_by_role("link", name="Initech").click()
    page.wait_for_url(re.compile(rf"/accounts/{account.pk}/$"))
    expect(page.get_by_role("heading", name="Initech")).to_be_visible()
