"""Field-level security on list pages: a field hidden from the person has no column (chosen, saved
or exported), no filter (its URL or saved-view parameter is ignored: filtering by a hidden value
would reveal it), no sort; a bulk action that sets a read-only field is refused and says why."""

import csv
import io

import pytest
from openpyxl import load_workbook

from accounts.lists import ACCOUNTS
from accounts.models import AccountTag
from crm.access.tests.helpers import restrict_fields as restrict
from crm.lists.models import ExportJob, SavedView
from crm.lists.registry import Sort
from crm.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db



@pytest.fixture
def secret_field(acme):
    """A text custom field "Secret" on accounts, beside the conftest's Region / Budget / Code."""
    from crm.customfields import services

    with tenant_context(acme.tenant):
        return services.field_create(actor=acme.admin, object="accounts", label="Secret", type="text")


@pytest.fixture
def restricted(acme, custom_fields, secret_field, make_account):
    """Two of the rep's accounts; the rep's profile hides annual revenue, website, rating and the
    Secret custom field, and makes the phone read only."""
    hot = make_account(name="Hot Initech", website="https://initech.example", domain="initech.example",
                       annual_revenue=7654321, rating="hot", phone="+4930123456",
                       custom={"secret": "Zebra42", "region": "EMEA"})
    cold = make_account(name="Cold Umbrella", annual_revenue=1234567, rating="cold",
                        custom={"secret": "Yak17", "region": "APAC"})
    restrict(acme, {("accounts", "annual_revenue"): "hidden", ("accounts", "website"): "hidden",
                    ("accounts", "rating"): "hidden", ("accounts", "cf_secret"): "hidden",
                    ("accounts", "phone"): "read_only"})
    return {"hot": hot, "cold": cold}


def names(response) -> list[str]:
    return [row["title"] for row in response.context["rows"]]


def read_csv(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


ALL_COLUMNS = ["annual_revenue", "website", "rating", "cf_secret", "cf_region", "phone"]


def test_hidden_columns_are_neither_shown_nor_offered_even_when_chosen(client_as, acme, restricted):
    client = client_as(acme.rep)
    client.post("/lists/accounts/columns/", {"columns": ALL_COLUMNS})
    page = client.get("/accounts/")
    assert [c.key for c in page.context["columns"]] == ["name", "cf_region", "phone"]
    menu = {item["column"].key for item in page.context["column_menu"]}
    assert not menu & {"annual_revenue", "website", "rating", "cf_secret"}
    html = page.content.decode()
    for leaked in ("7,654,321", "Zebra42", "initech.example", "Annual revenue", "Secret"):
        assert leaked not in html
    assert "+4930123456" in html  # read only is still seen


def test_the_admin_still_sees_every_column(client_as, acme, restricted):
    client = client_as(acme.admin)
    client.post("/lists/accounts/columns/", {"columns": ALL_COLUMNS})
    page = client.get("/accounts/")
    assert [c.key for c in page.context["columns"]] == ["name", *ALL_COLUMNS]
    html = page.content.decode()
    assert "7,654,321" in html and "Zebra42" in html and "initech.example" in html


def test_filters_on_hidden_fields_leave_the_bar_and_their_parameters_are_ignored(client_as, acme, restricted):
    client = client_as(acme.rep)
    page = client.get("/accounts/?rating=hot&cf_secret=Zeb&cf_region=EMEA")
    html = page.content.decode()
    assert 'name="rating"' not in html and 'name="cf_secret"' not in html
    assert 'name="cf_region"' in html  # a visible custom field still filters
    # only the region applied: the hidden rating and secret did not narrow the list (nor say so)
    assert names(page) == ["Hot Initech"]
    assert "rating" not in page.context["state"].params and "cf_secret" not in page.context["state"].params
    both = client.get("/accounts/?rating=cold&cf_secret=Yak")
    assert sorted(names(both)) == ["Cold Umbrella", "Hot Initech"]
    # the admin's filters do apply
    admin = client_as(acme.admin).get("/accounts/?rating=cold")
    assert names(admin) == ["Cold Umbrella"]
    assert names(client_as(acme.admin).get("/accounts/?cf_secret=Zeb")) == ["Hot Initech"]


def test_search_does_not_match_a_hidden_domain(client_as, acme, restricted):
    assert names(client_as(acme.rep).get("/accounts/?q=initech.example")) == []
    assert names(client_as(acme.admin).get("/accounts/?q=initech.example")) == ["Hot Initech"]
    html = client_as(acme.rep).get("/accounts/").content.decode()
    assert "initech.example" not in html and 'placeholder="Name"' in html


def test_a_shared_view_naming_hidden_columns_and_filters_renders_without_them(client_as, acme, restricted):
    with tenant_context(acme.tenant):
        view = SavedView.objects.create(tenant=acme.tenant, object="accounts", owner=acme.admin, shared=True,
                                        name="Big and hot", params={"rating": ["hot"]},
                                        columns=["name", "annual_revenue", "cf_secret", "website", "phone"])
    page = client_as(acme.rep).get(f"/accounts/?view={view.pk}")
    assert page.status_code == 200
    assert [c.key for c in page.context["columns"]] == ["name", "phone"]
    assert sorted(names(page)) == ["Cold Umbrella", "Hot Initech"]  # the rating filter is not applied
    assert "7,654,321" not in page.content.decode()
    admin = client_as(acme.admin).get(f"/accounts/?view={view.pk}")
    assert names(admin) == ["Hot Initech"]
    assert [c.key for c in admin.context["columns"]] == ["name", "annual_revenue", "cf_secret", "website", "phone"]


def test_a_sort_on_a_hidden_field_is_not_offered_and_falls_back(client_as, acme, restricted, monkeypatch):
    revenue = Sort("revenue", "Revenue", ("annual_revenue", "id"), descending=True, field_name="annual_revenue")
    monkeypatch.setattr(ACCOUNTS, "sorts", [*ACCOUNTS.sorts, revenue])
    page = client_as(acme.rep).get("/accounts/?sort=revenue")
    assert page.context["state"].sort.key == "name"
    assert names(page) == ["Cold Umbrella", "Hot Initech"]
    assert "revenue" not in {s["sort"].key for s in page.context["sorts"]}
    admin = client_as(acme.admin).get("/accounts/?sort=revenue")
    assert admin.context["state"].sort.key == "revenue"
    assert names(admin)[:2] == ["Hot Initech", "Cold Umbrella"]


def test_the_csv_export_never_holds_a_hidden_column_even_when_asked(client_as, acme, restricted):
    client = client_as(acme.rep)
    client.post("/lists/accounts/columns/", {"columns": ALL_COLUMNS})
    response = client.get("/lists/accounts/export/?format=csv&rating=hot")
    rows = read_csv(response.content)
    assert rows[0] == ["Name", "Region", "Phone"]
    assert sorted(r[0] for r in rows[1:]) == ["Cold Umbrella", "Hot Initech"]  # rating ignored
    body = response.content.decode("utf-8-sig")
    assert "7654321" not in body and "Zebra42" not in body and "initech" not in body
    admin = client_as(acme.admin)
    admin.post("/lists/accounts/columns/", {"columns": ALL_COLUMNS})
    rows = read_csv(admin.get("/lists/accounts/export/?format=csv&rating=hot").content)
    assert rows[0] == ["Name", "Annual revenue", "Website", "Rating", "Secret", "Region", "Phone"]
    assert rows[1][:2] == ["Hot Initech", "7654321"] and len(rows) == 2


def test_an_export_job_reads_the_requesters_rights_when_it_runs(client_as, acme, restricted, monkeypatch):
    """A big export is a job: its saved columns name the hidden ones (asked for before the
    restriction, or forged); the file still lacks them."""
    from crm.lists import services
    from crm.lists.tasks import run_export

    with tenant_context(acme.tenant):
        job = services.export_create(actor=acme.rep, object="accounts", format="xlsx", params={"rating": ["cold"]},
                                     columns=["name", "annual_revenue", "cf_secret", "website", "phone"],
                                     sort="name")
    run_export(tenant_id=str(acme.tenant.pk), job_id=str(job.pk))
    with tenant_context(acme.tenant):
        job = ExportJob.objects.for_tenant(acme.tenant).get(pk=job.pk)
    download = client_as(acme.rep).get(f"/exports/{job.pk}/download/")
    sheet = list(load_workbook(io.BytesIO(b"".join(download.streaming_content))).active.iter_rows(values_only=True))
    assert sheet[0] == ("Name", "Phone")
    assert sorted(r[0] for r in sheet[1:]) == ["Cold Umbrella", "Hot Initech"]
    assert not any(7654321 in r or "Zebra42" in r for r in sheet)


def test_the_export_api_refuses_hidden_columns_and_filters(api, acme, restricted):
    client = api.as_(acme.rep)
    response = client.post("/api/v1/exports/", {"object": "accounts", "format": "csv",
                                                "columns": ["name", "annual_revenue"]}, format="json")
    assert response.status_code == 400 and "columns" in response.json()["error"]["fields"]
    response = client.post("/api/v1/exports/", {"object": "accounts", "format": "csv",
                                                "filters": {"rating": "hot", "cf_secret": "Z"}}, format="json")
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"filters.rating", "filters.cf_secret"}
    views = client.get("/api/v1/views/?object=accounts").json()
    assert "rating" not in views[0]["columns"]
    ok = api.as_(acme.admin).post("/api/v1/exports/", {"object": "accounts", "format": "csv",
                                                       "filters": {"rating": "hot"},
                                                       "columns": ["name", "annual_revenue"]}, format="json")
    assert ok.status_code == 201, ok.json()


def test_the_views_api_shows_a_shared_view_without_hidden_fields(api, acme, restricted):
    with tenant_context(acme.tenant):
        SavedView.objects.create(tenant=acme.tenant, object="accounts", owner=acme.admin, shared=True,
                                 name="Hot", params={"rating": ["hot"], "cf_secret": ["Z"], "type": ["customer"]},
                                 columns=["name", "annual_revenue", "cf_secret", "phone"])
    view = api.as_(acme.rep).get("/api/v1/views/?object=accounts").json()[-1]
    assert (view["filters"], view["columns"]) == ({"type": ["customer"]}, ["name", "phone"])
    admin = api.as_(acme.admin).get("/api/v1/views/?object=accounts").json()[-1]
    assert admin["columns"] == ["name", "annual_revenue", "cf_secret", "phone"] and "rating" in admin["filters"]


def test_a_typeahead_of_a_hidden_filter_is_not_there(client_as, acme, restricted):
    restrict(acme, {("accounts", "billing_country"): "hidden"})
    assert client_as(acme.rep).get("/lists/accounts/pick/country/?q=ger").status_code == 404
    assert client_as(acme.admin).get("/lists/accounts/pick/country/?q=ger").status_code == 200


def test_a_bulk_tag_is_refused_with_a_reason_when_tags_are_read_only(client_as, acme, make_account):
    account = make_account(name="Tagless")
    restrict(acme, {("accounts", "tags"): "read_only"})
    client = client_as(acme.rep)
    controls = client.get("/lists/accounts/bulk/actions/").content.decode()
    assert 'value="tag"' not in controls
    response = client.post("/lists/accounts/bulk/", {"action": "tag", "tag": "VIP", "ids": [str(account.pk)]},
                           follow=True)
    assert "Tags are read only for you" in response.content.decode()
    with tenant_context(acme.tenant):
        assert not AccountTag.objects.for_tenant(acme.tenant).exists()
    # the admin is not restricted
    client_as(acme.admin).post("/lists/accounts/bulk/", {"action": "tag", "tag": "VIP", "ids": [str(account.pk)]})
    with tenant_context(acme.tenant):
        assert AccountTag.objects.for_tenant(acme.tenant).count() == 1


def test_the_bulk_tag_service_refuses_whoever_calls_it(acme, make_account):
    from django.core.exceptions import ValidationError

    from crm.lists import services

    account = make_account(name="Tagless")
    restrict(acme, {("accounts", "tags"): "hidden"})
    with tenant_context(acme.tenant), pytest.raises(ValidationError) as exc:
        services.bulk_add_tag(actor=acme.rep, object="accounts", ids=[account.pk], name="VIP")
    assert "tag" in exc.value.message_dict
