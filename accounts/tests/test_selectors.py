import pytest
from django.http import Http404

from accounts import selectors
from accounts.models import Account
from accounts.tests.factories import AccountFactory
from crm.tenancy.search import keyset_after
from crm.tenancy.testing import assert_uses_index, assert_visible_ids_first

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
            # the rep owns 1 in 50: the few-of-many case, where walking the name index and
            # filtering would be the slow plan at scale
            Account(tenant=acme.tenant, owner=acme.rep if n % 50 == 0 else acme.rep2, name=f"Filler {n:04d}")
            for n in range(3000)
        ])
    actor = getattr(acme, who)
    with in_tenant(acme):
        qs = selectors.account_list(actor=actor)
        last = list(qs.all())[30]
        deep = qs.filter(keyset_after(("name_key", "id"), (last.name_key, last.id)))
        searched = selectors.account_list(actor=actor, filters=selectors.AccountFilter(q="fill"))
    for query in (qs[:51], deep[:51], searched[:51]):
        if who == "rep":  # the rep's visible ids first (crm.access.engine), then by key
            assert_visible_ids_first(query, Account, tenant=acme.tenant)
        else:
            assert_uses_index(query, "account_name_key_idx", tenant=acme.tenant)
