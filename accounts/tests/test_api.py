import pytest

from accounts.tests.factories import AccountFactory
from crm.customfields.services import field_create
from crm.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db

URL = "/api/v1/accounts/"


def test_a_rep_creates_an_account_with_tags_and_custom_fields(api, acme):
    with tenant_context(acme.tenant):
        field_create(actor=acme.admin, object="accounts", label="Segment", type="picklist", options=["SMB", "Large"])
    response = api.as_(acme.rep).post(URL, {
        "name": "Globex Retail", "website": "www.globex-retail.example", "phone": "+4930123456",
        "billing_country": "DE", "tags": ["VIP", "Berlin"], "custom": {"segment": "smb"},
    }, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["owner"] == str(acme.rep.pk)
    assert body["domain"] == "globex-retail.example"
    assert sorted(body["tags"]) == ["Berlin", "VIP"]
    assert body["custom"] == {"segment": "SMB"}
    assert body["created_by"] == str(acme.rep.pk)


def test_read_only_fields_cannot_be_set(api, acme):
    response = api.as_(acme.rep).post(URL, {"name": "X", "created_by": str(acme.admin.pk), "domain": "evil.example"},
                                      format="json")
    assert response.status_code == 201
    assert response.json()["created_by"] == str(acme.rep.pk) and response.json()["domain"] == ""


@pytest.mark.parametrize(("payload", "field"), [
    ({"name": ""}, "name"),
    ({"name": "X", "phone": "0301234"}, "phone"),
    ({"name": "X", "type": "friend"}, "type"),
    ({"name": "X", "owner": "not-a-uuid"}, "owner"),
    ({"name": "X", "parent": "00000000-0000-0000-0000-000000000000"}, "parent"),
    ({"name": "X", "custom": "text"}, "custom"),
    ({"name": "X", "employees": -3}, "employees"),
])
def test_bad_data_is_a_400_with_the_field(api, acme, payload, field):
    response = api.as_(acme.rep).post(URL, payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_a_rep_cannot_give_a_new_account_to_a_colleague(api, acme):
    response = api.as_(acme.rep).post(URL, {"name": "X", "owner": str(acme.rep2.pk)}, format="json")
    assert response.status_code == 400
    assert "owner" in response.json()["error"]["fields"]


def test_rep_cannot_see_a_colleagues_private_account(api, acme):
    theirs = AccountFactory(tenant=acme.tenant, owner=acme.rep2)
    client = api.as_(acme.rep)
    assert client.get(f"{URL}{theirs.id}/").status_code == 404
    assert client.patch(f"{URL}{theirs.id}/", {"name": "Mine"}, format="json").status_code == 404
    assert client.delete(f"{URL}{theirs.id}/").status_code == 404
    assert client.get(f"{URL}{theirs.id}/history/").status_code == 404


def test_a_manager_reads_and_edits_the_teams_account(api, acme):
    theirs = AccountFactory(tenant=acme.tenant, owner=acme.rep2)
    client = api.as_(acme.manager)
    response = client.patch(f"{URL}{theirs.id}/", {"rating": "hot", "tags": ["Key"]}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["rating"] == "hot" and response.json()["tags"] == ["Key"]
    assert response.json()["modified_by"] == str(acme.manager.pk)
    history = client.get(f"{URL}{theirs.id}/history/").json()
    assert history["results"][0]["action"] == "changed"


def test_a_hierarchy_loop_is_a_400_on_parent(api, acme):
    top = AccountFactory(tenant=acme.tenant, owner=acme.rep)
    child = AccountFactory(tenant=acme.tenant, owner=acme.rep, parent=top)
    response = api.as_(acme.rep).patch(f"{URL}{top.id}/", {"parent": str(child.id)}, format="json")
    assert response.status_code == 400
    assert "parent" in response.json()["error"]["fields"]


def test_delete(api, acme):
    mine = AccountFactory(tenant=acme.tenant, owner=acme.rep)
    client = api.as_(acme.rep)
    assert client.delete(f"{URL}{mine.id}/").status_code == 204
    assert client.get(f"{URL}{mine.id}/").status_code == 404


def test_the_list_filters_and_searches(api, acme):
    AccountFactory(tenant=acme.tenant, owner=acme.rep, name="Alpha", rating="hot", billing_country="FR")
    AccountFactory(tenant=acme.tenant, owner=acme.rep, name="Beta", rating="cold", domain="beta.example")
    AccountFactory(tenant=acme.tenant, owner=acme.rep2, name="Alpine")
    client = api.as_(acme.rep)

    def names(query):
        response = client.get(URL + query)
        assert response.status_code == 200, response.json()
        return [a["name"] for a in response.json()["results"]]

    assert names("") == ["Alpha", "Beta"]
    assert names("?search=alp") == ["Alpha"]
    assert names("?search=beta.example") == ["Beta"]
    assert names("?rating=cold") == ["Beta"]
    assert names("?country=fr") == ["Alpha"]
    assert client.get(URL + "?rating=boiling").status_code == 400


def test_the_list_pages_by_keyset(api, acme):
    AccountFactory.create_batch(5, tenant=acme.tenant, owner=acme.rep)
    client = api.as_(acme.rep)
    first = client.get(URL + "?page_size=2").json()
    assert len(first["results"]) == 2 and first["next"]
    seen = [a["name"] for a in first["results"]]
    url = first["next"]
    while url:
        page = client.get(url).json()
        seen += [a["name"] for a in page["results"]]
        url = page["next"]
    assert seen == sorted(seen) and len(seen) == 5
