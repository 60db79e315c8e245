"""Sharing a record in a real browser: the owner shares an account with a colleague from its page,
asks who can see it; the colleague opens "Why can I see this?" and sees the share."""

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
    page.screenshot(path=str(SHOTS / f"sharing-{name}.png"), full_page=True)


def test_the_owner_shares_and_the_colleague_sees_why(page, sign_in, acme):
    with tenant_context(acme.tenant):
        account = Account.objects.create(tenant=acme.tenant, name="Initech", owner=acme.rep2)
    sign_in("rep2@acme.example")
    page.goto(f"/accounts/{account.pk}/")
    panel = page.get_by_role("region", name="Sharing")
    expect(panel).to_contain_text("Not shared with anyone by hand.")
    panel.get_by_label("Colleague or group").select_option(label="Acme Rep")
    panel.get_by_label("Access").first.select_option(label="Read only")
    panel.get_by_role("button", name="Share", exact=True).click()
    expect(page.get_by_role("list", name="Manual shares")).to_contain_text("Acme Rep")
    shot(page, "panel")
    page.get_by_role("button", name="Who can see this?").click()
    dialog = page.get_by_role("dialog", name="Who can see this?")
    expect(dialog).to_contain_text("Shared manually with this person")
    shot(page, "who")
    page.keyboard.press("Escape")

    page.context.clear_cookies()
    sign_in("rep@acme.example")
    page.goto(f"/accounts/{account.pk}/")
    page.get_by_role("button", name="Why can I see this?").click()
    dialog = page.get_by_role("dialog", name="Why can I see this?")
    expect(dialog).to_contain_text("Shared manually with this person")
    shot(page, "why")
    expect(page.get_by_role("button", name="Who can see this?")).to_have_count(0)


def test_the_admin_puts_a_rep_on_an_account_team_and_the_rep_works_the_account(page, sign_in, acme):
    """The issue's "Done when": an admin adds a team in the browser. Put on rep2's account team
    with read/write, rep sees the account and its contacts (a team covers the children) and may
    edit the account."""
    from contacts.models import Contact

    with tenant_context(acme.tenant):
        account = Account.objects.create(tenant=acme.tenant, name="Initech", owner=acme.rep2)
        Contact.objects.create(tenant=acme.tenant, last_name="Lumbergh", account=account, owner=acme.rep2)

    sign_in("admin@acme.example")
    page.goto(f"/accounts/{account.pk}/")
    panel = page.get_by_role("region", name="Sharing")
    expect(panel).to_contain_text("No team yet.")
    team = panel.get_by_role("form", name="Add a team member")
    team.get_by_label("Colleague").select_option(label="Acme Rep")
    team.get_by_label("Team role").fill("Technical lead")
    team.get_by_label("Access").select_option(label="Read/write")
    team.get_by_role("button", name="Add to team").click()
    expect(page.get_by_role("list", name="Account team")).to_contain_text("Acme Rep")
    expect(page.get_by_role("list", name="Account team")).to_contain_text("Technical lead")
    shot(page, "team")
    page.context.clear_cookies()

    sign_in("rep@acme.example")
    page.goto("/accounts/")
    page.get_by_role("link", name="Initech").click()
    expect(page.get_by_role("heading", name="Initech")).to_be_visible()
    expect(page.get_by_text("Lumbergh")).to_be_visible()
    page.get_by_role("link", name="Edit").first.click()
    expect(page.get_by_label(re.compile(r"^Name"))).to_have_value("Initech")
