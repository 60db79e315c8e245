"""Fixtures for browser journeys anywhere in the suite (a pytest plugin, registered in the root
conftest.py, so every app's journeys share one Chromium): Playwright (sync API) driving Debian's Chromium against pytest-django's live
server, on the real database (as the application role, under RLS) and the real Redis.

Playwright's sync API runs an asyncio loop in the test's thread; Django refuses database calls
from a thread with a running loop unless told that this is intended, hence DJANGO_ALLOW_ASYNC_UNSAFE.
"""

from __future__ import annotations

import os
import re

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CRM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PASSWORD = "Demo-pass-2026"  # what crm.tenancy.tests.factories gives every user


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM} (make chromium installs Debian's)")
    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()
    playwright.stop()


@pytest.fixture
def site(live_server, transactional_db):
    """The live server's base URL; the data a test makes is committed, so the server sees it."""
    return live_server.url


@pytest.fixture
def page(browser, site, fresh_cache):
    context = browser.new_context(base_url=site, locale="en-US")
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def sign_in(page):
    """sign_in(email, password=PASSWORD): through the sign-in page, as a person does."""

    def run(email: str, password: str = PASSWORD, *, expect_home: bool = True):
        page.goto("/accounts/login/")
        fill_sign_in(page, email, password)
        if expect_home:
            page.wait_for_url(re.compile(r"/$"))
        return page

    return run


def fill_sign_in(page, email: str, password: str) -> None:
    page.get_by_label(re.compile(r"^Email")).fill(email)
    page.get_by_label(re.compile(r"^Password\W*$")).fill(password)
    page.get_by_role("button", name=re.compile(r"^\s*sign in\s*$", re.I)).click()
