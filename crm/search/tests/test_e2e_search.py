"""The top bar's search in a real browser: `/` focuses it, results appear as you type, arrow keys
move through them and Enter opens one (static/js/search.js)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from accounts.models import Account
from contacts.models import Contact
from crm.tenancy.context import tenant_context

pytestmark = [pytest.mark.e2e]


def test_type_arrow_down_enter_opens_the_record(acme, sign_in, page):
    with tenant_context(acme.tenant):
        corp = Account.objects.create(tenant=acme.tenant, name="Acme Corporation", owner=acme.rep)
        Account.objects.create(tenant=acme.tenant, name="Acme Logistics", owner=acme.rep)
        Contact.objects.create(tenant=acme.tenant, first_name="Jane", last_name="Acmeson", owner=acme.rep)
    sign_in("rep@acme.example")

    page.locator("main").click()
    page.keyboard.press("/")
    box = page.locator("[data-global-search]")
    expect(box).to_be_focused()
    box.press_sequentially("acme corportion", delay=20)  # a typo on purpose

    panel = page.locator("#global-search-results")
    expect(panel).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "true")
    options = panel.get_by_role("option")
    expect(options.first).to_contain_text("Acme Corporation")
    expect(panel.get_by_text("Accounts")).to_be_visible()

    box.press("ArrowDown")
    expect(options.first).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(options.nth(1)).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(options.first).to_be_focused()
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(box).to_be_focused()

    box.press("ArrowDown")
    expect(options.first).to_be_focused()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/accounts/{corp.pk}/$"))


def test_enter_in_the_box_opens_the_results_page(acme, sign_in, page):
    with tenant_context(acme.tenant):
        Account.objects.create(tenant=acme.tenant, name="Zenith Holdings", owner=acme.rep)
    sign_in("rep@acme.example")
    box = page.locator("[data-global-search]")
    box.fill("zenith")
    box.press("Enter")
    page.wait_for_url(re.compile(r"/search/\?q=zenith$"))
    expect(page.get_by_role("heading", name="Accounts")).to_be_visible()
    expect(page.get_by_text("Zenith Holdings")).to_be_visible()
