"""The list pages as people use them: filters (built-in and custom), columns, views, paging."""

import pytest

from accounts.models import Account
from contacts.tests.factories import ActivityFactory, ContactFactory, TaskFactory
from crm.lists.models import SavedView
from crm.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db


def names(response):
    return [row["title"] for row in response.context["rows"]]


def test_a_custom_picklist_filter_shows_only_matching_accounts(client_as, acme, custom_fields, make_account):
    make_account(name="Emea One", custom={"region": "EMEA"})
    make_account(name="Apac One", custom={"region": "APAC"})
    response = client_as(acme.rep).get("/accounts/?cf_region=EMEA")
    assert names(response) == ["Emea One"]


def test_a_custom_number_range_and_text_prefix_filter(client_as, acme, custom_fields, make_account):
    make_account(name="Small", custom={"budget": 100, "code": "AB-1"})
    make_account(name="Big", custom={"budget": 5000, "code": "XY-2"})
    client = client_as(acme.rep)
    assert names(client.get("/accounts/?cf_budget__gte=1000")) == ["Big"]
    assert names(client.get("/accounts/?cf_code=ab")) == ["Small"]
    assert names(client.get("/accounts/?cf_budget__empty=no")) == ["Big", "Small"]


def test_a_bad_filter_value_says_what_is_wrong_instead_of_failing(client_as, acme, custom_fields, make_account):
    make_account(name="Anything")
    client = client_as(acme.rep)
    response = client.get("/accounts/?cf_budget__gte=lots&created__gte=yesterday&type=spaceship")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Some filters were not applied" in html
    assert "is not a number" in html and "valid date" in html and "valid choice" in html
    assert names(response) == ["Anything"]


@pytest.mark.parametrize("query, expected", [
    ("type=partner", ["Partner Co"]),
    ("industry=retail", ["Partner Co"]),
    ("status=inactive", ["Sleepy Co"]),
    ("rating=hot", ["Partner Co"]),
    ("country=DE", ["Sleepy Co"]),
    ("q=part", ["Partner Co"]),
    ("created__gte=2020-01-01", ["Partner Co", "Sleepy Co"]),
    ("updated__lte=2000-01-01", []),
])
def test_built_in_account_filters(client_as, acme, make_account, query, expected):
    make_account(name="Partner Co", type=Account.Type.PARTNER, industry="retail", rating="hot")
    make_account(name="Sleepy Co", status=Account.Status.INACTIVE, billing_country="DE")
    assert names(client_as(acme.rep).get(f"/accounts/?{query}")) == expected


def test_the_tag_and_owner_filters(client_as, acme, make_account):
    from accounts import services

    tagged = make_account(name="Tagged")
    make_account(name="Plain")
    make_account(name="Theirs", owner=acme.rep2)
    with tenant_context(acme.tenant):
        services.account_set_tags(actor=acme.rep, account=tagged, names=["VIP"])
    client = client_as(acme.manager)
    assert names(client.get("/accounts/?tag=vip")) == ["Tagged"]
    assert names(client.get(f"/accounts/?owner={acme.rep2.pk}")) == ["Theirs"]


def test_contact_filters(client_as, acme, make_account):
    account = make_account(name="Umbrella")
    ContactFactory(tenant=acme.tenant, owner=acme.rep, last_name="Adler", account=account, language="de",
                   mailing_country="DE")
    ContactFactory(tenant=acme.tenant, owner=acme.rep, last_name="Brown", do_not_contact=True)
    client = client_as(acme.rep)

    def contact_names(query):
        return [c.last_name for c in client.get(f"/contacts/?{query}").context["contacts"]]

    assert contact_names("account=umbrella") == ["Adler"]
    assert contact_names("language=de") == ["Adler"]
    assert contact_names("country=DE") == ["Adler"]
    assert contact_names("do_not_contact=yes") == ["Brown"]
    assert contact_names(f"owner={acme.rep.pk}") == ["Adler", "Brown"]


def test_activity_filters(client_as, acme):
    ActivityFactory(tenant=acme.tenant, owner=acme.rep, subject="A call")
    TaskFactory(tenant=acme.tenant, owner=acme.rep, subject="A task")
    client = client_as(acme.rep)

    def subjects(query):
        return [a.subject for a in client.get(f"/activities/?{query}").context["activities"]]

    assert subjects("kind=task") == ["A task"]
    assert subjects("status=done") == ["A call"]
    assert subjects("due__gte=2000-01-01") == ["A task"]


def test_chosen_columns_persist_and_custom_fields_are_columns(client_as, acme, custom_fields, make_account):
    make_account(name="Cols", custom={"region": "EMEA", "budget": 1234})
    client = client_as(acme.rep)
    response = client.post("/lists/accounts/columns/", {"columns": ["cf_region", "owner", "cf_budget"],
                                                         "next": "/accounts/"})
    assert response.status_code == 302
    page = client.get("/accounts/")
    assert [c.key for c in page.context["columns"]] == ["name", "cf_region", "owner", "cf_budget"]
    html = page.content.decode()
    assert "EMEA" in html and "1,234" in html
    assert "(custom, no sort)" in html


def test_a_saved_view_keeps_filters_columns_and_sort(client_as, acme, custom_fields, make_account):
    make_account(name="Emea", custom={"region": "EMEA"})
    make_account(name="Other", custom={"region": "APAC"})
    client = client_as(acme.rep)
    client.post("/lists/accounts/columns/", {"columns": ["cf_region"], "next": "/accounts/"})
    response = client.post("/lists/accounts/views/", {"name": "EMEA deals", "query": "cf_region=EMEA&sort=updated"})
    assert response.status_code == 302
    with tenant_context(acme.tenant):
        view = SavedView.objects.for_tenant(acme.tenant).get()
    assert (view.params, view.columns, view.sort, view.shared) == ({"cf_region": ["EMEA"]}, ["name", "cf_region"],
                                                                   "updated", False)
    page = client.get(f"/accounts/?view={view.pk}")
    assert names(page) == ["Emea"]
    assert page.context["state"].sort.key == "updated"
    assert "EMEA deals" in page.content.decode()


def test_a_rep_never_sees_a_colleagues_private_view_but_sees_shared_ones(client_as, acme, globex):
    from crm.lists import services

    with tenant_context(acme.tenant):
        private = services.view_create(actor=acme.rep2, object="accounts", name="Rep2 private", params={},
                                       columns=[], sort="name")
        shared = services.view_create(actor=acme.rep2, object="accounts", name="Team shared", params={},
                                      columns=[], sort="name", shared=True)
    with tenant_context(globex.tenant):
        foreign = services.view_create(actor=globex.rep, object="accounts", name="Globex view", params={},
                                       columns=[], sort="name", shared=True)
    client = client_as(acme.rep)
    html = client.get("/accounts/").content.decode()
    assert "Team shared" in html and "Rep2 private" not in html and "Globex view" not in html
    for other in (private, foreign):  # the list without the view, and a message; never its rows or name
        response = client.get(f"/accounts/?view={other.pk}")
        assert response.status_code == 200 and response.context["active_view"] is None
        assert "not shared with you" in response.content.decode() and other.name not in response.content.decode()
    assert client.post(f"/lists/views/{private.pk}/update/", {"query": ""}).status_code == 404
    assert client.post(f"/lists/views/{foreign.pk}/delete/").status_code == 404
    assert client.get(f"/accounts/?view={shared.pk}").status_code == 200
    # only the owner or an admin changes a shared view
    assert client.post(f"/lists/views/{shared.pk}/delete/").status_code == 404
    assert client_as(acme.admin).post(f"/lists/views/{shared.pk}/delete/").status_code == 302


def test_built_in_views_mine_and_recently_viewed(client_as, acme, make_account):
    mine = make_account(name="Mine")
    make_account(name="Team", owner=acme.rep2)
    seen = make_account(name="Seen", owner=acme.rep2)
    client = client_as(acme.manager)
    make_account(name="Managers own", owner=acme.manager)
    assert names(client.get("/accounts/?view=mine")) == ["Managers own"]
    assert client.get(f"/accounts/{seen.pk}/").status_code == 200
    assert client.get(f"/accounts/{mine.pk}/").status_code == 200
    assert names(client.get("/accounts/?view=recent")) == ["Mine", "Seen"]
    assert len(names(client.get("/accounts/"))) == 4


def test_keyset_paging_reaches_the_last_page_and_back(client_as, acme):
    from accounts.tests.factories import AccountFactory

    for i in range(120):
        AccountFactory(tenant=acme.tenant, owner=acme.rep, name=f"Acc {i:03d}")
    client = client_as(acme.rep)
    first = client.get("/accounts/")
    assert names(first)[0] == "Acc 000" and first.context["next_url"] and not first.context["prev_url"]
    last = client.get("/accounts/" + first.context["last_url"])
    assert names(last) == [f"Acc {i:03d}" for i in range(70, 120)]
    assert not last.context["next_url"]
    before = client.get("/accounts/" + last.context["prev_url"])
    assert names(before) == [f"Acc {i:03d}" for i in range(20, 70)]
    second = client.get("/accounts/" + first.context["next_url"])
    assert names(second) == [f"Acc {i:03d}" for i in range(50, 100)]


def test_counts_are_exact_under_the_cap_and_estimated_above_it(client_as, acme, monkeypatch):
    from accounts.tests.factories import AccountFactory
    from crm.lists import paging

    AccountFactory.create_batch(60, tenant=acme.tenant, owner=acme.rep)
    client = client_as(acme.rep)
    assert "60 accounts" in client.get("/accounts/").content.decode()
    monkeypatch.setattr(paging, "COUNT_CAP", 10)
    html = client.get("/accounts/").content.decode()
    assert "(estimated)" in html and "about" in html


@pytest.mark.parametrize("rows", [5, 50])
def test_each_list_page_runs_a_bounded_number_of_queries(client_as, acme, custom_fields, make_account, rows,
                                                         django_assert_max_num_queries):
    from accounts.tests.factories import AccountFactory

    account = make_account(name="Custom", custom={"region": "EMEA", "budget": 5})
    AccountFactory.create_batch(rows, tenant=acme.tenant, owner=acme.rep)
    for _ in range(rows):
        ContactFactory(tenant=acme.tenant, owner=acme.rep, account=account)
        TaskFactory(tenant=acme.tenant, owner=acme.rep, account=account)
    for who in (acme.rep, acme.manager):
        client = client_as(who)
        client.post("/lists/accounts/columns/", {"columns": ["type", "owner", "tags", "cf_region", "cf_budget"]})
        client.post("/lists/contacts/columns/", {"columns": ["account", "owner", "email"]})
        client.post("/lists/activities/columns/", {"columns": ["kind", "account", "contact", "owner"]})
        # the platform's per-request overhead is 12 (savepoint, tenant/user settings, user,
        # membership, history context); the list adds at most 8 whatever the number of rows:
        # custom fields, members, team, the page, its look-ups (tags / accounts + contacts), the
        # count, the saved views
        for url in ("/accounts/?sort=updated", "/contacts/", "/activities/"):
            with django_assert_max_num_queries(20):
                assert client.get(url).status_code == 200


def test_a_rep_arranges_a_shared_view_for_themselves_without_changing_it(client_as, acme, make_account):
    from crm.lists import services

    make_account(name="Shared row")
    with tenant_context(acme.tenant):
        shared = services.view_create(actor=acme.rep2, object="accounts", name="Team", params={},
                                      columns=["name", "type"], sort="name", shared=True)
    client = client_as(acme.rep)
    client.post("/lists/accounts/columns/", {"columns": ["owner"], "view": str(shared.pk)})
    assert [c.key for c in client.get(f"/accounts/?view={shared.pk}").context["columns"]] == ["name", "owner"]
    with tenant_context(acme.tenant):
        shared.refresh_from_db()
    assert shared.columns == ["name", "type"]
    assert [c.key for c in client_as(acme.rep2).get(f"/accounts/?view={shared.pk}").context["columns"]] == \
        ["name", "type"]
