"""The account 360° page's activity panel and the contact page's timeline: paging, quick actions,
query budgets, and the indexes the lists use under RLS."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.panels import _PANELS
from contacts import selectors
from contacts.models import Activity, Contact
from contacts.tests.factories import AccountFactory, ActivityFactory, ContactFactory
from crm.tenancy.context import tenant_context
from crm.tenancy.search import keyset_after
from crm.tenancy.testing import assert_uses_index, assert_visible_ids_first

pytestmark = pytest.mark.django_db


def make_activities(company, n, **links):
    now = timezone.now()
    with tenant_context(company.tenant):
        return Activity.objects.bulk_create([
            Activity(tenant=company.tenant, kind="call" if i % 2 else "note", subject=f"Activity {i:03d}",
                     owner=company.rep, occurred_at=now - timedelta(minutes=i), status="done", **links)
            for i in range(n)
        ])


def test_the_activity_panel_is_registered_for_the_account_page():
    panel = _PANELS["activities"]
    assert (panel.order, panel.column, panel.template) == (20, "main", "contacts/panels/account_activities.html")


def test_the_timeline_is_newest_first_and_loads_more_by_cursor(client_as, acme):
    account = AccountFactory(tenant=acme.tenant, owner=acme.rep)
    make_activities(acme, 30, account=account)
    client = client_as(acme.rep)
    first = client.get(f"/activities/account/{account.pk}/")
    subjects = [a.subject for a in first.context["timeline"].activities]
    assert subjects == [f"Activity {i:03d}" for i in range(25)]
    more = client.get(first.context["timeline_more_url"])
    assert [a.subject for a in more.context["timeline"].activities] == [f"Activity {i:03d}" for i in range(25, 30)]
    assert more.context["timeline_more_url"] is None


def test_the_timeline_filters_by_kind(client_as, acme):
    account = AccountFactory(tenant=acme.tenant, owner=acme.rep)
    make_activities(acme, 6, account=account)
    response = client_as(acme.rep).get(f"/activities/account/{account.pk}/?kind=call")
    assert {a.kind for a in response.context["timeline"].activities} == {"call"}


def test_a_junk_cursor_is_the_first_page(client_as, acme):
    account = AccountFactory(tenant=acme.tenant, owner=acme.rep)
    make_activities(acme, 3, account=account)
    assert client_as(acme.rep).get(f"/activities/account/{account.pk}/?before=%%%").status_code == 200


def test_a_rep_sees_only_their_own_activities_on_an_account_timeline(client_as, acme):
    account = AccountFactory(tenant=acme.tenant, owner=acme.rep)
    ActivityFactory(tenant=acme.tenant, owner=acme.rep2, account=account, subject="Colleague's call")
    ActivityFactory(tenant=acme.tenant, owner=acme.rep, account=account, subject="My call")
    html = client_as(acme.rep).get(f"/activities/account/{account.pk}/").content.decode()
    assert "My call" in html and "Colleague" not in html


def test_a_rep_gets_404_for_a_colleagues_account_timeline(client_as, acme):
    account = AccountFactory(tenant=acme.tenant, owner=acme.rep2)
    client = client_as(acme.rep)
    assert client.get(f"/activities/account/{account.pk}/").status_code == 404
    assert client.post(f"/activities/account/{account.pk}/log/", {"kind": "note", "subject": "x"}).status_code == 404


@pytest.mark.parametrize("kind,extra", [("call", {"direction": "outbound", "duration_minutes": "7"}),
                                        ("task", {"due_at": "2030-01-01T09:00", "priority": "high"}),
                                        ("note", {})])
def test_quick_actions_add_to_the_timeline_without_leaving_the_page(client_as, acme, kind, extra):
    account = AccountFactory(tenant=acme.tenant, owner=acme.rep)
    response = client_as(acme.rep).post(f"/activities/account/{account.pk}/log/",
                                        {"kind": kind, "subject": f"Quick {kind}", **extra}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert [a.subject for a in response.context["timeline"].activities] == [f"Quick {kind}"]
    assert response["HX-Trigger"]


def test_a_quick_action_without_a_subject_shows_the_error_in_the_form(client_as, acme):
    account = AccountFactory(tenant=acme.tenant, owner=acme.rep)
    response = client_as(acme.rep).post(f"/activities/account/{account.pk}/log/", {"kind": "call", "subject": ""},
                                        HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()


def test_completing_a_task_on_the_timeline_swaps_the_entry(client_as, acme):
    account = AccountFactory(tenant=acme.tenant, owner=acme.rep)
    task = ActivityFactory(tenant=acme.tenant, owner=acme.rep, account=account, kind="task", status="open")
    response = client_as(acme.rep).post(f"/activities/{task.pk}/complete/", {"as": "timeline"},
                                        HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and f'id="activity-{task.pk}"' in response.content.decode()


def test_the_account_page_shows_the_activity_panel(client_as, acme):
    account = AccountFactory(tenant=acme.tenant, owner=acme.rep)
    ActivityFactory(tenant=acme.tenant, owner=acme.rep, account=account, subject="Panel call")
    response = client_as(acme.rep).get(f"/accounts/{account.pk}/")
    assert response.status_code == 200
    assert "Panel call" in response.content.decode()


@pytest.mark.parametrize("n", [5, 60])
def test_the_timeline_partial_runs_a_fixed_number_of_queries(client_as, acme, n, django_assert_max_num_queries):
    account = AccountFactory(tenant=acme.tenant, owner=acme.rep)
    make_activities(acme, n, account=account)
    client = client_as(acme.rep)
    with django_assert_max_num_queries(21):  # incl. two capped counts of the engine (accounts, activities), cached 5 min (engine.is_narrow)
        assert client.get(f"/activities/account/{account.pk}/").status_code == 200


@pytest.mark.parametrize("n", [5, 60])
def test_the_contact_page_runs_a_fixed_number_of_queries(client_as, acme, n, django_assert_max_num_queries):
    account = AccountFactory(tenant=acme.tenant, owner=acme.rep)
    contact = ContactFactory(tenant=acme.tenant, owner=acme.rep, account=account)
    make_activities(acme, n, account=account, contact=contact)
    client = client_as(acme.rep)
    with django_assert_max_num_queries(32):
        assert client.get(f"/contacts/{contact.pk}/").status_code == 200


def test_the_contact_list_uses_its_name_index_under_rls(acme):
    ContactFactory(tenant=acme.tenant, owner=acme.rep, last_name="Müller")
    with tenant_context(acme.tenant):
        qs = selectors.contact_list(actor=acme.admin, search="mül")
        assert_uses_index(qs[:51], "contact_name_key_idx", tenant=acme.tenant)


def test_a_reps_contact_list_uses_the_owner_index_under_rls(acme):
    ContactFactory(tenant=acme.tenant, owner=acme.rep, last_name="Müller")
    # 2,000 colleagues' contacts, so "owned by the rep" is selective: among a few dozen rows any
    # plan is as good, and the planner rightly picks any index at all
    with tenant_context(acme.tenant):
        Contact.objects.bulk_create([Contact(tenant=acme.tenant, owner=acme.rep2, last_name=f"Filler {n:04d}")
                                     for n in range(2000)])
    with tenant_context(acme.tenant):
        qs = selectors.contact_list(actor=acme.rep)
        # the rep's few visible ids are collected through an owner index first (crm.access.engine),
        # then fetched by key: never a walk of the name index with the owner as a Filter
        assert_visible_ids_first(qs[:51], Contact, tenant=acme.tenant)


def _fill(company, n=3000):
    """Enough rows that the planner's choice of index means something (a tiny table ties)."""
    accounts = [AccountFactory(tenant=company.tenant, owner=company.rep) for _ in range(10)]
    now = timezone.now()
    with tenant_context(company.tenant):
        Activity.objects.bulk_create([
            Activity(tenant=company.tenant, kind="task" if i % 3 else "call", subject=f"Filler {i}",
                     owner=company.rep if i % 2 else company.rep2, account=accounts[0 if i % 10 else i % 7],
                     occurred_at=now - timedelta(minutes=i), due_at=now + timedelta(days=i % 30),
                     status="done" if i % 7 else "open", remind_at=now + timedelta(minutes=i % 500 - 250))
            for i in range(n)
        ])
    return accounts


def test_the_account_timeline_uses_its_index_under_rls(acme):
    account = _fill(acme)[3]  # ~45 of 3,000 rows: the timeline index is the selective path
    with tenant_context(acme.tenant):
        page = selectors.account_timeline(actor=acme.admin, account=account)
        cursor = page.next_cursor
        for actor, kind in ((acme.admin, ""), (acme.admin, "call")):
            for before in (None, cursor):
                qs = selectors.activities_visible(actor).filter(account_id=account.pk)
                if kind:
                    qs = qs.filter(kind=kind)
                # the selector's own query, captured
                from django.db import connection
                from django.test.utils import CaptureQueriesContext

                with CaptureQueriesContext(connection) as queries:
                    selectors.timeline(actor=actor, account=account, kind=kind, before=before)
                sql = next(q["sql"] for q in queries.captured_queries if 'FROM "contacts_activity"' in q["sql"])
                # (one kind of a small account: the planner may read the account's rows by the
                # (tenant, account) prefix and sort the few it finds; still this index's range)
                assert_uses_index(sql, "activity_account_time_idx", tenant=acme.tenant, allow_filter=bool(kind))
    assert len(page.activities) == 25


def test_the_due_reminder_probe_uses_the_reminder_index_under_rls(acme):
    from contacts.services import due_reminders_query

    _fill(acme)
    with tenant_context(acme.tenant):
        # as in production, few reminders are due at any moment (selective data: with 7 % of the
        # rows due, the planner's choice flipped with the statistics left by earlier tests)
        Activity.objects.filter(tenant=acme.tenant, remind_at__lte=timezone.now()).exclude(
            subject__in=[f"Filler {i}" for i in range(7, 70, 7)]).update(remind_at=timezone.now() + timedelta(days=1))
        # reminded_at IS NULL is checked on the few rows in the (status, remind_at) range
        assert_uses_index(due_reminders_query(acme.tenant.pk, timezone.now()), "activity_reminder_idx",
                          tenant=acme.tenant, allow_filter=True)


def test_a_reps_activity_list_finds_their_few_rows_through_the_visibility_indexes(acme):
    _fill(acme)
    with tenant_context(acme.tenant):
        # the rep keeps 60 of the 3,000: few of many (the manager, who sees all of it, may walk
        # the time index: for them it is the right plan)
        keep = list(Activity.objects.filter(owner=acme.rep).order_by("id").values_list("id", flat=True)[:60])
        Activity.objects.filter(owner=acme.rep).exclude(id__in=keep).update(owner=acme.rep2)
        qs = selectors.activity_list(actor=acme.rep)
        first = list(qs[:26])
        deeper = qs.filter(keyset_after(("occurred_at", "id"), (first[-1].occurred_at, first[-1].id), descending=True))
        for query in (qs[:26], deeper[:26]):
            assert_visible_ids_first(query, Activity, tenant=acme.tenant)


def test_contact_search_by_email_uses_the_email_index_under_rls(acme):
    with tenant_context(acme.tenant):
        Contact.objects.bulk_create([
            Contact(tenant=acme.tenant, owner=acme.rep, last_name=f"Filler{i}", email=f"f{i}@x.example")
            for i in range(2000)
        ])
        qs = selectors.contact_list(actor=acme.admin, search="F7@X.example")
        assert_uses_index(qs[:51], "contact_email_idx", tenant=acme.tenant)
        assert [c.last_name for c in qs] == ["Filler7"]
