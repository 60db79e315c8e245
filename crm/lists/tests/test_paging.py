"""Keyset pages (crm/lists/paging.py): forward and back without gaps, in either sort, and a broken
cursor starts over rather than failing."""

import pytest

from accounts import selectors
from accounts.tests.factories import AccountFactory
from crm.lists import paging, registry
from crm.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db


@pytest.fixture
def ACCOUNTS():  # noqa: N802 - reads like the constant it stands for
    return registry.get("accounts")


def test_keyset_pages_walk_forward_and_back_without_gaps(acme, ACCOUNTS):
    AccountFactory.create_batch(7, tenant=acme.tenant, owner=acme.rep)
    with tenant_context(acme.tenant):
        qs = selectors.account_list(actor=acme.rep)
        first = paging.keyset_page(qs, ACCOUNTS.sort("name"), size=3)
        second = paging.keyset_page(qs, ACCOUNTS.sort("name"), size=3, after=first.next_cursor)
        third = paging.keyset_page(qs, ACCOUNTS.sort("name"), size=3, after=second.next_cursor)
        back = paging.keyset_page(qs, ACCOUNTS.sort("name"), size=3, before=third.prev_cursor)
        every = [a.name for a in qs]
    assert [a.name for a in first.rows + second.rows + third.rows] == every
    assert third.next_cursor is None and first.prev_cursor is None
    assert [a.name for a in back.rows] == [a.name for a in second.rows]


def test_keyset_pages_by_last_update(acme, ACCOUNTS):
    AccountFactory.create_batch(5, tenant=acme.tenant, owner=acme.rep)
    with tenant_context(acme.tenant):
        qs = selectors.account_list(actor=acme.rep)
        first = paging.keyset_page(qs, ACCOUNTS.sort("updated"), size=2)
        rest = paging.keyset_page(qs, ACCOUNTS.sort("updated"), size=10, after=first.next_cursor)
        expected = list(qs.order_by("-updated_at", "-id"))
    assert first.rows + rest.rows == expected


def test_a_broken_cursor_starts_at_the_first_page(acme, ACCOUNTS):
    AccountFactory.create_batch(2, tenant=acme.tenant, owner=acme.rep)
    with tenant_context(acme.tenant):
        page = paging.keyset_page(selectors.account_list(actor=acme.rep), ACCOUNTS.sort("name"), after="garbage!")
    assert len(page.rows) == 2
