"""Activities in a real browser: completing a task with the keyboard from "My day", and logging a
call from an account's 360° page without leaving it (htmx). Uses the e2e fixtures (Chromium)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from contacts.models import Activity
from contacts.tests.factories import AccountFactory, TaskFactory
from crm.tenancy.context import tenant_context

pytestmark = [pytest.mark.e2e]


def test_a_rep_completes_an_overdue_task_from_my_day_with_the_x_key(page, sign_in, acme):
    task = TaskFactory(tenant=acme.tenant, owner=acme.rep, subject="Send the offer",
                       due_at=timezone.now() - timedelta(days=1))
    sign_in("rep@acme.example")
    row = page.get_by_label("Task: Send the offer")
    expect(row).to_be_visible()
    row.focus()
    page.keyboard.press("x")
    expect(page.locator(f"#task-{task.pk}")).to_contain_text("Done")
    with tenant_context(acme.tenant):
        assert Activity.objects.for_tenant(acme.tenant).get(pk=task.pk).status == "done"


def test_a_rep_logs_a_call_from_the_account_page_without_leaving_it(page, sign_in, acme):
    account = AccountFactory(tenant=acme.tenant, owner=acme.rep, name="Initech")
    sign_in("rep@acme.example")
    page.goto(f"/accounts/{account.pk}/")
    quick = page.locator("details", has_text="Log a call")
    quick.locator("summary").click()
    quick.get_by_label("Subject").fill("Called about the renewal")
    quick.get_by_role("button", name="Save").click()
    expect(page.get_by_role("list", name="Activities, newest first")).to_contain_text("Called about the renewal")
    assert re.search(rf"/accounts/{account.pk}/$", page.url)
