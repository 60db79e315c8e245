"""People and long lists are typeaheads, and the bulk controls come when a row is ticked: the
list page costs the same for a team of 5 as for 500, and "Merge…" takes 2–3 selected records to
the merge page."""

from urllib.parse import parse_qs, urlparse

import pytest

from accounts.tests.factories import AccountFactory
from contacts.tests.factories import ContactFactory
from crm.tenancy.context import tenant_context
from crm.tenancy.models import Membership, Role
from crm.tenancy.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def big_team(acme):
    """60 more reps at Acme, named Person 00 … Person 59."""
    with tenant_context(acme.tenant):
        return [Membership.objects.create(tenant=acme.tenant, role=Role.REP, reports_to=acme.manager,
                                          user=UserFactory(email=f"p{n:02d}@acme.example", full_name=f"Person {n:02d}"))
                for n in range(60)]


def picked(response):
    assert response.status_code == 200
    return [(r["value"], r["label"]) for r in response.json()["results"]]


def test_the_list_page_renders_no_one_but_the_owners_on_it(client_as, acme, big_team,
                                                          django_assert_max_num_queries):
    AccountFactory.create_batch(3, tenant=acme.tenant, owner=big_team[7])
    client = client_as(acme.admin)
    with django_assert_max_num_queries(20):  # the test platform's overhead is 12 (see test_pages)
        html = client.get("/accounts/").content.decode()
    assert "Person 07" in html  # the owner column
    assert "Person 08" not in html and "<option" not in html.split('id="filter_owner"')[1].split("</span>")[0]


def test_the_owner_typeahead_offers_at_most_twenty_matching_members(client_as, acme, big_team):
    client = client_as(acme.admin)
    assert len(picked(client.get("/lists/accounts/pick/owner/?q=person"))) == 20
    assert picked(client.get("/lists/accounts/pick/owner/?q=person 42")) == [(str(big_team[42].pk), "Person 42")]
    assert picked(client.get("/lists/accounts/pick/owner/?q=p42@")) == [(str(big_team[42].pk), "Person 42")]
    assert picked(client.get("/lists/accounts/pick/owner/?q=nobody by that name")) == []


def test_a_rep_is_offered_only_their_own_team(client_as, acme, big_team):
    offered = picked(client_as(acme.rep).get("/lists/contacts/pick/owner/?q="))
    assert offered == [(str(acme.rep.pk), "Acme Rep")]


def test_an_inactive_member_and_another_company_are_not_offered(client_as, acme, globex, big_team):
    with tenant_context(acme.tenant):
        Membership.objects.filter(pk=big_team[3].pk).update(is_active=False)
    offered = {label for _, label in picked(client_as(acme.admin).get("/lists/activities/pick/owner/?q=e"))}
    assert "Person 03" not in offered and not any(label.startswith("Globex") for label in offered)


def test_the_country_filter_is_a_typeahead_too(client_as, acme):
    client = client_as(acme.rep)
    assert picked(client.get("/lists/accounts/pick/country/?q=germ")) == [("DE", "Germany")]
    assert ("DE", "Germany") in picked(client.get("/lists/contacts/pick/country/?q=de"))
    html = client.get("/accounts/?country=DE").content.decode()
    assert 'value="Germany"' in html and "<option value=\"FR\"" not in html


def test_a_short_list_stays_a_select_and_an_unknown_picker_is_404(client_as, acme):
    client = client_as(acme.rep)
    assert client.get("/lists/accounts/pick/type/?q=c").status_code == 404
    assert client.get("/lists/nothing/pick/owner/").status_code == 404
    assert '<select name="type"' in client.get("/accounts/").content.decode()


def test_a_bad_owner_in_the_url_is_a_field_error_not_a_failure(client_as, acme, big_team):
    response = client_as(acme.rep).get(f"/accounts/?owner={big_team[1].pk}")  # not in the rep's team
    assert response.status_code == 200 and "owner" in response.context["errors"]


def test_the_bulk_controls_come_with_a_people_picker_on_request(client_as, acme, big_team):
    AccountFactory(tenant=acme.tenant, owner=acme.rep)
    client = client_as(acme.manager)
    page = client.get("/accounts/").content.decode()
    assert 'hx-get="/lists/accounts/bulk/actions/"' in page and 'name="action" value="owner"' not in page
    actions = client.get("/lists/accounts/bulk/actions/").content.decode()
    assert 'data-picker-url="/lists/accounts/pick/owner/"' in actions and 'name="owner"' in actions
    assert 'value="merge"' in actions and 'value="tag"' in actions and "Person 01" not in actions
    # a rep may not change owners: no owner control for them
    assert 'name="owner"' not in client_as(acme.rep).get("/lists/accounts/bulk/actions/").content.decode()


def test_the_bulk_owner_change_takes_the_picked_member(client_as, acme, big_team):
    account = AccountFactory(tenant=acme.tenant, owner=acme.rep)
    client_as(acme.manager).post("/lists/accounts/bulk/", {"action": "owner", "ids": [account.pk],
                                                            "owner": big_team[5].pk})
    with tenant_context(acme.tenant):
        account.refresh_from_db()
    assert account.owner_id == big_team[5].pk


# --- Merge selected -----------------------------------------------------------------------------


def merge_target(response):
    assert response.status_code == 302
    url = urlparse(response["Location"])
    return url.path, parse_qs(url.query)


def test_merging_two_selected_accounts_opens_the_merge_page_with_them(client_as, acme):
    a = AccountFactory(tenant=acme.tenant, owner=acme.rep, name="Acme Ltd")
    b = AccountFactory(tenant=acme.tenant, owner=acme.rep, name="Acme Limited")
    client = client_as(acme.rep)
    path, query = merge_target(client.post("/lists/accounts/bulk/", {"action": "merge", "ids": [a.pk, b.pk]}))
    assert path == "/duplicates/merge/" and query == {"object": ["accounts"], "ids": [str(a.pk), str(b.pk)]}
    page = client.get(f"{path}?object=accounts&ids={a.pk}&ids={b.pk}")
    assert page.status_code == 200 and "Acme Limited" in page.content.decode()


def test_merging_three_selected_contacts_opens_the_merge_page(client_as, acme):
    people = [ContactFactory(tenant=acme.tenant, owner=acme.rep, last_name="Miller") for _ in range(3)]
    path, query = merge_target(client_as(acme.manager).post(
        "/lists/contacts/bulk/", {"action": "merge", "ids": [p.pk for p in people]}))
    assert path == "/duplicates/merge/" and query["object"] == ["contacts"] and len(query["ids"]) == 3


@pytest.mark.parametrize("count", [1, 4])
def test_merge_explains_that_it_takes_two_or_three(client_as, acme, count):
    ids = [AccountFactory(tenant=acme.tenant, owner=acme.rep).pk for _ in range(count)]
    response = client_as(acme.rep).post("/lists/accounts/bulk/", {"action": "merge", "ids": ids, "next": "/accounts/"},
                                        follow=True)
    assert response.redirect_chain[-1][0] == "/accounts/"
    assert f"select 2 or 3 (you selected {count})" in response.content.decode()


def test_merge_refuses_records_the_person_may_not_edit(client_as, acme):
    mine = AccountFactory(tenant=acme.tenant, owner=acme.rep)
    theirs = AccountFactory(tenant=acme.tenant, owner=acme.rep2)  # a colleague's: not visible to the rep
    response = client_as(acme.rep).post("/lists/accounts/bulk/", {"action": "merge", "ids": [mine.pk, theirs.pk],
                                                                  "next": "/accounts/"}, follow=True)
    assert response.redirect_chain[-1][0] == "/accounts/"
    assert "Only records you may edit can be merged" in response.content.decode()
