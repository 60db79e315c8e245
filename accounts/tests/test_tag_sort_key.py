"""A tag's accounts in name order page from the tag's own link rows (AccountTag.account_name_key,
copied from the account by triggers: accounts/migrations/0003). The copy follows every write; the
admin's tag page walks accounttag_tag_name_idx under RLS, a rep's keeps collecting visible ids."""

import pytest
from django.db import connection
from django.http import QueryDict

from accounts.models import Account, AccountTag, Tag
from accounts.tests.factories import AccountFactory
from crm.lists import paging, registry
from crm.lists import selectors as lists
from crm.tenancy.context import tenant_context
from crm.tenancy.testing import analyze_table_of, assert_uses_index

pytestmark = pytest.mark.django_db


def link_key(company, account, tag):
    with tenant_context(company.tenant):
        return AccountTag.objects.for_tenant(company.tenant).get(account=account, tag=tag).account_name_key


@pytest.fixture
def vip(acme):
    with tenant_context(acme.tenant):
        return Tag.objects.create(tenant=acme.tenant, name="VIP")


def tag(company, account, tag):
    with tenant_context(company.tenant):
        AccountTag.objects.create(tenant=company.tenant, account=account, tag=tag)


def test_a_new_tag_link_carries_the_accounts_sort_key(acme, vip):
    account = AccountFactory(tenant=acme.tenant, owner=acme.rep, name="Straße Bau GmbH")
    tag(acme, account, vip)
    assert link_key(acme, account, vip) == "strasse bau gmbh"


def test_renaming_an_account_updates_its_tag_links(acme, vip):
    account = AccountFactory(tenant=acme.tenant, owner=acme.rep, name="Old Name")
    tag(acme, account, vip)
    from accounts.models import AccountTagEvent

    with tenant_context(acme.tenant):
        events = AccountTagEvent.objects.filter(tenant_id=acme.tenant.pk).count()
        Account.objects.for_tenant(acme.tenant).filter(pk=account.pk).update(name="Zeta Works")  # a bulk update
        # the copy is bookkeeping: the rename is in the account's history, not the tag link's
        assert AccountTagEvent.objects.filter(tenant_id=acme.tenant.pk).count() == events
    assert link_key(acme, account, vip) == "zeta works"


def test_moving_a_link_to_another_account_takes_that_accounts_key(acme, vip):
    """As a merge moves the loser's tags to the master (a plain UPDATE of account_id)."""
    loser = AccountFactory(tenant=acme.tenant, owner=acme.rep, name="Acme Ltd")
    master = AccountFactory(tenant=acme.tenant, owner=acme.rep, name="Acme Limited")
    tag(acme, loser, vip)
    with tenant_context(acme.tenant):
        AccountTag.objects.for_tenant(acme.tenant).filter(account=loser).update(account=master)
    assert link_key(acme, master, vip) == "acme limited"


def test_a_written_key_cannot_drift_from_the_account(acme, vip):
    account = AccountFactory(tenant=acme.tenant, owner=acme.rep, name="Right Name")
    tag(acme, account, vip)
    with tenant_context(acme.tenant), connection.cursor() as cursor:
        cursor.execute("UPDATE accounts_accounttag SET account_name_key = 'aaa wrong' WHERE account_id = %s",
                       [account.pk])
    assert link_key(acme, account, vip) == "right name"


def test_tagging_through_the_bulk_action_keeps_the_key(acme, vip):
    from crm.lists import services

    account = AccountFactory(tenant=acme.tenant, owner=acme.rep, name="Bulk Tagged")
    with tenant_context(acme.tenant):
        services.accounts_add_tag(actor=acme.admin, ids=[account.pk], name="VIP")
    assert link_key(acme, account, vip) == "bulk tagged"


# --- the page ---------------------------------------------------------------------------------


@pytest.fixture
def tagged(acme):
    """2,000 accounts, one in ten tagged VIP, owned by two reps; names out of creation order."""
    with tenant_context(acme.tenant):
        accounts = Account.objects.bulk_create([
            Account(tenant=acme.tenant, owner=acme.rep if n % 7 == 0 else acme.rep2, name=f"Firm {(n * 37) % 2000:04d}")
            for n in range(2000)
        ])
        tags = [Tag.objects.create(tenant=acme.tenant, name="VIP" if n == 0 else f"Tag {n}") for n in range(10)]
        AccountTag.objects.bulk_create([AccountTag(tenant=acme.tenant, account=a, tag=tags[n % 10])
                                        for n, a in enumerate(accounts)])
    for index in ("account_name_key_idx", "accounttag_tag_name_idx", "tag_tenant_name_uniq"):
        analyze_table_of(index)
    return accounts[::10]


def tag_state(company, actor, query="tag=vip"):
    return lists.resolve(actor, registry.get("accounts"), QueryDict(query))


def test_an_admins_tag_page_walks_the_tags_links_in_name_order_under_rls(acme, tagged):
    with tenant_context(acme.tenant):
        state = tag_state(acme, acme.admin)
        qs = lists.rows_queryset(state)
        keys = paging.order_fields(qs, state.sort)
        assert keys == ["keyset_name_key", "keyset_id"]
        first = qs.order_by(*keys)[:51]
        deep = qs.filter(paging.keyset_after(keys, ["firm 0300", acme.tenant.pk])).order_by(*keys)[:51]
        last = qs.order_by(*[f"-{k}" for k in keys])[:51]
    for query in (first, deep, last):
        assert_uses_index(query, "accounttag_tag_name_idx", tenant=acme.tenant)


def test_a_reps_tag_page_keeps_collecting_their_visible_accounts_first(acme, tagged):
    with tenant_context(acme.tenant):
        state = tag_state(acme, acme.rep)
        qs = lists.rows_queryset(state)
        assert paging.order_fields(qs, state.sort) == ["name_key", "id"]


def test_an_admin_pages_a_tag_forward_back_and_to_the_end_without_gaps(acme, tagged):
    expected = sorted((a.name.casefold(), str(a.pk)) for a in tagged)
    sort = registry.get("accounts").sort("name")
    with tenant_context(acme.tenant):
        qs = lists.rows_queryset(tag_state(acme, acme.admin))
        pages, page = [], paging.keyset_page(qs, sort, size=60)
        pages.append(page)
        while page.next_cursor:
            page = paging.keyset_page(qs, sort, size=60, after=page.next_cursor)
            pages.append(page)
        back = paging.keyset_page(qs, sort, size=60, before=pages[-1].prev_cursor)
        last = paging.keyset_page(qs, sort, size=60, last=True)
        total = paging.count(qs)
    walked = [(a.name.casefold(), str(a.pk)) for p in pages for a in p.rows]
    assert walked == expected
    assert pages[0].first and pages[-1].last and len(pages) == 4
    assert back.rows == pages[-2].rows
    # "Last" is the final full page, read backwards from the end of the index
    assert [(a.name.casefold(), str(a.pk)) for a in last.rows] == expected[-60:] and last.last and not last.first
    assert total == paging.Count(200, False)


def test_the_admins_tag_filter_combines_with_other_filters(acme, tagged):
    owned = sorted((a.name.casefold(), str(a.pk)) for a in tagged if a.owner_id == acme.rep.pk)
    with tenant_context(acme.tenant):
        qs = lists.rows_queryset(tag_state(acme, acme.admin, f"tag=VIP&owner={acme.rep.pk}"))
        page = paging.keyset_page(qs, registry.get("accounts").sort("name"), size=100)
    assert [(a.name.casefold(), str(a.pk)) for a in page.rows] == owned


def test_the_api_pages_an_admins_tag_filter_through_its_links_without_gaps(api, acme, tagged):
    expected = sorted((a.name.casefold(), str(a.pk)) for a in tagged)
    client, seen, url = api.as_(acme.admin), [], "/api/v1/accounts/?tag=VIP&page_size=70"
    while url:
        body = client.get(url).json()
        seen += [(r["name"].casefold(), r["id"]) for r in body["results"]]
        url = body["next"]
    assert seen == expected


def test_the_admins_tag_page_counts_right_from_the_links_alone(client_as, acme, tagged, monkeypatch):
    from crm.lists import views

    client = client_as(acme.admin)
    html = client.get("/accounts/?tag=vip").content.decode()
    assert "200 accounts" in html
    with tenant_context(acme.tenant):
        state = tag_state(acme, acme.admin)
        cheaper = registry.get("accounts").count_rows(state)
        assert cheaper is not None and cheaper.model is AccountTag
        # with any other filter the links alone would overcount: the list's own query is counted
        assert registry.get("accounts").count_rows(tag_state(acme, acme.admin, f"tag=vip&owner={acme.rep.pk}")) is None
        assert registry.get("accounts").count_rows(tag_state(acme, acme.rep)) is None
    owned = sum(1 for a in tagged if a.owner_id == acme.rep.pk)
    assert f"{owned} accounts" in client.get(f"/accounts/?tag=vip&owner={acme.rep.pk}").content.decode()
    monkeypatch.setattr(paging, "COUNT_CAP", 50)
    with tenant_context(acme.tenant):
        assert views.count_of(state, lists.rows_queryset(state)).estimated


def test_a_tag_nobody_has_lists_no_accounts_for_admin_or_rep(client_as, api, acme, vip):
    AccountFactory(tenant=acme.tenant, owner=acme.rep, name="Untagged")
    for who in (acme.admin, acme.rep):
        assert client_as(who).get("/accounts/?tag=no-such-tag").context["rows"] == []
        assert api.as_(who).get("/api/v1/accounts/?tag=no-such-tag").json()["results"] == []
