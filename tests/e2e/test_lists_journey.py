"""The list page in a real browser: filter by a custom field, choose columns, save a view, tag in
bulk, delete with undo, export. Screenshots go to artifacts/screenshots/lists-*.png."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from accounts.models import Account, AccountTag
from accounts.tests.factories import AccountFactory
from crm.customfields import services as customfields
from crm.lists.models import SavedView
from crm.tenancy.context import tenant_context

pytestmark = [pytest.mark.e2e]
SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"lists-{name}.png"), full_page=True)


def test_a_rep_filters_chooses_columns_saves_a_view_tags_deletes_undoes_and_exports(page, sign_in, acme):
    with tenant_context(acme.tenant):
        customfields.field_create(actor=acme.admin, object="accounts", label="Region", type="picklist",
                                  options=["EMEA", "APAC"])
    for name, region in [("Alpine GmbH", "EMEA"), ("Baltic Oy", "EMEA"), ("Cathay Ltd", "APAC")]:
        account = AccountFactory(tenant=acme.tenant, owner=acme.rep, name=name, custom={"region": region},
                                 industry="retail", billing_country="DE")
        with tenant_context(acme.tenant):
            customfields.write_values(account, "accounts", account.custom)

    sign_in("rep@acme.example")
    page.goto("/accounts/")
    expect(page.get_by_text("3 accounts")).to_be_visible()
    shot(page, "1-list")

    # filter by the custom field
    page.get_by_text("More filters", exact=True).click()
    page.get_by_label("Region", exact=True).select_option("EMEA")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("2 accounts")).to_be_visible()
    expect(page.get_by_role("link", name="Cathay Ltd")).to_have_count(0)
    assert "cf_region=EMEA" in page.url

    # choose columns: add the Region column
    page.get_by_role("button", name="Columns").click()
    dialog = page.get_by_role("dialog", name="Columns")
    dialog.get_by_label(re.compile(r"^Region")).check()
    shot(page, "2-columns")
    dialog.get_by_role("button", name="Show these columns").click()
    expect(page.get_by_role("columnheader", name="Region")).to_be_visible()

    # save as a view shared with the team
    page.get_by_role("button", name="Save as view").click()
    save = page.get_by_role("dialog", name="Save as view")
    save.get_by_label("Name").fill("EMEA retail")
    save.get_by_label("Share with everyone in the company").check()
    save.get_by_role("button", name="Save view").click()
    expect(page.locator("summary", has_text="View:")).to_contain_text("EMEA retail")
    with tenant_context(acme.tenant):
        view = SavedView.objects.for_tenant(acme.tenant).get()
    assert view.shared and view.params == {"cf_region": ["EMEA"]} and "cf_region" in view.columns

    # bulk: tag every account on the page
    page.get_by_label("Select all accounts on this page").check()
    expect(page.get_by_text("2 selected")).to_be_visible()
    page.get_by_label("Tag to add to the selected accounts").fill("Trade fair")
    page.keyboard.press("Enter")
    expect(page.get_by_text("2 accounts tagged")).to_be_visible()
    with tenant_context(acme.tenant):
        assert AccountTag.objects.for_tenant(acme.tenant).count() == 2

    # delete one with the keyboard: k up to the first row, x to select it, then confirm
    page.get_by_role("link", name="Baltic Oy").focus()
    page.keyboard.press("k")
    expect(page.get_by_role("link", name="Alpine GmbH")).to_be_focused()
    page.keyboard.press("x")
    expect(page.get_by_text("1 selected")).to_be_visible()
    page.get_by_role("button", name="Delete…").click()
    expect(page.get_by_role("heading", name="Delete accounts?")).to_be_visible()
    expect(page.get_by_text("Alpine GmbH")).to_be_visible()
    shot(page, "3-delete-confirm")
    page.get_by_role("button", name="Delete 1 account").click()
    expect(page.get_by_text("1 account deleted")).to_be_visible()
    shot(page, "4-undo")
    with tenant_context(acme.tenant):
        assert not Account.objects.for_tenant(acme.tenant).filter(name="Alpine GmbH").exists()
    page.get_by_role("button", name="Undo").click()
    expect(page.get_by_text("1 account restored")).to_be_visible()
    with tenant_context(acme.tenant):
        assert Account.objects.for_tenant(acme.tenant).filter(name="Alpine GmbH").exists()

    # export the view as CSV
    page.goto(f"/accounts/?view={view.pk}")
    page.get_by_text("Export", exact=True).click()
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").click()
    body = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert body.splitlines()[0].startswith("Name,") and "Region" in body.splitlines()[0]
    assert "Alpine GmbH" in body and "Baltic Oy" in body and "Cathay Ltd" not in body
    shot(page, "5-view")


def test_the_contacts_and_activities_lists_filter_and_open_rows_from_the_keyboard(page, sign_in, acme):
    from contacts.tests.factories import ActivityFactory, ContactFactory, TaskFactory

    account = AccountFactory(tenant=acme.tenant, owner=acme.rep, name="Initech")
    ContactFactory(tenant=acme.tenant, owner=acme.rep, last_name="Lumbergh", first_name="Bill", account=account,
                   language="en")
    ContactFactory(tenant=acme.tenant, owner=acme.rep, last_name="Waddams", first_name="Milton", do_not_contact=True)
    ActivityFactory(tenant=acme.tenant, owner=acme.rep, account=account, subject="Called about TPS reports")
    TaskFactory(tenant=acme.tenant, owner=acme.rep, account=account, subject="Send the new cover sheet")

    sign_in("rep@acme.example")
    page.goto("/contacts/")
    expect(page.get_by_text("2 contacts")).to_be_visible()
    shot(page, "6-contacts")
    page.get_by_text("More filters", exact=True).click()
    filters = page.get_by_role("search", name="Filter contacts")
    filters.get_by_label("Do not contact").select_option("yes")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("link", name="Waddams, Milton")).to_be_visible()
    expect(page.get_by_role("link", name="Lumbergh, Bill")).to_have_count(0)

    page.goto("/activities/")
    shot(page, "7-activities")
    page.get_by_role("search", name="Filter activities").get_by_label("Kind").select_option("task")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("link", name="Send the new cover sheet")).to_be_visible()
    expect(page.get_by_role("link", name="Called about TPS reports")).to_have_count(0)
    page.keyboard.press("j")
    expect(page.get_by_role("link", name="Send the new cover sheet")).to_be_focused()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/accounts/{account.pk}/$"))
    # the account page was opened: it is now among the recently viewed accounts
    page.goto("/accounts/?view=recent")
    expect(page.get_by_role("link", name="Initech")).to_be_visible()


def test_a_manager_picks_owners_by_typing_and_merges_two_selected_accounts(page, sign_in, acme):
    """The owner filter and the bulk owner target are typeaheads (type, arrow keys, Enter); the
    bulk controls arrive when a row is ticked; "Merge…" opens the merge page with the selection."""
    AccountFactory(tenant=acme.tenant, owner=acme.rep, name="Nordwind AG")
    AccountFactory(tenant=acme.tenant, owner=acme.rep, name="Nordwind AG (old)")
    AccountFactory(tenant=acme.tenant, owner=acme.rep2, name="Southwind Ltd")

    sign_in("manager@acme.example")
    page.goto("/accounts/")
    expect(page.get_by_text("3 accounts")).to_be_visible()
    page.get_by_text("More filters", exact=True).click()
    owner = page.get_by_role("search", name="Filter accounts").get_by_role("combobox", name="Owner")
    owner.fill("rep two")
    expect(page.get_by_role("option", name="Acme Rep Two")).to_be_visible()
    shot(page, "8-owner-typeahead")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(owner).to_have_value("Acme Rep Two")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("1 account", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Southwind Ltd")).to_be_visible()
    assert f"owner={acme.rep2.pk}" in page.url

    # hand Southwind over to the first rep: the target is a typeahead too
    page.get_by_label("Select Southwind Ltd").check()
    target = page.get_by_role("combobox", name="New owner for the selected accounts")
    target.fill("acme rep")
    expect(page.get_by_role("option", name="rep@acme.example")).to_be_visible()
    page.keyboard.press("Enter")  # the first match is active
    expect(target).to_have_value("Acme Rep")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Change owner").click()
    expect(page.get_by_text("now owned by Acme Rep")).to_be_visible()

    # merge the two Nordwinds
    page.goto("/accounts/")
    page.get_by_label("Select Nordwind AG", exact=True).check()
    page.get_by_label("Select Nordwind AG (old)").check()
    shot(page, "9-merge-selected")
    page.get_by_role("button", name="Merge…").click()
    page.wait_for_url(re.compile(r"/duplicates/merge/\?"))
    expect(page.get_by_text("Nordwind AG (old)").first).to_be_visible()
    shot(page, "10-merge-page")
