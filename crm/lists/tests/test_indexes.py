"""Every list filter keeps its index under RLS (ARCHITECTURE.md, "Speed under RLS"): the page
query (filter + keyset order) or, for date ranges, the count query, read the named index with the
condition inside it, as the application role in the tenant."""

import pytest
from django.http import QueryDict

from accounts.models import Account
from crm.lists import registry, selectors
from crm.tenancy.context import tenant_context
from crm.tenancy.testing import assert_uses_index, assert_visible_ids_first

pytestmark = pytest.mark.django_db

ORDERED = [
    ("accounts", "q=acme", "account_name_key_idx"),
    ("accounts", "type=partner", "account_type_name_idx"),
    ("accounts", "industry=retail", "lists_account_industry_idx"),
    ("accounts", "status=inactive", "lists_account_status_idx"),
    ("accounts", "rating=hot", "lists_account_rating_idx"),
    ("accounts", "country=DE", "lists_account_country_idx"),
    ("contacts", "q=mül", "contact_name_key_idx"),
    ("contacts", "country=DE", "lists_contact_country_idx"),
    ("contacts", "language=de", "lists_contact_language_idx"),
    ("contacts", "do_not_contact=yes", "lists_contact_dnc_idx"),
    ("activities", "kind=task", "lists_activity_kind_idx"),
    ("activities", "status=open", ("lists_activity_status_idx", "activity_reminder_idx")),
    ("activities", "", "lists_activity_time_idx"),
]
CUSTOM = [
    ("cf_region=EMEA", "customvalue_text_idx"),
    ("cf_code=x12", "customvalue_text_idx"),
    ("cf_budget__gte=100&cf_budget__lte=120", "customvalue_number_idx"),
]
UNORDERED = [
    ("accounts", "created__gte=2026-01-01&created__lte=2026-02-01", "lists_account_created_idx"),
    ("accounts", "updated__lte=2026-01-01", "account_updated_idx"),
    ("contacts", "created__lte=2026-01-01", "lists_contact_created_idx"),
    ("activities", "due__gte=2026-01-01&due__lte=2026-03-01", "lists_activity_due_idx"),
    ("accounts", "tag=vip", ("accounttag_tag_idx", "accounttag_tag_name_idx")),
    ("contacts", "account=Filler 0007", "account_name_key_idx"),
]


@pytest.fixture
def rows(acme, custom_fields):
    """3,000 accounts, contacts and activities, the filtered values rare (as in a real book), so
    the planner's choice is the one it makes on a large tenant, not a tiny table's."""
    from datetime import timedelta

    from django.utils import timezone

    from accounts.models import Account, AccountTag, Tag
    from contacts.models import Activity, Contact
    from crm.customfields import services as customfields

    now = timezone.now()
    with tenant_context(acme.tenant):
        accounts = Account.objects.bulk_create([
            Account(tenant=acme.tenant, owner=acme.rep if n % 50 == 0 else acme.rep2, name=f"Filler {n:04d}",
                    industry="retail" if n % 100 == 0 else "technology", rating="hot" if n % 100 == 1 else "",
                    status="inactive" if n % 100 == 2 else "active", billing_country="DE" if n % 100 == 3 else "FR",
                    type="partner" if n % 100 == 4 else "customer")
            for n in range(3000)
        ])
        customfields.write_many(acme.tenant.pk, "accounts", [
            (a.pk, {"region": "EMEA" if n % 100 == 0 else "APAC", "budget": n, "code": f"X{n}"})
            for n, a in enumerate(accounts)
        ])
        tags = [Tag.objects.create(tenant=acme.tenant, name="VIP" if n == 0 else f"Tag {n}") for n in range(30)]
        AccountTag.objects.bulk_create([AccountTag(tenant=acme.tenant, account=a, tag=tags[n % 30])
                                        for n, a in enumerate(accounts)])
        Contact.objects.bulk_create([
            Contact(tenant=acme.tenant, owner=acme.rep2, last_name=f"Person {n:04d}", account=accounts[n],
                    mailing_country="DE" if n % 100 == 0 else "", language="de" if n % 100 == 1 else "en",
                    do_not_contact=n % 100 == 2)
            for n in range(3000)
        ])
        Activity.objects.bulk_create([
            Activity(tenant=acme.tenant, owner=acme.rep2, subject=f"Call {n}", occurred_at=now - timedelta(minutes=n),
                     kind="task" if n % 100 == 0 else "call", status="open" if n % 100 == 1 else "done",
                     due_at=now + timedelta(days=n) if n % 100 == 0 else None)
            for n in range(3000)
        ])
    # fresh statistics for every table these queries read (assert_uses_index analyzes only the
    # named index's table; a transactional test earlier in the run may have left stale ones)
    from crm.tenancy.testing import analyze_table_of

    for index in ("account_name_key_idx", "contact_name_key_idx", "lists_activity_time_idx", "customvalue_text_idx",
                  "accounttag_tag_idx", "tag_tenant_name_uniq", "recentview_latest_idx"):
        analyze_table_of(index)


def page_query(company, actor, key, query, *, ordered=True):
    definition = registry.get(key)
    with tenant_context(company.tenant):
        state = selectors.resolve(actor, definition, QueryDict(query))
        assert not state.errors, state.errors
        qs = selectors.rows_queryset(state)
        if not ordered:
            return qs.order_by().values("id")
        order = [f"-{f}" if state.sort.descending else f for f in state.sort.fields]
        return qs.order_by(*order)[:51]


def assert_uses_one_of(qs, indexes, tenant):
    """The query keeps one of these indexes (equally good ones, which the planner picks by row
    counts), with its conditions inside it."""
    errors = []
    for index in indexes:
        try:
            return assert_uses_index(qs, index, tenant=tenant)
        except AssertionError as exc:
            errors.append(str(exc))
    raise AssertionError("\n\n".join(errors))


def test_every_filter_keeps_an_index_under_rls(acme, rows):
    """One data set for all the cases (3,000 rows of each kind take a while to make)."""
    failures = []
    cases = [(key, query, index, True) for key, query, index in ORDERED] + \
        [(key, query, index, False) for key, query, index in UNORDERED] + \
        [("accounts", q, i, True) for q, i in CUSTOM]
    for key, query, index, ordered in cases:
        qs = page_query(acme, acme.admin, key, query, ordered=ordered)
        try:
            assert_uses_one_of(qs, index if isinstance(index, tuple) else (index,), acme.tenant)
        except AssertionError as exc:
            failures.append(f"{key}?{query}: {exc}")
    # a rep's list: their own rows through the owner index (and shares by key), however large the
    # company; never a walk of the name index filtering rows
    try:
        assert_visible_ids_first(page_query(acme, acme.rep, "accounts", ""), Account, tenant=acme.tenant)
    except AssertionError as exc:
        failures.append(f"rep: {exc}")
    # recently viewed: the latest of the person's own views
    try:
        assert_uses_index(page_query(acme, acme.admin, "accounts", "view=recent"), "recentview_latest_idx",
                          tenant=acme.tenant)
    except AssertionError as exc:
        failures.append(f"recent: {exc}")
    # the page after a cursor, deep in a filtered list
    from crm.tenancy.search import keyset_after

    with tenant_context(acme.tenant):
        state = selectors.resolve(acme.admin, registry.get("accounts"), QueryDict("industry=retail"))
        deep = selectors.rows_queryset(state).filter(keyset_after(("name_key", "id"), ["filler 1500", acme.tenant.pk]))
        deep = deep.order_by("name_key", "id")[:51]
    try:
        assert_uses_index(deep, "lists_account_industry_idx", tenant=acme.tenant)
    except AssertionError as exc:
        failures.append(f"cursor: {exc}")
    assert not failures, "\n\n".join(failures)
