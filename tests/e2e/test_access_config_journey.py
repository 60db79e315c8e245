"""The admin configures access in the browser (task A): makes a public group with rep2 in it, adds a
criteria sharing rule "manufacturing accounts → that group, read only" — and rep2 then sees the
rep's manufacturing account; then hides "Annual revenue" on the Sales rep profile — and the rep no
longer sees it on the account's page."""

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


def test_admin_shares_by_criteria_with_a_group_and_hides_a_field(page, sign_in, acme):
    with tenant_context(acme.tenant):
        account = Account.objects.create(tenant=acme.tenant, name="Steelworks", owner=acme.rep,
                                          industry="manufacturing", annual_revenue=5_000_000)
        Account.objects.create(tenant=acme.tenant, name="Riverside Bank", owner=acme.rep, industry="finance")

    sign_in("rep2@acme.example")
    page.goto("/accounts/")
    expect(page.get_by_role("link", name="Steelworks")).to_have_count(0)
    page.context.clear_cookies()

    # (a) a public group with rep2 in it
    sign_in("admin@acme.example")
    page.get_by_role("link", name="Access").click()
    page.wait_for_url(re.compile(r"/settings/access/roles/$"))
    page.get_by_role("navigation", name="Access settings").get_by_role("link", name="Public groups").click()
    expect(page.get_by_role("heading", name="No public groups yet")).to_be_visible()
    page.get_by_role("link", name="New group").first.click()
    page.get_by_label(re.compile(r"^Name")).fill("Key accounts")
    page.get_by_label("Filter people").fill("rep two")
    expect(page.get_by_label("Acme Manager (manager@acme.example)")).to_be_hidden()
    page.get_by_label("Acme Rep Two (rep2@acme.example)").check()
    expect(page.get_by_text("1 chosen")).to_be_visible()
    shot(page, "group-form")
    page.get_by_role("button", name="Save group").click()
    expect(page.get_by_text("Group “Key accounts” saved.")).to_be_visible()
    row = page.get_by_test_id("group-table").get_by_role("row").filter(has_text="Key accounts")
    expect(row).to_contain_text("1")
    shot(page, "groups")

    # (b) a criteria rule: manufacturing accounts shared with the group, read only
    page.get_by_role("link", name="Sharing rules").click()
    page.get_by_role("link", name="New rule").first.click()
    page.get_by_label(re.compile(r"^Name")).fill("Manufacturing to key accounts")
    # the form shows only what the chosen kind of rule uses
    page.get_by_label("Based on record owner").check()
    expect(page.get_by_label("Condition 1: field")).to_be_hidden()
    expect(page.get_by_label("Owned by")).to_be_visible()
    page.get_by_label("Based on criteria").check()
    expect(page.get_by_label("Owned by")).to_be_hidden()
    page.get_by_label("Condition 1: field").select_option(label="Industry")
    page.get_by_label("Condition 1: operator").select_option(label="equals")
    page.get_by_label("Condition 1: value").fill("Manufacturing")
    page.get_by_role("button", name="Add a condition").click()  # a second row, nothing saved yet
    expect(page.get_by_label("Condition 2: field")).to_be_visible()
    expect(page.get_by_label("Condition 1: value")).to_have_value("Manufacturing")
    page.get_by_role("button", name="Remove condition 2").click()
    expect(page.get_by_label("Condition 2: field")).to_have_count(0)
    page.get_by_label("Share with").select_option(label="Key accounts")
    page.get_by_label(re.compile(r"^Access\*?$")).select_option(label="Read only")
    shot(page, "rule-form")
    page.get_by_role("button", name="Save rule").click()
    expect(page.get_by_text("Sharing rule “Manufacturing to key accounts” saved.")).to_be_visible()
    rules = page.get_by_test_id("rules-accounts")
    expect(rules).to_contain_text("Industry equals Manufacturing")
    expect(rules).to_contain_text("Key accounts")
    expect(rules).to_contain_text("Read only")
    shot(page, "rules")

    # (c) hide "Annual revenue" of accounts on the Sales rep profile
    page.get_by_role("link", name="Profiles").click()
    shot(page, "profiles")
    page.get_by_role("link", name="Sales rep", exact=True).click()
    expect(page.get_by_label("Accounts: Create")).to_be_checked()
    page.get_by_label("Accounts: Annual revenue").select_option(label="Hidden")
    shot(page, "profile-form")
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_text("Profile “Sales rep” saved.")).to_be_visible()
    # the rep's own access page says so
    page.get_by_role("link", name="Acme Rep", exact=True).click()
    expect(page.get_by_test_id("effective-access")).to_contain_text("Annual revenue")
    shot(page, "member")
    page.get_by_role("link", name="Permission sets").click()
    expect(page.get_by_role("heading", name="No permission sets yet")).to_be_visible()
    shot(page, "permission-sets")
    page.context.clear_cookies()

    sign_in("rep2@acme.example")
    page.goto("/accounts/")
    expect(page.get_by_role("link", name="Steelworks")).to_be_visible()
    expect(page.get_by_role("link", name="Riverside Bank")).to_have_count(0)
    page.context.clear_cookies()

    sign_in("rep@acme.example")
    page.goto(f"/accounts/{account.pk}/")
    expect(page.get_by_role("heading", name="Steelworks")).to_be_visible()
    expect(page.get_by_text("Annual revenue")).to_have_count(0)
    expect(page.get_by_text("5,000,000")).to_have_count(0)


def test_admin_gives_one_rep_a_permission_set_and_watches_a_rule_calculate(page, sign_in, acme):
    from crm.access import services
    from crm.access.models import SharingRule

    with tenant_context(acme.tenant):
        group = services.group_save(actor=acme.admin, name="Key accounts", members=[("user", acme.rep2)])
        rule = services.rule_save(actor=acme.admin, object="accounts", name="Every big account", kind="criteria",
                                  target_group=group, criteria=[{"field": "employees", "op": "gte", "value": 1000}])
        SharingRule.objects.filter(pk=rule.pk).update(status="calculating", progress=35)

    sign_in("admin@acme.example")
    page.goto("/settings/access/permission-sets/")
    page.get_by_role("link", name="New permission set").first.click()
    page.get_by_label(re.compile(r"^Name")).fill("Exporters")
    expect(page.get_by_text("A permission set only lifts restrictions")).to_be_visible()
    page.get_by_label("Accounts: Annual revenue").select_option(label="Read only")
    page.get_by_label("Transfer records").check()
    shot(page, "permission-set-form")
    page.get_by_role("button", name="Save permission set").click()
    expect(page.get_by_text("Permission set “Exporters” saved.")).to_be_visible()
    expect(page.get_by_test_id("permission-set-table")).to_contain_text("Exporters")

    page.get_by_role("link", name="Profiles").click()
    page.get_by_label("Find a member by name or email").fill("rep two")
    page.keyboard.press("Enter")
    page.get_by_role("link", name="Acme Rep Two").click()
    page.get_by_label("Exporters").check()
    page.get_by_role("button", name="Save access").click()
    expect(page.get_by_text("Access of Acme Rep Two saved.")).to_be_visible()
    expect(page.get_by_test_id("effective-access")).to_contain_text("Transfer records")
    with tenant_context(acme.tenant):
        from crm.access import engine

        engine.forget(acme.rep2)
        assert engine.can(acme.rep2, "transfer_records")

    # a rule still calculating shows its progress; the list notices when it is done
    page.goto("/settings/access/sharing-rules/")
    progress = page.get_by_role("progressbar", name="Calculating Every big account")
    expect(progress).to_have_attribute("value", "35")
    shot(page, "rules-calculating")
    with tenant_context(acme.tenant):
        SharingRule.objects.filter(pk=rule.pk).update(status="active", progress=100)
    expect(page.get_by_test_id("rules-accounts").get_by_text("Active")).to_be_visible(timeout=10_000)
    expect(progress).to_have_count(0)
