import pytest

from accounts.models import Account
from accounts.panels import _PANELS, AccountPanel, register_panel
from accounts.tests.factories import AccountFactory, make_contacts
from crm.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db

ROLES = ["admin", "manager", "rep", "rep2", "agent"]


@pytest.mark.parametrize("who", ROLES)
def test_the_list_and_360_page_render_for_every_role(client_as, acme, who):
    member = getattr(acme, who)
    account = AccountFactory(tenant=acme.tenant, owner=member, name="Visible Co", website="https://visible.example",
                             domain="visible.example")
    client = client_as(member)
    listing = client.get("/accounts/")
    assert listing.status_code == 200
    assert "Visible Co" in listing.content.decode()
    assert "1 account" in listing.content.decode()
    detail = client.get(f"/accounts/{account.pk}/")
    assert detail.status_code == 200
    assert "visible.example" in detail.content.decode()


def test_a_rep_gets_a_404_for_a_colleagues_account(client_as, acme):
    theirs = AccountFactory(tenant=acme.tenant, owner=acme.rep2)
    client = client_as(acme.rep)
    assert client.get(f"/accounts/{theirs.pk}/").status_code == 404
    assert client.get(f"/accounts/{theirs.pk}/edit/").status_code == 404
    assert client.post(f"/accounts/{theirs.pk}/delete/").status_code == 404
    assert theirs.name not in client.get("/accounts/").content.decode()


def test_the_list_offers_new_account_and_bulk_owner_change_to_managers_only(client_as, acme):
    AccountFactory(tenant=acme.tenant, owner=acme.rep)
    # the bulk controls come from their own URL when a row is ticked (crm/lists bulk_actions)
    html = client_as(acme.rep).get("/accounts/").content.decode()
    assert "data-shortcut-new" in html
    assert "Change owner" not in client_as(acme.rep).get("/lists/accounts/bulk/actions/").content.decode()
    html = client_as(acme.manager).get("/accounts/").content.decode()
    assert 'hx-get="/lists/accounts/bulk/actions/"' in html and 'name="ids"' in html
    assert "Change owner" in client_as(acme.manager).get("/lists/accounts/bulk/actions/").content.decode()


def test_a_manager_changes_owners_from_the_list(client_as, acme):
    accounts = AccountFactory.create_batch(2, tenant=acme.tenant, owner=acme.rep)
    response = client_as(acme.manager).post("/lists/accounts/bulk/", {
        "action": "owner", "ids": [str(a.pk) for a in accounts], "owner": str(acme.rep2.pk), "next": "/accounts/"})
    assert response.status_code == 302
    with tenant_context(acme.tenant):
        assert set(Account.objects.for_tenant(acme.tenant).values_list("owner", flat=True)) == {acme.rep2.pk}


def test_a_rep_cannot_use_the_bulk_owner_change(client_as, acme):
    mine = AccountFactory(tenant=acme.tenant, owner=acme.rep)
    client = client_as(acme.rep)
    client.post("/lists/accounts/bulk/", {"action": "owner", "ids": [str(mine.pk)], "owner": str(acme.rep2.pk)})
    with tenant_context(acme.tenant):
        assert Account.objects.for_tenant(acme.tenant).get(pk=mine.pk).owner_id == acme.rep.pk


def test_creating_an_account_from_the_form(client_as, acme):
    response = client_as(acme.rep).post("/accounts/new/", {
        "name": "Form Co", "kind": "company", "type": "prospect", "status": "active", "currency": "EUR",
        "website": "www.form.example", "phone": "+33 1 23 45 67 89", "tags": "a, b"})
    assert response.status_code == 302
    with tenant_context(acme.tenant):
        account = Account.objects.for_tenant(acme.tenant).get(name="Form Co")
    assert response["Location"] == f"/accounts/{account.pk}/"
    assert account.domain == "form.example" and account.phone == "+33123456789" and account.owner_id == acme.rep.pk


def test_the_form_shows_service_errors_next_to_the_field(client_as, acme):
    response = client_as(acme.rep).post("/accounts/new/", {
        "name": "Form Co", "kind": "company", "type": "prospect", "status": "active", "currency": "EUR",
        "phone": "0301234567"})
    assert response.status_code == 200
    assert "phone" in response.context["form"].errors
    assert "Start the number with +" in response.content.decode()


def test_editing_sets_a_parent_by_name(client_as, acme):
    parent = AccountFactory(tenant=acme.tenant, owner=acme.rep, name="Holding")
    account = AccountFactory(tenant=acme.tenant, owner=acme.rep, name="Daughter")
    response = client_as(acme.rep).post(f"/accounts/{account.pk}/edit/", {
        "name": "Daughter", "kind": "company", "type": "customer", "status": "active", "currency": "EUR",
        "parent_name": "holding"})
    assert response.status_code == 302
    html = client_as(acme.rep).get(f"/accounts/{account.pk}/").content.decode()
    assert "Holding" in html
    assert "Daughter" in client_as(acme.rep).get(f"/accounts/{parent.pk}/").content.decode()


def test_the_360_page_shows_visible_contacts_and_registered_panels(client_as, acme):
    account = AccountFactory(tenant=acme.tenant, owner=acme.rep)
    make_contacts(acme, account, 2)
    make_contacts(acme, account, 1, owner=acme.admin)  # not the rep's
    register_panel(AccountPanel(key="test-panel", title="Test panel", template="accounts/tests/panel.html",
                                context=lambda request, account: {"word": "panel-body-marker"}, column="side"))
    try:
        html = client_as(acme.rep).get(f"/accounts/{account.pk}/").content.decode()
    finally:
        _PANELS.pop("test-panel")
    assert html.count("@customer.example</a>") == 2
    assert "Test panel" in html and "panel-body-marker" in html


def build_360(acme, contacts):
    root = AccountFactory(tenant=acme.tenant, owner=acme.rep, name="Root")
    account = AccountFactory(tenant=acme.tenant, owner=acme.rep, parent=root)
    for i in range(contacts // 5):
        child = AccountFactory(tenant=acme.tenant, owner=acme.rep, parent=account, employees=i)
        AccountFactory(tenant=acme.tenant, owner=acme.rep, parent=child)
    make_contacts(acme, account, contacts)
    return account


@pytest.mark.parametrize("rows", [5, 60])
def test_the_account_list_runs_a_fixed_number_of_queries(client_as, acme, rows, django_assert_max_num_queries):
    AccountFactory.create_batch(rows, tenant=acme.tenant, owner=acme.rep)
    for who in (acme.rep, acme.manager):
        client = client_as(who)
        # session, user, membership, tenant and history context, then: the page of accounts, its
        # owners and their users (prefetch), the count, the owner choices (twice for managers), the
        # manager's team
        with django_assert_max_num_queries(20):
            assert client.get("/accounts/?sort=updated").status_code == 200


@pytest.mark.parametrize("contacts", [5, 30])
def test_the_360_page_runs_a_fixed_number_of_queries(client_as, acme, contacts, django_assert_max_num_queries):
    account = build_360(acme, contacts)
    client = client_as(acme.rep)
    # the request's own ~10 (session, user, membership, tenant, history context), then the account,
    # contacts, history (+ referenced members and accounts), ancestors, descendants, tree rows,
    # tags, custom field definitions, and a few for panels other apps register (each bounded:
    # the timeline, possible duplicates and merges, account relations)
    with django_assert_max_num_queries(33):  # incl. the engine's capped count (engine.is_narrow)
        response = client.get(f"/accounts/{account.pk}/")
    assert response.status_code == 200
    assert len(response.context["contacts"]) == contacts
