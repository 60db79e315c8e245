"""Custom fields through the product: definitions (admins), values on records by form and API,
filters that stay indexed under RLS, and the pages."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts import selectors as account_selectors
from accounts import services as account_services
from accounts.models import Account
from contacts import services as contact_services
from crm.customfields import selectors, services
from crm.customfields.models import CustomField, CustomValue
from crm.tenancy.context import tenant_context
from crm.tenancy.testing import assert_uses_index

pytestmark = pytest.mark.django_db


def define(company, object="accounts", **kwargs):
    with tenant_context(company.tenant):
        return services.field_create(actor=company.admin, object=object, **kwargs)


@pytest.fixture
def fields(acme):
    return {
        "segment": define(acme, label="Segment", type="picklist", options=["SMB", "Mid-market", "Enterprise"]),
        "regions": define(acme, label="Regions", type="multi_picklist", options=["EMEA", "APAC", "AMER"]),
        "budget": define(acme, label="Budget", type="currency"),
        "renewal": define(acme, label="Renewal date", name="renewal", type="date"),
        "key_account": define(acme, label="Key account", type="checkbox"),
        "code": define(acme, label="Customer code", name="code", type="text"),
    }


def values_of(record):
    with tenant_context(record.tenant):
        return sorted(CustomValue.objects.filter(tenant_id=record.tenant_id, record_id=record.pk)
                      .values_list("field__name", "text_key", "number", "date", "flag"), key=str)


# --- definitions ------------------------------------------------------------------------------


def test_only_admins_define_fields(acme):
    with tenant_context(acme.tenant), pytest.raises(PermissionDenied):
        services.field_create(actor=acme.manager, object="accounts", label="X", type="text")


def test_the_api_name_comes_from_the_label_and_is_unique(acme):
    field = define(acme, label="Contract end (UK)", type="date")
    assert field.name == "contract_end_uk"
    with pytest.raises(ValidationError) as raised:
        define(acme, label="Contract end (UK)", type="date")
    assert "name" in raised.value.message_dict


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"label": "", "type": "text"}, "label"),
    ({"label": "X", "type": "colour"}, "type"),
    ({"label": "X", "type": "picklist", "options": []}, "options"),
    ({"label": "X", "type": "picklist", "options": ["A", "a"]}, "options"),
    ({"label": "X", "type": "picklist", "options": ["A;B"]}, "options"),
    ({"label": "X", "type": "number", "default": "lots"}, "default"),
    ({"label": "X", "type": "text", "name": "9lives"}, "name"),
    ({"label": "X", "type": "text", "object": "planets"}, "object"),
])
def test_bad_definitions_are_refused_with_the_field(acme, kwargs, field):
    kwargs.setdefault("object", "accounts")
    with pytest.raises(ValidationError) as raised:
        define(acme, **kwargs)
    assert field in raised.value.message_dict


def test_name_and_type_are_fixed_once_created(acme):
    field = define(acme, label="Tier", type="text")
    with tenant_context(acme.tenant), pytest.raises(ValidationError):
        services.field_update(actor=acme.admin, field=field, type="number")


# --- values -----------------------------------------------------------------------------------


def test_values_are_stored_on_the_record_and_in_the_filterable_copy(acme, fields):
    with tenant_context(acme.tenant):
        account = account_services.account_create(actor=acme.rep, name="Initech", custom={
            "segment": "enterprise", "regions": "EMEA;APAC", "budget": "12.000,50", "renewal": "2027-01-31",
            "key_account": "yes", "code": "AB-1"})
    assert account.custom == {"segment": "Enterprise", "regions": ["EMEA", "APAC"], "budget": 12000.5,
                              "renewal": "2027-01-31", "key_account": True, "code": "AB-1"}
    assert len(values_of(account)) == 7  # two regions
    with tenant_context(acme.tenant):
        account_services.account_update(actor=acme.rep, account=account, custom={"regions": None, "code": "cd-2"})
    with tenant_context(acme.tenant):
        account.refresh_from_db()
    assert "regions" not in account.custom and account.custom["code"] == "cd-2"
    assert ("code", "cd-2", None, None, None) in values_of(account)
    assert len(values_of(account)) == 5


def test_a_bad_value_changes_nothing(acme, fields):
    with tenant_context(acme.tenant):
        account = account_services.account_create(actor=acme.rep, name="Initech", custom={"code": "A"})
        with pytest.raises(ValidationError) as raised:
            account_services.account_update(actor=acme.rep, account=account, name="Renamed",
                                             custom={"code": "B", "budget": "lots"})
    assert raised.value.message_dict == {"custom.budget": ["“lots” is not a number."]}
    with tenant_context(acme.tenant):
        account = Account.objects.get(pk=account.pk)
    assert account.name == "Initech" and account.custom == {"code": "A"}


def test_required_fields_and_defaults_apply_to_contacts_and_activities_too(acme):
    define(acme, object="contacts", label="Persona", type="picklist", options=["Buyer", "User"], default="User")
    define(acme, object="activities", label="Channel", type="picklist", options=["Zoom", "Teams"], required=True)
    with tenant_context(acme.tenant):
        contact = contact_services.contact_create(actor=acme.rep, last_name="Lumbergh")
        assert contact.custom == {"persona": "User"}
        with pytest.raises(ValidationError) as raised:
            contact_services.activity_log(actor=acme.rep, kind="call", subject="Hi", contact=contact)
        assert "custom.channel" in raised.value.message_dict
        call = contact_services.activity_log(actor=acme.rep, kind="call", subject="Hi", contact=contact,
                                             custom={"channel": "teams"})
    assert call.custom == {"channel": "Teams"}


# --- filters ----------------------------------------------------------------------------------


def _filtered(company, actor, params):
    with tenant_context(company.tenant):
        conditions, errors = selectors.parse(services.specs(company.tenant.pk, "accounts"), params)
        assert not errors, errors
        qs = account_selectors.account_list(actor=actor)
        return sorted(selectors.apply(qs, company.tenant.pk, conditions).values_list("name", flat=True))


def test_filters_by_every_kind_of_field(acme, fields):
    with tenant_context(acme.tenant):
        for name, custom in [("A", {"segment": "SMB", "budget": 100, "renewal": "2027-01-01", "code": "ab-1"}),
                             ("B", {"segment": "Enterprise", "regions": ["APAC"], "budget": 5000, "key_account": True}),
                             ("C", {"regions": ["EMEA", "APAC"], "code": "AB-2", "renewal": "2027-06-30"})]:
            account_services.account_create(actor=acme.rep, name=name, custom=custom)
    rep = acme.rep
    assert _filtered(acme, rep, {"cf_segment": "smb"}) == ["A"]
    assert _filtered(acme, rep, {"cf_regions": "APAC"}) == ["B", "C"]
    assert _filtered(acme, rep, {"cf_budget__gte": "1000"}) == ["B"]
    assert _filtered(acme, rep, {"cf_renewal__lte": "2027-03-01"}) == ["A"]
    assert _filtered(acme, rep, {"cf_key_account": "yes"}) == ["B"]
    assert _filtered(acme, rep, {"cf_code": "ab"}) == ["A", "C"]
    assert _filtered(acme, rep, {"cf_segment__empty": "yes"}) == ["C"]
    assert _filtered(acme, rep, {"cf_segment__empty": "no"}) == ["A", "B"]


def test_filters_keep_visibility(acme, fields):
    with tenant_context(acme.tenant):
        account_services.account_create(actor=acme.rep2, name="Theirs", custom={"segment": "SMB"})
    assert _filtered(acme, acme.rep, {"cf_segment": "SMB"}) == []
    assert _filtered(acme, acme.admin, {"cf_segment": "SMB"}) == ["Theirs"]


def test_a_bad_filter_value_is_reported_by_parameter(acme, fields):
    with tenant_context(acme.tenant):
        specs = services.specs(acme.tenant.pk, "accounts")
    conditions, errors = selectors.parse(specs,
                                         {"cf_budget__gte": "much", "cf_segment": "Gold", "cf_code__gte": "a"})
    assert set(errors) == {"cf_budget__gte", "cf_segment", "cf_code__gte"}


def test_a_custom_filter_reads_the_value_index_under_rls(acme, fields):
    with tenant_context(acme.tenant):
        for n in range(300):
            account_services.account_create(actor=acme.rep, name=f"Acc {n}",
                                             custom={"code": f"C{n:04d}", "budget": n, "segment": "SMB"})
        specs = {s.name: s for s in services.specs(acme.tenant.pk, "accounts")}
        for param, value, index in [("code", "C0001", "customvalue_text_idx"),
                                    ("budget__gte", "299", "customvalue_number_idx")]:
            conditions, _ = selectors.parse(list(specs.values()), {f"cf_{param}": value})
            qs = selectors.apply(account_selectors.account_list(actor=acme.admin), acme.tenant.pk, conditions)
            assert_uses_index(qs[:50], index, tenant=acme.tenant)


# --- API --------------------------------------------------------------------------------------


def test_api_shows_every_active_field_and_filters(api, acme, fields):
    client = api.as_(acme.rep)
    response = client.post("/api/v1/accounts/", {"name": "Initech", "custom": {"segment": "SMB", "budget": 12}},
                           format="json")
    assert response.status_code == 201, response.json()
    custom = response.json()["custom"]
    assert custom["segment"] == "SMB" and custom["budget"] == 12.0 and custom["renewal"] is None
    listed = client.get("/api/v1/accounts/?cf_segment=SMB").json()["results"]
    assert [a["name"] for a in listed] == ["Initech"]
    assert client.get("/api/v1/accounts/?cf_segment=Enterprise").json()["results"] == []


def test_api_bad_values_and_filters_are_400_with_the_field(api, acme, fields):
    client = api.as_(acme.rep)
    response = client.post("/api/v1/accounts/", {"name": "X", "custom": {"budget": "lots", "nope": 1}}, format="json")
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"custom.budget", "custom.nope"}
    with tenant_context(acme.tenant):
        assert not Account.objects.filter(tenant=acme.tenant, name="X").exists()
    response = client.get("/api/v1/accounts/?cf_budget__gte=lots")
    assert response.status_code == 400 and "cf_budget__gte" in response.json()["error"]["fields"]



def test_archived_fields_leave_the_api_but_keep_their_values(api, acme, fields):
    client = api.as_(acme.rep)
    pk = client.post("/api/v1/accounts/", {"name": "X", "custom": {"code": "K"}}, format="json").json()["id"]
    with tenant_context(acme.tenant):
        services.field_archive(actor=acme.admin, field=fields["code"])
    assert "code" not in client.get(f"/api/v1/accounts/{pk}/").json()["custom"]
    with tenant_context(acme.tenant):
        services.field_archive(actor=acme.admin, field=fields["code"], archived=False)
    assert client.get(f"/api/v1/accounts/{pk}/").json()["custom"]["code"] == "K"


def test_definitions_api_everyone_reads_admins_write(api, acme, globex, fields):
    rep = api.as_(acme.rep)
    names = [f["name"] for f in rep.get("/api/v1/custom-fields/?object=accounts").json()]
    assert names == ["segment", "regions", "budget", "renewal", "key_account", "code"]
    assert rep.post("/api/v1/custom-fields/", {"object": "accounts", "label": "X", "type": "text"},
                    format="json").status_code == 403
    admin = api.as_(acme.admin)
    response = admin.post("/api/v1/custom-fields/", {"object": "contacts", "label": "Persona", "type": "picklist",
                                                     "options": ["Buyer", "User"]}, format="json")
    assert response.status_code == 201 and response.json()["name"] == "persona"
    bad = admin.post("/api/v1/custom-fields/", {"object": "contacts", "label": "P", "type": "picklist"}, format="json")
    assert bad.status_code == 400 and "options" in bad.json()["error"]["fields"]
    assert api.as_(globex.admin).get(f"/api/v1/custom-fields/{fields['segment'].pk}/").status_code == 404
    assert api.as_(globex.admin).get("/api/v1/custom-fields/").json() == []


# --- pages ------------------------------------------------------------------------------------


def test_admin_adds_a_field_in_settings_and_it_appears_on_the_form_and_the_page(client_as, acme):
    client = client_as(acme.admin)
    response = client.post("/settings/fields/new/?object=accounts", {
        "label": "Contract end", "type": "date", "help_text": "<b>When</b> the contract ends", "required": "on"})
    assert response.status_code == 302
    with tenant_context(acme.tenant):
        assert CustomField.objects.filter(tenant=acme.tenant, name="contract_end", required=True).exists()
    page = client.get("/settings/fields/?object=accounts").content.decode()
    assert "Contract end" in page and "contract_end" in page

    rep = client_as(acme.rep)
    form = rep.get("/accounts/new/").content.decode()
    assert 'name="cf_contract_end"' in form and "&lt;b&gt;When&lt;/b&gt;" in form
    missing = rep.post("/accounts/new/", {"name": "Initech", "kind": "company", "type": "prospect",
                                          "status": "active", "currency": "EUR"})
    assert missing.status_code == 200 and "Contract end is required." in missing.content.decode()
    response = rep.post("/accounts/new/", {"name": "Initech", "kind": "company", "type": "prospect",
                                           "status": "active", "currency": "EUR", "cf_contract_end": "2027-03-31"})
    assert response.status_code == 302, response.content.decode()[:2000]
    detail = rep.get(response["Location"]).content.decode()
    assert "Contract end" in detail and "31 Mar 2027" in detail


def test_settings_pages_are_for_admins_only(client_as, acme, fields):
    for who in ("manager", "rep", "agent"):
        client = client_as(getattr(acme, who))
        assert client.get("/settings/fields/").status_code == 404
        assert client.post(f"/settings/fields/{fields['code'].pk}/archive/").status_code == 404


def test_admin_edits_and_archives_a_field(client_as, acme, fields):
    client = client_as(acme.admin)
    response = client.post(f"/settings/fields/{fields['segment'].pk}/", {
        "label": "Sales segment", "options": "SMB\nMid-market\nEnterprise\nPublic sector", "default": "SMB"})
    assert response.status_code == 302
    with tenant_context(acme.tenant):
        fields["segment"].refresh_from_db()
    assert fields["segment"].label == "Sales segment" and fields["segment"].options[-1] == "Public sector"
    assert fields["segment"].type == "picklist" and fields["segment"].default == "SMB"
    client.post(f"/settings/fields/{fields['code'].pk}/archive/")
    assert "cf_code" not in client_as(acme.rep).get("/accounts/new/").content.decode()


def test_contact_and_activity_forms_take_custom_values(client_as, acme):
    define(acme, object="contacts", label="Persona", type="picklist", options=["Buyer", "User"])
    define(acme, object="activities", label="Sentiment", type="picklist", options=["Good", "Bad"])
    rep = client_as(acme.rep)
    response = rep.post("/contacts/new/", {"last_name": "Lumbergh", "cf_persona": "Buyer"})
    assert response.status_code == 302, response.content.decode()[:3000]
    detail = rep.get(response["Location"]).content.decode()
    assert "Persona" in detail and "Buyer" in detail
    assert 'name="cf_sentiment"' in rep.get("/activities/new/").content.decode()
