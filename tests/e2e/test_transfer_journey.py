"""A manager hands a leaving rep's book over in the browser: picks the leaver and two receivers,
sees what would move, and nothing has moved until they confirm."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from accounts.models import Account
from crm.tenancy.context import tenant_context

pytestmark = [pytest.mark.e2e]

SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


def test_manager_previews_a_hand_over(page, sign_in, acme):
    with tenant_context(acme.tenant):
        for name in ("Initech", "Globodyne", "Hooli"):
            Account.objects.create(tenant=acme.tenant, name=name, owner=acme.rep)

    sign_in("manager@acme.example")
    page.get_by_role("link", name="Hand over a book").click()
    page.wait_for_url(re.compile(r"/settings/access/transfer/$"))
    page.get_by_label("Whose records").select_option(label="Acme Rep")
    page.get_by_role("checkbox", name="Acme Rep Two").check()
    page.get_by_role("checkbox", name="Acme Manager").check()
    page.get_by_role("button", name="Preview").press("Enter")
    preview = page.get_by_test_id("transfer-preview")
    expect(preview).to_contain_text("Accounts")
    expect(preview.get_by_role("row", name=re.compile("Accounts"))).to_contain_text("3")
    expect(page.get_by_role("button", name="Hand over now")).to_be_visible()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "access-transfer-preview.png"), full_page=True)
    with tenant_context(acme.tenant):
        assert Account.objects.filter(owner=acme.rep).count() == 3


@pytest.mark.worker
def test_admin_hands_a_reps_book_to_another_rep_who_then_works_it(page, sign_in, acme, celery_worker):
    """The issue's "Done when": the admin transfers a rep's book to another rep in the browser; the
    job runs on the real worker, the page shows what moved, and the receiver finds the accounts
    and their contacts in their own lists."""
    from contacts.models import Contact

    with tenant_context(acme.tenant):
        for name in ("Initech", "Globodyne"):
            account = Account.objects.create(tenant=acme.tenant, name=name, owner=acme.rep)
            Contact.objects.create(tenant=acme.tenant, last_name=f"Boss of {name}", account=account, owner=acme.rep)

    sign_in("rep2@acme.example")
    page.goto("/accounts/")
    expect(page.get_by_role("link", name="Initech")).to_have_count(0)
    page.context.clear_cookies()

    sign_in("admin@acme.example")
    page.get_by_role("link", name="Hand over a book").click()
    page.get_by_label("Whose records").select_option(label="Acme Rep")
    page.get_by_role("checkbox", name="Acme Rep Two").check()
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_test_id("transfer-preview").get_by_role("row", name=re.compile("Accounts"))).to_contain_text("2")
    page.get_by_role("button", name="Hand over now").click()
    progress = page.get_by_test_id("transfer-progress")
    expect(progress).to_contain_text("Handed over", timeout=30_000)
    expect(progress.get_by_role("row", name=re.compile("Contacts"))).to_contain_text("2")
    page.screenshot(path=str(SHOTS / "access-transfer-done.png"), full_page=True)
    page.context.clear_cookies()

    sign_in("rep2@acme.example")
    page.goto("/accounts/")
    expect(page.get_by_role("link", name="Initech")).to_be_visible()
    expect(page.get_by_role("link", name="Globodyne")).to_be_visible()
    page.goto("/contacts/")
    expect(page.get_by_text("Boss of Initech")).to_be_visible()
    with tenant_context(acme.tenant):
        assert not Account.objects.filter(owner=acme.rep).exists()
