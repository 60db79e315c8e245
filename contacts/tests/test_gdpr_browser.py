"""The contact's GDPR and delete pages and the meeting form in a real browser, as an admin uses
them with the keyboard; screenshots go to artifacts/screenshots/."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from contacts import services
from contacts.tests.factories import AccountFactory
from crm.tenancy.context import tenant_context

pytestmark = [pytest.mark.e2e]

SHOTS = "artifacts/screenshots"


def test_an_admin_erases_a_person_from_their_page(acme, sign_in, page):
    home = AccountFactory(tenant=acme.tenant, owner=acme.admin, name="Fjord Analytics")
    board = AccountFactory(tenant=acme.tenant, owner=acme.admin, name="Nordic Data Council")
    with tenant_context(acme.tenant):
        contact = services.contact_create(
            actor=acme.admin, first_name="Ingrid", last_name="Solberg", title="CTO", account=home.pk,
            emails=["ingrid@fjord.example", "ingrid@home.example"], phones=["+47 22 123456"],
            relations=[{"account": board.pk, "role": "board member"}],
        )
        services.activity_log(actor=acme.admin, kind="call", subject="Ingrid asked about pricing", contact=contact)
        now = timezone.now()
        services.activity_log(actor=acme.admin, kind="meeting", subject="Quarterly review", account=home,
                              occurred_at=now, ends_at=now + timedelta(hours=1), attendees=[acme.rep.pk],
                              attendee_contacts=[contact.pk])
    sign_in("admin@acme.example")
    page.goto(f"/contacts/{contact.pk}/")
    expect(page.get_by_role("link", name="Export data")).to_be_visible()
    expect(page.get_by_text("board member")).to_be_visible()
    page.screenshot(path=f"{SHOTS}/contact-detail-actions.png", full_page=True)

    with page.expect_download() as download:
        page.get_by_role("link", name="Export data").click()
    assert download.value.suggested_filename.startswith(f"contact-{contact.pk}")

    page.goto(f"/activities/account/{home.pk}/")
    page.goto(f"/accounts/{home.pk}/")
    meeting = page.get_by_role("listitem").filter(has_text="Quarterly review")
    expect(meeting.get_by_text(re.compile(r"With Acme Rep, Ingrid Solberg"))).to_be_visible()
    meeting.get_by_role("link", name=re.compile("^Edit")).click()
    expect(page.get_by_label("Contacts attending")).to_be_visible()
    page.screenshot(path=f"{SHOTS}/meeting-edit-attendees.png", full_page=True)

    page.goto(f"/contacts/{contact.pk}/erase/")
    reason = page.get_by_label("Why is this person erased?")
    reason.focus()
    reason.fill("Erasure request by email of 3 May, ticket 4711")
    page.keyboard.press("Tab")
    page.keyboard.press("Space")  # the confirmation box
    page.screenshot(path=f"{SHOTS}/contact-erase.png", full_page=True)
    page.get_by_role("button", name="Erase this person").click()
    page.wait_for_url(re.compile(rf"/contacts/{contact.pk}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Erased contact")
    expect(page.get_by_text("This person's data was erased")).to_be_visible()
    expect(page.get_by_role("link", name="Edit", exact=True)).to_have_count(0)
    expect(page.get_by_text("ingrid@fjord.example")).to_have_count(0)
    page.screenshot(path=f"{SHOTS}/contact-erased.png", full_page=True)


def test_the_delete_page_says_what_goes_and_cancels_back(acme, sign_in, page):
    with tenant_context(acme.tenant):
        contact = services.contact_create(actor=acme.rep, first_name="Lars", last_name="Eide",
                                          emails=["lars@eide.example"])
    sign_in("rep@acme.example")
    page.goto(f"/contacts/{contact.pk}/")
    page.get_by_role("link", name="Delete").click()
    expect(page.get_by_role("heading", name="Delete this contact?")).to_be_visible()
    expect(page.get_by_text("1 email, 0 phone numbers")).to_be_visible()
    page.screenshot(path=f"{SHOTS}/contact-delete.png", full_page=True)
    page.get_by_role("button", name="Delete contact").click()
    page.wait_for_url(re.compile(r"/contacts/$"))
    expect(page.get_by_text("Lars Eide deleted.")).to_be_visible()


def test_the_contact_form_sets_another_account_with_a_role(acme, sign_in, page):
    AccountFactory(tenant=acme.tenant, owner=acme.rep, name="Tromsø Harbour Trust")
    sign_in("rep@acme.example")
    page.goto("/contacts/new/")
    page.get_by_label(re.compile(r"^Last name")).fill("Haug")
    page.locator("#id_relation_account_0").select_option(label="Tromsø Harbour Trust")
    page.locator("#id_relation_role_0").fill("advisor")
    page.screenshot(path=f"{SHOTS}/contact-form-relations.png", full_page=True)
    page.get_by_role("button", name="Add contact").click()
    page.wait_for_url(re.compile(r"/contacts/[0-9a-f-]{36}/$"))
    accounts = page.locator("section", has=page.get_by_role("heading", name="Accounts", exact=True))
    expect(accounts.get_by_text("advisor")).to_be_visible()
