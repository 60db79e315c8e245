"""The merge page in a real browser for a rep for whom an account's rating is read only and its
revenue hidden: the revenue is not there, the rating shows without a choice, the rest is chosen
with the keyboard. Screenshots: artifacts/screenshots/fls-merge*.png."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from accounts import services as accounts
from crm.access import engine
from crm.access import services as access
from crm.access.defaults import system_profiles
from crm.tenancy.context import tenant_context

pytestmark = [pytest.mark.e2e]
SHOTS = Path(__file__).resolve().parents[3] / "artifacts" / "screenshots"


def test_a_read_only_field_is_shown_but_not_offered_on_the_merge_page(page, sign_in, acme):
    with tenant_context(acme.tenant):
        master = accounts.account_create(actor=acme.rep, name="Initech", phone="+4930111")
        other = accounts.account_create(actor=acme.rep, name="Initech GmbH", rating="hot", annual_revenue=7654321,
                                        phone="+4930222")
        profile = system_profiles(acme.tenant.pk)["rep"]
        access.permission_set_save(actor=acme.admin, permission_set=profile, name=profile.name, is_profile=True,
                                   fields={("accounts", "rating"): "read_only",
                                           ("accounts", "annual_revenue"): "hidden"})
    engine.forget(acme.rep)
    sign_in("rep@acme.example")
    page.goto(f"/duplicates/merge/?object=accounts&ids={master.pk}&ids={other.pk}")
    expect(page.get_by_role("heading", name="Merge 2 accounts")).to_be_visible()
    rating = page.get_by_role("row", name=re.compile("^Rating"))
    expect(rating).to_contain_text("Read only for you")
    expect(rating).to_contain_text("Hot")
    expect(rating.get_by_role("radio")).to_have_count(0)
    expect(page.get_by_text("Annual revenue")).to_have_count(0)
    expect(page.get_by_text("7654321")).to_have_count(0)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "fls-merge.png"), full_page=True)
    phone = page.get_by_role("row", name=re.compile("^Phone"))
    phone.get_by_role("radio").nth(1).focus()
    page.keyboard.press("Space")
    expect(phone.get_by_role("radio").nth(1)).to_be_checked()
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Merge 2 accounts").click()
    page.wait_for_url(re.compile(rf"/accounts/{master.pk}/$"))
    with tenant_context(acme.tenant):
        master.refresh_from_db()
    assert (master.phone, master.rating, master.annual_revenue) == ("+4930222", "", None)


def test_the_queue_says_same_email_without_a_hidden_address(page, sign_in, acme):
    from contacts import services as contacts
    from crm.dedup.tasks import run_scan

    with tenant_context(acme.tenant):
        contacts.contact_create(actor=acme.rep, last_name="Lee", first_name="Ann", emails=["ann@initech.example"])
        contacts.contact_create(actor=acme.rep, last_name="Lee", first_name="Anne", emails=["ann@initech.example"])
        run_scan(acme.tenant)
        profile = system_profiles(acme.tenant.pk)["rep"]
        access.permission_set_save(actor=acme.admin, permission_set=profile, name=profile.name, is_profile=True,
                                   fields={("contacts", "email"): "hidden"})
    engine.forget(acme.rep)
    sign_in("rep@acme.example")
    page.goto("/duplicates/?object=contacts")
    row = page.get_by_role("row", name=re.compile("Ann Lee"))
    expect(row).to_contain_text("Same email")
    expect(page.get_by_text("ann@initech.example")).to_have_count(0)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "fls-duplicates-queue.png"), full_page=True)
