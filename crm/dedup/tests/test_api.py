"""The duplicates and merges API: visibility, field errors, merge and undo."""

from __future__ import annotations

import pytest

from contacts.models import Contact
from crm.dedup.tasks import run_scan

from .makers import contact

pytestmark = pytest.mark.django_db


def test_the_duplicates_list_shows_only_pairs_the_caller_can_see(acme, in_tenant, api):
    with in_tenant(acme):
        ann = contact(acme.rep, "Lee", "Ann", emails=["ann@initech.example"])
        contact(acme.rep, "Lee", "Anne", emails=["ann@initech.example"])
        theirs = contact(acme.rep2, "Ross", "Bob", phones=["+4930123456"])
        contact(acme.rep, "Ross", "Bobby", phones=["+4930123456"])
        run_scan(acme.tenant)
    body = api.as_(acme.rep).get("/api/v1/duplicates/?object=contacts").json()
    assert [r["rule"] for r in body["results"]] == ["same_email"]
    assert {r["name"] for r in body["results"][0]["records"]} == {"Ann Lee", "Anne Lee"}
    assert str(theirs.pk) not in str(body)
    assert str(ann.pk) in str(body)


def test_a_missing_or_unknown_object_is_a_400(acme, api):
    client = api.as_(acme.rep)
    response = client.get("/api/v1/duplicates/")
    assert response.status_code == 400 and "object" in response.json()["error"]["fields"]
    assert client.get("/api/v1/duplicates/?object=contacts&rule=same_domain").status_code == 400


def test_merge_and_undo_through_the_api(acme, in_tenant, api):
    with in_tenant(acme):
        master = contact(acme.rep, "Lee", "Ann", phones=["+4930123456"])
        loser = contact(acme.rep, "Lee", "Anne", phones=["+4989765432"])
    client = api.as_(acme.rep)
    response = client.post("/api/v1/merges/", {"object": "contacts", "master": str(master.pk),
                                               "losers": [str(loser.pk)], "fields": {"phone": str(loser.pk)}},
                           format="json")
    assert response.status_code == 201, response.json()
    merge_id = response.json()["id"]
    with in_tenant(acme):
        assert Contact.objects.for_tenant(acme.tenant).get(pk=master.pk).phone == "+4989765432"
    assert client.get("/api/v1/merges/").json()["results"][0]["id"] == merge_id
    undone = client.post(f"/api/v1/merges/{merge_id}/undo/")
    assert undone.status_code == 200 and undone.json()["undone_at"]
    with in_tenant(acme):
        assert Contact.objects.for_tenant(acme.tenant).filter(pk=loser.pk).exists()
    again = client.post(f"/api/v1/merges/{merge_id}/undo/")
    assert again.status_code == 400 and "already undone" in str(again.json())


def test_bad_merge_requests_are_400_with_field_errors(acme, in_tenant, api):
    with in_tenant(acme):
        one = contact(acme.rep, "Lee", "Ann")
        two = contact(acme.rep, "Lee", "Anne")
    client = api.as_(acme.rep)
    cases = [
        ({"object": "leads", "master": str(one.pk), "losers": [str(two.pk)]}, "object"),
        ({"object": "contacts", "master": "nope", "losers": [str(two.pk)]}, "master"),
        ({"object": "contacts", "master": str(one.pk), "losers": []}, "losers"),
        ({"object": "contacts", "master": str(one.pk), "losers": [str(two.pk)], "fields": {"x": str(two.pk)}},
         "fields"),
    ]
    for body, field in cases:
        response = client.post("/api/v1/merges/", body, format="json")
        assert response.status_code == 400, body
        assert field in response.json()["error"]["fields"], response.json()


def test_merging_a_colleagues_private_record_or_another_companys_is_a_404(acme, globex, in_tenant, api):
    with in_tenant(acme):
        mine = contact(acme.rep, "Lee", "Ann")
        theirs = contact(acme.rep2, "Lee", "Anne")
    body = {"object": "contacts", "master": str(mine.pk), "losers": [str(theirs.pk)]}
    assert api.as_(acme.rep).post("/api/v1/merges/", body, format="json").status_code == 404
    assert api.as_(globex.admin).post("/api/v1/merges/", body, format="json").status_code == 404


def test_the_endpoints_are_in_the_openapi_schema(acme, api):
    schema = api.as_(acme.rep).get("/api/schema/").content.decode()
    for path in ("/api/v1/duplicates/", "/api/v1/merges/", "/api/v1/merges/{id}/undo/"):
        assert path in schema


def test_the_duplicates_list_runs_a_fixed_number_of_queries(acme, in_tenant, api, django_assert_max_num_queries):
    with in_tenant(acme):
        for i in range(25):
            contact(acme.rep, f"Person{i:02d}", "Ann", phones=[f"+49301234{i:02d}"])
            contact(acme.rep, f"Person{i:02d}", "Anne", phones=[f"+49301234{i:02d}"])
        run_scan(acme.tenant)
    client = api.as_(acme.rep)
    client.get("/api/v1/duplicates/?object=contacts")
    with django_assert_max_num_queries(15):  # token, tenant, visibility, page, names: not per pair
        body = client.get("/api/v1/duplicates/?object=contacts").json()
    assert len(body["results"]) == 25 and all(r["records"][0]["name"] for r in body["results"])
