"""The sign-up, invitation, two-factor and lockout journeys, in a real browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from crm.tenancy.context import tenant_context
from crm.tenancy.models import Membership, Role, Tenant, User
from crm.tenancy.tests.totp import totp_code
from tests.browser import PASSWORD, fill_sign_in

# `acme` (conftest.py at the root) is committed here: a test with the live server is transactional
pytestmark = [pytest.mark.e2e]

HOME = re.compile(r"/$")


def test_a_new_company_signs_up_and_lands_on_its_home(page):
    page.goto("/signup/")
    page.get_by_label("Company name").fill("Initech")
    page.get_by_label("Your name").fill("Peter Gibbons")
    page.get_by_label(re.compile(r"^Email")).fill("peter@initech.example")
    page.get_by_label(re.compile(r"^Password\*?$")).fill("Correct-horse-42")
    page.get_by_label(re.compile(r"^Password \(again\)")).fill("Correct-horse-42")
    page.get_by_role("button", name=re.compile(r"sign up", re.I)).click()

    page.wait_for_url(HOME)
    expect(page.get_by_text("Initech").first).to_be_visible()
    tenant = Tenant.objects.get(name="Initech")
    with tenant_context(tenant):
        membership = Membership.objects.for_tenant(tenant).get()
    assert membership.user.email == "peter@initech.example"
    assert membership.role == Role.ADMIN


def test_a_company_name_error_shows_next_to_the_field(page):
    page.goto("/signup/")
    page.get_by_label("Company name").fill("!!!")
    page.get_by_label("Your name").fill("Peter Gibbons")
    page.get_by_label(re.compile(r"^Email")).fill("peter@initech.example")
    page.get_by_label(re.compile(r"^Password\*?$")).fill("Correct-horse-42")
    page.get_by_label(re.compile(r"^Password \(again\)")).fill("Correct-horse-42")
    page.get_by_role("button", name=re.compile(r"sign up", re.I)).click()
    expect(page.get_by_text("Use at least one letter or digit in your company's name.")).to_be_visible()
    assert not User.objects.filter(email="peter@initech.example").exists()


def test_an_admin_invites_a_colleague_who_joins_from_the_email(page, browser, site, sign_in, acme):
    from django.core import mail

    from crm.outbox.services import deliver_pending

    sign_in("admin@acme.example")
    page.goto("/team/")
    page.get_by_label(re.compile(r"^Email")).fill("sam@acme.example")
    page.get_by_label(re.compile(r"^Role\W*$")).select_option(label="Sales manager")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_role("cell", name="sam@acme.example", exact=True)).to_be_visible()

    mail.outbox = []
    deliver_pending()  # what the outbox worker does
    [message] = mail.outbox
    assert message.to == ["sam@acme.example"]
    link = re.search(r"https?://\S+/invite/\S+/", message.body).group(0)
    assert link.startswith(site)

    invitee = browser.new_context(base_url=site).new_page()
    try:
        invitee.goto(link)
        expect(invitee.get_by_text("sam@acme.example")).to_be_visible()
        invitee.get_by_label("Your name").fill("Sam Seller")
        invitee.get_by_label(re.compile(r"^Password\*?$")).fill("Sams-own-pass-2026")
        invitee.get_by_label(re.compile(r"^Password \(again\)")).fill("Sams-own-pass-2026")
        invitee.get_by_role("button", name="Create account and join").click()
        invitee.wait_for_url(HOME)
        expect(invitee.get_by_text("Acme").first).to_be_visible()
    finally:
        invitee.context.close()
    with tenant_context(acme.tenant):
        joined = Membership.objects.for_tenant(acme.tenant).get(user__email="sam@acme.example")
    assert joined.role == Role.MANAGER and joined.user.full_name == "Sam Seller"


def test_a_person_turns_on_totp_and_then_signs_in_with_a_code(page, sign_in, acme):
    sign_in("rep@acme.example")
    page.goto("/accounts/2fa/totp/activate/")
    if "/reauthenticate/" in page.url:  # allauth asks for the password before 2FA changes
        page.get_by_label(re.compile(r"^Password")).fill(PASSWORD)
        page.get_by_role("button", name=re.compile(r"confirm", re.I)).click()
    secret = page.get_by_label("Authenticator secret").input_value()
    page.get_by_label(re.compile(r"^Authenticator code")).fill(totp_code(secret))
    page.get_by_role("button", name=re.compile(r"activate", re.I)).click()
    page.wait_for_url(re.compile(r"/accounts/2fa/"))

    page.goto("/accounts/logout/")
    page.get_by_role("main").get_by_role("button", name=re.compile(r"sign out", re.I)).click()
    page.goto("/accounts/login/")
    fill_sign_in(page, "rep@acme.example", PASSWORD)
    page.wait_for_url(re.compile(r"/accounts/2fa/authenticate/"))
    page.get_by_label(re.compile(r"code", re.I)).fill(totp_code(secret))
    page.get_by_role("button", name=re.compile(r"sign in|continue|verify", re.I)).click()
    page.wait_for_url(HOME)
    expect(page.get_by_text("Acme").first).to_be_visible()


def test_five_wrong_passwords_lock_the_account_and_the_right_one_is_refused(page, acme):
    for _ in range(5):
        page.goto("/accounts/login/")
        fill_sign_in(page, "rep@acme.example", "Not-my-password-1")
    expect(page.get_by_role("heading", name="Too many failed sign-ins")).to_be_visible()

    page.goto("/accounts/login/")
    fill_sign_in(page, "rep@acme.example", PASSWORD)
    expect(page.get_by_role("heading", name="Too many failed sign-ins")).to_be_visible()
    page.goto("/")
    assert "/accounts/login/" in page.url  # still signed out
