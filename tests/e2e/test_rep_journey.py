"""A sales rep's day in the browser: create an account and a contact at it, log a call and add a
task from the account's 360° page, find the account and the contact again with the top bar's
search (`/` focuses it), and see the contact, the call and the task on the 360° page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e]

SHOTS = "artifacts/screenshots"


def _search_and_open(page, text: str, option_name: str, url: re.Pattern) -> None:
    page.locator("main").click()
    page.keyboard.press("/")
    box = page.get_by_role("combobox", name="Search")
    expect(box).to_be_focused()
    box.press_sequentially(text, delay=20)
    panel = page.locator("#global-search-results")
    option = panel.get_by_role("option", name=re.compile(option_name))
    expect(option.first).to_be_visible()
    box.press("ArrowDown")
    # the first option is focused; walk down to ours with the keyboard, then open it with Enter
    options = panel.get_by_role("option")
    for i in range(options.count()):
        if re.search(option_name, options.nth(i).inner_text()):
            break
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_url(url)


def test_a_rep_creates_an_account_and_a_contact_logs_a_call_adds_a_task_and_finds_them(acme, sign_in, page):
    sign_in("rep@acme.example")

    # a new account
    page.goto("/accounts/new/")
    page.get_by_label(re.compile(r"^Name")).fill("Kestrel Optics GmbH")
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(re.compile(r"/accounts/[0-9a-f-]{36}/$"))
    account_url = page.url

    # a contact at it
    page.goto("/contacts/new/")
    page.get_by_label("First name").fill("Greta")
    page.get_by_label(re.compile(r"^Last name")).fill("Lindqvist")
    page.get_by_label("Primary account").select_option(label="Kestrel Optics GmbH")
    page.get_by_label("Emails").fill("greta@kestrel.example")
    page.get_by_role("button", name="Add contact").click()
    page.wait_for_url(re.compile(r"/contacts/[0-9a-f-]{36}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Greta Lindqvist")
    contact_url = page.url

    # a call and a task from the 360° page's quick actions (htmx: the timeline updates in place)
    page.goto(account_url)
    quick = page.get_by_role("group", name="Quick actions")
    quick.get_by_text("Log a call").click()
    call_form = quick.locator("details[open] form")
    call_form.get_by_label(re.compile(r"^Subject")).fill("Intro call about lens coatings")
    call_form.get_by_label("Minutes").fill("15")
    call_form.get_by_role("button", name="Save").click()
    timeline = page.get_by_role("list", name="Activities, newest first")
    expect(timeline.get_by_role("listitem").filter(has_text="Intro call about lens coatings")).to_be_visible()

    quick = page.get_by_role("group", name="Quick actions")
    quick.get_by_text("Add a task").click()
    task_form = quick.locator("details[open] form")
    task_form.get_by_label(re.compile(r"^Subject")).fill("Send the coating samples")
    task_form.get_by_role("button", name="Save").click()
    expect(timeline.get_by_role("listitem").filter(has_text="Send the coating samples")).to_be_visible()

    # find the account and the contact again with the top bar's search
    page.goto("/")
    _search_and_open(page, "kestrel", "Kestrel Optics", re.compile(re.escape(account_url) + "$"))
    _search_and_open(page, "lindqvist", "Greta Lindqvist", re.compile(re.escape(contact_url) + "$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Greta Lindqvist")

    # the 360° page shows the contact, the call and the task
    page.get_by_role("link", name="Kestrel Optics GmbH").first.click()
    page.wait_for_url(re.compile(re.escape(account_url) + "$"))
    contacts = page.locator("section", has=page.get_by_role("heading", name="Contacts", exact=True))
    expect(contacts.get_by_role("link", name="Greta Lindqvist")).to_be_visible()
    timeline = page.get_by_role("list", name="Activities, newest first")
    expect(timeline.get_by_role("listitem").filter(has_text="Intro call about lens coatings")).to_be_visible()
    expect(timeline.get_by_role("listitem").filter(has_text="Send the coating samples")).to_be_visible()
    page.screenshot(path=f"{SHOTS}/rep-journey-360.png", full_page=True)
