"""Duplicates in a real browser: a rep finds a duplicate from a contact's page, merges the two
choosing the other record's phone, sees both records' activities on the master, and undoes it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from contacts import services as contact_services
from contacts.models import Contact
from crm.tenancy.context import tenant_context

pytestmark = [pytest.mark.e2e]

SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"dedup-{name}.png"), full_page=True)


def test_a_merge_moves_everything_to_the_master_and_undo_brings_the_other_back(page, sign_in, acme):
    with tenant_context(acme.tenant):
        ann = contact_services.contact_create(actor=acme.rep, first_name="Ann", last_name="Lee", title="CFO",
                                              emails=["ann@initech.example"], phones=["+49 30 123456"])
        anne = contact_services.contact_create(actor=acme.rep, first_name="Anne", last_name="Lee",
                                               emails=["ann@initech.example"], phones=["+49 89 765432"])
        contact_services.activity_log(actor=acme.rep, kind="call", subject="First call about pricing", contact=ann)
        contact_services.activity_log(actor=acme.rep, kind="note", subject="Met Anne at the fair", contact=anne)
    page.on("dialog", lambda dialog: dialog.accept())  # the "Merge …?" and "Undo …?" confirmations
    sign_in("rep@acme.example")

    page.goto(f"/contacts/{ann.pk}/")
    panel = page.get_by_role("region", name="Possible duplicates")
    expect(panel).to_contain_text("Anne Lee")
    expect(panel).to_contain_text("Same email")
    shot(page, "contact-panel")
    panel.get_by_role("link", name="Compare and merge").click()

    expect(page.get_by_role("heading", name="Merge 2 contacts")).to_be_visible()
    shot(page, "merge-page")
    page.get_by_role("radio", name="+4989765432").check()
    expect(page.get_by_role("row", name=re.compile("Activities"))).to_contain_text("1")
    page.get_by_role("button", name="Merge 2 contacts").click()

    page.wait_for_url(f"**/contacts/{ann.pk}/")
    reach = page.get_by_role("region", name="How to reach them")
    expect(reach).to_contain_text("+4989765432")
    timeline = page.get_by_role("region", name="Activity")
    expect(timeline).to_contain_text("First call about pricing")
    expect(timeline).to_contain_text("Met Anne at the fair")
    history = page.get_by_role("list", name="Merge history")
    expect(history).to_contain_text("Anne Lee merged into this contact")
    shot(page, "merged-master")
    with tenant_context(acme.tenant):
        assert not Contact.objects.for_tenant(acme.tenant).filter(pk=anne.pk).exists()

    history.get_by_role("button", name="Undo merge").click()
    expect(page.get_by_text(re.compile("Merge undone"))).to_be_visible()
    expect(page.get_by_role("region", name="Activity")).not_to_contain_text("Met Anne at the fair")
    with tenant_context(acme.tenant):
        restored = Contact.objects.for_tenant(acme.tenant).get(pk=anne.pk)
        assert restored.phone == "+4989765432"
        assert Contact.objects.for_tenant(acme.tenant).get(pk=ann.pk).phone == "+4930123456"
    page.goto(f"/contacts/{anne.pk}/")
    expect(page.get_by_role("region", name="Activity")).to_contain_text("Met Anne at the fair")


def test_the_queue_shows_pairs_and_an_admin_can_dismiss_one(page, sign_in, acme):
    from accounts import services as account_services
    from crm.dedup.tasks import run_scan

    with tenant_context(acme.tenant):
        initech = account_services.account_create(actor=acme.rep, name="Initech GmbH", website="initech.example",
                                                  billing_country="DE")
        account_services.account_create(actor=acme.rep, name="INITECH", website="https://www.initech.example/")
        account_services.account_create(actor=acme.rep2, name="Umbrella Corp", phone="+4930555666")
        account_services.account_create(actor=acme.rep2, name="Umbrella Corporation", phone="+49 30 555666")
        contact_services.contact_create(actor=acme.rep, first_name="Jon", last_name="Smith",
                                        emails=["jon@initech.example"])
        contact_services.contact_create(actor=acme.rep, first_name="John", last_name="Smith",
                                        emails=["john@initech.example"])
    run_scan(acme.tenant)
    sign_in("admin@acme.example")
    page.goto("/duplicates/?object=accounts")
    table = page.get_by_role("table")
    expect(table).to_contain_text("Initech GmbH")
    expect(table).to_contain_text("Umbrella Corporation")
    shot(page, "queue-accounts")
    page.get_by_role("button", name=re.compile("Umbrella.*not duplicates")).click()
    expect(page.get_by_text("Marked as not a duplicate")).to_be_visible()
    expect(page.get_by_role("table")).not_to_contain_text("Umbrella")
    page.get_by_role("navigation", name="Duplicates of").get_by_role("link", name=re.compile("^Contacts")).click()
    expect(page.get_by_role("table")).to_contain_text("John Smith")
    shot(page, "queue-contacts")

    page.goto(f"/accounts/{initech.pk}/")
    panel = page.get_by_role("region", name="Possible duplicates")
    expect(panel).to_contain_text("INITECH")
    expect(panel).to_contain_text("Same domain")
    shot(page, "account-panel")


def test_a_manager_merges_three_accounts_choosing_the_name_and_keeps_every_contact(page, sign_in, acme):
    from accounts import services as account_services
    from accounts.models import Account

    with tenant_context(acme.tenant):
        first = account_services.account_create(actor=acme.rep, name="Acme Corp", website="acme.example",
                                                tags=["vip"])
        second = account_services.account_create(actor=acme.rep2, name="ACME Corporation", phone="+4930123456",
                                                 tags=["partner"])
        third = account_services.account_create(actor=acme.rep, name="Acme GmbH", billing_country="DE")
        contact_services.contact_create(actor=acme.rep2, first_name="Jo", last_name="Roe", account=second)
        contact_services.contact_create(actor=acme.rep, first_name="Al", last_name="Poe", account=third)
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in("manager@acme.example")
    page.goto(f"/duplicates/merge/?object=accounts&ids={first.pk}&ids={second.pk}&ids={third.pk}")
    expect(page.get_by_role("heading", name="Merge 3 accounts")).to_be_visible()
    page.get_by_role("radio", name="ACME Corporation").check()
    shot(page, "merge-three-accounts")
    page.get_by_role("button", name="Merge 3 accounts").click()

    page.wait_for_url(f"**/accounts/{first.pk}/")
    expect(page.get_by_role("heading", name="ACME Corporation", level=1)).to_be_visible()
    contacts = page.get_by_role("region", name="Contacts")
    expect(contacts).to_contain_text("Jo Roe")
    expect(contacts).to_contain_text("Al Poe")
    expect(page.get_by_role("region", name="Key facts")).to_contain_text("+4930123456")
    with tenant_context(acme.tenant):
        assert list(Account.objects.for_tenant(acme.tenant).values_list("name", flat=True)) == ["ACME Corporation"]
