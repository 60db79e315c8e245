"""Field-level security on accounts: with the rep's profile hiding annual revenue, the website (and
with it the domain) and a custom field, and making the phone read only, the rep's account page,
form, API and services neither show nor change them; the admin (unrestricted) still does."""

import pytest
from django.core.exceptions import ValidationError

from accounts import services
from accounts.models import Account
from accounts.tests.factories import AccountFactory
from crm.access.tests.helpers import restrict_fields as restrict
from crm.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db

URL = "/api/v1/accounts/"
RESTRICTIONS = {("accounts", "annual_revenue"): "hidden", ("accounts", "website"): "hidden",
                ("accounts", "cf_secret"): "hidden", ("accounts", "phone"): "read_only"}



@pytest.fixture
def account(acme):
    """The rep's account with a revenue, a website, a phone, a hidden and a visible custom value."""
    from crm.customfields import services as customfields

    with tenant_context(acme.tenant):
        customfields.field_create(actor=acme.admin, object="accounts", label="Secret", type="text")
        customfields.field_create(actor=acme.admin, object="accounts", label="Region", type="text")
        account = AccountFactory(tenant=acme.tenant, owner=acme.rep, name="Initech", website="https://initech.example",
                                 domain="initech.example", phone="+4930123456", annual_revenue=7654321,
                                 currency="EUR", custom={"secret": "Zebra42", "region": "Northwest"})
        customfields.write_values(account, "accounts", account.custom)
    restrict(acme, RESTRICTIONS)
    return account


def reload(company, account) -> Account:
    with tenant_context(company.tenant):
        return Account.objects.for_tenant(company.tenant).get(pk=account.pk)


# --- the 360° page -----------------------------------------------------------------------------


def test_the_account_page_leaves_out_hidden_fields_label_and_value(client_as, acme, account):
    html = client_as(acme.rep).get(f"/accounts/{account.pk}/").content.decode()
    for leaked in ("Annual revenue", "7,654,321", "Website", "initech.example", "Secret", "Zebra42"):
        assert leaked not in html, leaked
    # what is not hidden still shows, the read-only phone too
    assert "+4930123456" in html and "Region" in html and "Northwest" in html


def test_the_admin_sees_every_field_on_the_account_page(client_as, acme, account):
    html = client_as(acme.admin).get(f"/accounts/{account.pk}/").content.decode()
    for shown in ("Annual revenue", "7,654,321", "Website", "initech.example", "Secret", "Zebra42"):
        assert shown in html, shown


def test_hierarchy_roll_ups_leave_out_a_hidden_revenue(client_as, acme, account):
    with tenant_context(acme.tenant):
        AccountFactory(tenant=acme.tenant, owner=acme.rep, name="Initech Child", parent=account,
                       annual_revenue=1111111, currency="EUR")
    html = client_as(acme.rep).get(f"/accounts/{account.pk}/").content.decode()
    assert "Child accounts" in html and "1,111,111" not in html
    assert "1,111,111" in client_as(acme.admin).get(f"/accounts/{account.pk}/").content.decode()


# --- the form ----------------------------------------------------------------------------------


def test_the_form_has_no_hidden_inputs_and_a_disabled_read_only_one(client_as, acme, account):
    response = client_as(acme.rep).get(f"/accounts/{account.pk}/edit/")
    form = response.context["form"]
    assert not {"annual_revenue", "website", "cf_secret"} & set(form.fields)
    assert form.fields["phone"].disabled and "cf_region" in form.fields
    html = response.content.decode()
    assert 'name="annual_revenue"' not in html and 'name="website"' not in html and 'name="cf_secret"' not in html
    assert "7654321" not in html and "Zebra42" not in html and "initech.example" not in html


def test_posted_values_of_hidden_and_read_only_fields_are_ignored(client_as, acme, account):
    response = client_as(acme.rep).post(f"/accounts/{account.pk}/edit/", {
        "name": "Initech Renamed", "kind": "company", "type": account.type, "status": account.status,
        "currency": "EUR", "phone": "+4930999999", "annual_revenue": "1", "website": "evil.example",
        "cf_secret": "Overwritten", "cf_region": "Southeast",
    })
    assert response.status_code == 302, response.context["form"].errors
    after = reload(acme, account)
    assert after.name == "Initech Renamed" and after.custom["region"] == "Southeast"
    assert after.phone == "+4930123456" and after.annual_revenue == 7654321
    assert after.website == "https://initech.example" and after.custom["secret"] == "Zebra42"


def test_the_admin_changes_every_field_through_the_form(client_as, acme, account):
    response = client_as(acme.admin).post(f"/accounts/{account.pk}/edit/", {
        "name": "Initech", "kind": "company", "type": account.type, "status": account.status, "currency": "EUR",
        "owner": str(acme.rep.pk), "phone": "+4930999999", "annual_revenue": "1", "website": "initech.example.org",
        "cf_secret": "New", "cf_region": "Northwest",
    })
    assert response.status_code == 302, response.context["form"].errors
    after = reload(acme, account)
    assert (after.phone, after.annual_revenue, after.domain, after.custom["secret"]) == (
        "+4930999999", 1, "initech.example.org", "New")


def test_a_new_account_from_the_form_keeps_read_only_fields_empty(client_as, acme, account):
    response = client_as(acme.rep).post("/accounts/new/", {
        "name": "Fresh", "kind": "company", "type": "prospect", "status": "active", "currency": "EUR",
        "phone": "+4930999999", "annual_revenue": "5",
    })
    assert response.status_code == 302, response.context["form"].errors
    with tenant_context(acme.tenant):
        fresh = Account.objects.for_tenant(acme.tenant).get(name="Fresh")
    assert fresh.phone == "" and fresh.annual_revenue is None


# --- the API -----------------------------------------------------------------------------------


def test_the_api_leaves_hidden_fields_out_of_list_and_detail(api, acme, account):
    client = api.as_(acme.rep)
    listed = client.get(URL).json()["results"]
    detail = client.get(f"{URL}{account.pk}/").json()
    for body in (listed[0], detail):
        assert not {"annual_revenue", "website", "domain"} & set(body)
        assert body["custom"] == {"region": "Northwest"}
        assert body["phone"] == "+4930123456"
    admin = api.as_(acme.admin).get(f"{URL}{account.pk}/").json()
    assert admin["annual_revenue"] is not None and admin["domain"] == "initech.example"
    assert admin["custom"]["secret"] == "Zebra42"


def test_the_api_refuses_changes_of_read_only_and_hidden_fields(api, acme, account):
    client = api.as_(acme.rep)
    response = client.patch(f"{URL}{account.pk}/", {"phone": "+4930999999"}, format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["phone"]
    response = client.patch(f"{URL}{account.pk}/", {"annual_revenue": "1"}, format="json")
    assert response.status_code == 400 and "annual_revenue" in response.json()["error"]["fields"]
    response = client.patch(f"{URL}{account.pk}/", {"custom": {"secret": "Guess"}}, format="json")
    assert response.status_code == 400 and "custom.secret" in response.json()["error"]["fields"]
    after = reload(acme, account)
    assert (after.phone, after.annual_revenue, after.custom["secret"]) == ("+4930123456", 7654321, "Zebra42")
    # the same value is no change; other fields change
    ok = client.patch(f"{URL}{account.pk}/", {"phone": "+4930123456", "name": "Initech AG"}, format="json")
    assert ok.status_code == 200, ok.json()
    assert reload(acme, account).name == "Initech AG"


def test_the_admin_changes_them_through_the_api(api, acme, account):
    response = api.as_(acme.admin).patch(f"{URL}{account.pk}/", {"phone": "+4930999999", "annual_revenue": "2"},
                                         format="json")
    assert response.status_code == 200, response.json()
    assert reload(acme, account).phone == "+4930999999"


def test_the_api_refuses_filtering_by_a_hidden_field(api, acme, account):
    restrict(acme, {**RESTRICTIONS, ("accounts", "rating"): "hidden"})
    client = api.as_(acme.rep)
    response = client.get(f"{URL}?rating=hot")
    assert response.status_code == 400 and "rating" in response.json()["error"]["fields"]
    response = client.get(f"{URL}?cf_secret=Zeb")
    assert response.status_code == 400 and "cf_secret" in response.json()["error"]["fields"]
    # a search does not match the hidden domain
    assert client.get(f"{URL}?search=initech.example").json()["results"] == []
    assert client.get(f"{URL}?cf_region=North").json()["results"][0]["name"] == "Initech"
    admin = api.as_(acme.admin)
    assert admin.get(f"{URL}?cf_secret=Zeb").status_code == 200
    assert admin.get(f"{URL}?search=initech.example").json()["results"][0]["name"] == "Initech"


# --- the services ------------------------------------------------------------------------------


def test_the_services_refuse_a_read_only_or_hidden_field_whoever_calls_them(acme, account):
    with tenant_context(acme.tenant):
        with pytest.raises(ValidationError) as exc:
            services.account_update(actor=acme.rep, account=account, phone="+4930999999")
        assert list(exc.value.message_dict) == ["phone"]
        with pytest.raises(ValidationError) as exc:
            services.account_create(actor=acme.rep, name="Sneaky", annual_revenue=5)
        assert "annual_revenue" in exc.value.message_dict
        services.account_update(actor=acme.admin, account=account, phone="+4930999999")


def test_read_only_tags_cannot_be_changed(acme, account):
    restrict(acme, {("accounts", "tags"): "read_only"})
    with tenant_context(acme.tenant):
        with pytest.raises(ValidationError) as exc:
            services.account_set_tags(actor=acme.rep, account=account, names=["VIP"])
        assert "tags" in exc.value.message_dict
        services.account_update(actor=acme.rep, account=account, name="Still editable")
        services.account_set_tags(actor=acme.admin, account=account, names=["VIP"])
        assert [t.name for t in account.tags.all()] == ["VIP"]


# --- in a browser --------------------------------------------------------------------------------


@pytest.mark.e2e
def test_a_restricted_rep_sees_and_edits_an_account_without_the_hidden_fields(page, sign_in, acme, account):
    """Screenshots: artifacts/screenshots/fls-account-*.png."""
    import re
    from pathlib import Path

    from playwright.sync_api import expect

    shots = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    sign_in(acme.rep.user.email)
    page.goto(f"/accounts/{account.pk}/")
    facts = page.get_by_role("region", name="Key facts")
    expect(facts).to_contain_text("+4930123456")
    expect(facts).not_to_contain_text("Annual revenue")
    expect(facts).not_to_contain_text("Website")
    page.screenshot(path=str(shots / "fls-account-detail.png"), full_page=True)
    page.get_by_role("link", name=re.compile("Edit")).first.click()
    expect(page.get_by_label(re.compile("^Phone"))).to_be_disabled()
    expect(page.get_by_label(re.compile("^Annual revenue"))).to_have_count(0)
    page.get_by_label(re.compile("^Region")).fill("Southwest")
    page.screenshot(path=str(shots / "fls-account-form.png"), full_page=True)
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Changes saved.")).to_be_visible()
    page.goto("/accounts/")
    expect(page.get_by_role("link", name="Initech")).to_be_visible()
    page.screenshot(path=str(shots / "fls-account-list.png"), full_page=True)
