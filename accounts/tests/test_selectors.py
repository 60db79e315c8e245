import pytest
from django.http import Http404

from accounts import selectors
from accounts.models import Account
from accounts.tests.factories import AccountFactory
from crm.tenancy.search import keyset_after
from crm.tenancy.testing import assert_uses_index

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(acme):
    return {who: AccountFactory(tenant=acme.tenant, owner=getattr(acme, who), name=f"{who} account")
            for who in ("rep", "rep2", "manager", "admin")}


def names(actor, in_tenant, company, **filters):
    with in_tenant(company):
        return {a.name for a in selectors.account_list(actor=actor, filters=selectors.AccountFilter(**filters))}


def test_a_rep_sees_only_their_own_accounts(acme, book, in_tenant):
    assert names(acme.rep, in_tenant, acme) == {"rep account"}


def test_a_manager_sees_their_teams_accounts(acme, book, in_tenant):
    assert names(acme.manager, in_tenant, acme) == {"rep account", "rep2 account", "manager account"}


def test_an_admin_sees_all_accounts(acme, book, in_tenant):
    assert names(acme.admin, in_tenant, acme) == {"rep account", "rep2 account", "manager account", "admin account"}


def test_nobody_sees_another_companys_accounts(acme, globex, book, in_tenant):
    assert names(globex.admin, in_tenant, globex) == set()


def test_a_colleagues_account_is_not_found_for_a_rep(acme, book, in_tenant):
    with in_tenant(acme), pytest.raises(Http404):
        selectors.account_get(actor=acme.rep, id=book["rep2"].pk)


def test_search_matches_the_start_of_the_name_case_blind_or_the_domain(acme, in_tenant):
    AccountFactory(tenant=acme.tenant, owner=acme.rep, name="Straße AG")
    AccountFactory(tenant=acme.tenant, owner=acme.rep, name="Other", domain="other.example")
    assert names(acme.rep, in_tenant, acme, q="STRASSE") == {"Straße AG"}
    assert names(acme.rep, in_tenant, acme, q="other.example") == {"Other"}
    assert names(acme.rep, in_tenant, acme, q="AG") == set()


def test_filters_by_type_rating_and_owner(acme, in_tenant):
    AccountFactory(tenant=acme.tenant, owner=acme.rep, name="Hot one", rating="hot", type="prospect")
    AccountFactory(tenant=acme.tenant, owner=acme.rep2, name="Cold one", rating="cold", type="customer")
    assert names(acme.manager, in_tenant, acme, rating="hot") == {"Hot one"}
    assert names(acme.manager, in_tenant, acme, type="customer") == {"Cold one"}
    assert names(acme.manager, in_tenant, acme, owner=acme.rep2.pk) == {"Cold one"}


def test_keyset_pages_walk_forward_and_back_without_gaps(acme, in_tenant):
    AccountFactory.create_batch(7, tenant=acme.tenant, owner=acme.rep)
    with in_tenant(acme):
        qs = selectors.account_list(actor=acme.rep)
        first = selectors.keyset_page(qs, size=3)
        second = selectors.keyset_page(qs, size=3, after=first.next_cursor)
        third = selectors.keyset_page(qs, size=3, after=second.next_cursor)
        back = selectors.keyset_page(qs, size=3, before=third.prev_cursor)
        every = [a.name for a in qs]
    assert [a.name for a in first.rows + second.rows + third.rows] == every
    assert third.next_cursor is None and first.prev_cursor is None
    assert [a.name for a in back.rows] == [a.name for a in second.rows]


def test_keyset_pages_by_last_update(acme, in_tenant):
    AccountFactory.create_batch(5, tenant=acme.tenant, owner=acme.rep)
    with in_tenant(acme):
        qs = selectors.account_list(actor=acme.rep)
        first = selectors.keyset_page(qs, sort="updated", size=2)
        rest = selectors.keyset_page(qs, sort="updated", size=10, after=first.next_cursor)
        expected = list(qs.order_by("-updated_at", "-id"))
    assert first.rows + rest.rows == expected


def test_a_broken_cursor_starts_at_the_first_page(acme, in_tenant):
    AccountFactory.create_batch(2, tenant=acme.tenant, owner=acme.rep)
    with in_tenant(acme):
        page = selectors.keyset_page(selectors.account_list(actor=acme.rep), after="garbage!")
    assert len(page.rows) == 2


def test_counts_are_exact_up_to_the_cap_then_capped(acme, in_tenant):
    AccountFactory.create_batch(4, tenant=acme.tenant, owner=acme.rep)
    with in_tenant(acme):
        qs = selectors.account_list(actor=acme.rep)
        assert str(selectors.counted(qs)) == "4"
        capped = selectors.counted(qs, cap=3)
    assert capped.capped and str(capped) == "10,000+"


def test_the_tree_shows_ancestors_and_rolls_up_visible_children(acme, in_tenant):
    root = AccountFactory(tenant=acme.tenant, owner=acme.rep, name="Root")
    account = AccountFactory(tenant=acme.tenant, owner=acme.rep, name="Group", parent=root)
    a = AccountFactory(tenant=acme.tenant, owner=acme.rep, name="A", parent=account, employees=10,
                       annual_revenue=100, currency="EUR")
    AccountFactory(tenant=acme.tenant, owner=acme.rep, name="A1", parent=a, employees=5, annual_revenue=50,
                   currency="USD")
    AccountFactory(tenant=acme.tenant, owner=acme.rep2, name="Hidden", parent=account, employees=1000)
    with in_tenant(acme):
        tree = selectors.account_tree(actor=acme.rep, account=account)
    assert [x.name for x in tree.ancestors] == ["Root"]
    assert [(n.account.name, n.depth) for n in tree.nodes] == [("A", 1), ("A1", 2)]
    assert (tree.child_count, tree.subtree_count, tree.employees) == (1, 2, 15)
    assert tree.revenue == {"EUR": 100, "USD": 50}


@pytest.mark.parametrize("who", ["rep", "admin"])
def test_the_account_list_keeps_its_index_under_rls(acme, who, in_tenant):
    with in_tenant(acme):
        Account.objects.bulk_create([
            Account(tenant=acme.tenant, owner=acme.rep if n % 2 else acme.rep2, name=f"Filler {n:04d}")
            for n in range(3000)
        ])
    actor = getattr(acme, who)
    index = "account_owner_name_idx" if who == "rep" else "account_name_key_idx"
    with in_tenant(acme):
        qs = selectors.account_list(actor=actor)
        last = list(qs.all())[100]
        deep = qs.filter(keyset_after(("name_key", "id"), (last.name_key, last.id)))
        searched = selectors.account_list(actor=actor, filters=selectors.AccountFilter(q="fill"))
    for query in (qs[:51], deep[:51], searched[:51]):
        assert_uses_index(query, index, tenant=acme.tenant)
