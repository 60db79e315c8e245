"""/search/, /search/suggest/ and GET /api/v1/search/."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_search_page_groups_results_by_type(acme, book, client_as):
    response = client_as(acme.admin).get(reverse("search"), {"q": "acme corp"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Accounts" in body and "Contacts" in body
    assert "Acme Corporation" in body
    assert reverse("account_detail", kwargs={"pk": book["corp"].pk}) in body
    jane = client_as(acme.admin).get(reverse("search"), {"q": "jane doe"}).content.decode()
    assert reverse("contact_detail", kwargs={"pk": book["jane"].pk}) in jane
    assert "Globex" not in body.split('id="main"')[1]


def test_the_search_page_without_a_query_or_too_short(acme, client_as):
    client = client_as(acme.rep)
    assert client.get(reverse("search")).status_code == 200
    assert "Type at least two characters" in client.get(reverse("search"), {"q": "a"}).content.decode()
    assert "Nothing found" in client.get(reverse("search"), {"q": "zzzzqqqq"}).content.decode()


def test_the_search_page_honours_visibility(acme, book, client_as):
    body = client_as(acme.rep).get(reverse("search"), {"q": "Kalomi"}).content.decode()
    assert "Kalomi Private Bank" not in body and "Kurt" not in body


def test_suggestions_are_a_partial_of_options(acme, book, client_as):
    response = client_as(acme.rep).get(reverse("search_suggest"), {"q": "acm"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body
    assert 'role="option"' in body and "Acme Corporation" in body
    assert reverse("search") + "?q=acm" in body  # "All results"
    assert client_as(acme.rep).get(reverse("search_suggest"), {"q": ""}).content.decode().strip() == ""


def test_the_top_bar_box_asks_for_suggestions(acme, client_as):
    body = client_as(acme.rep).get(reverse("home")).content.decode()
    assert f'hx-get="{reverse("search_suggest")}"' in body
    assert 'hx-trigger="input changed delay:150ms' in body
    assert "js/search.js" in body


def test_search_pages_need_a_sign_in(client):
    response = client.get(reverse("search"), {"q": "acme"})
    assert response.status_code == 302


def test_the_api_returns_every_type(acme, book, api):
    response = api.as_(acme.admin).get("/api/v1/search/", {"q": "jane.doe@acme-corp.example"})
    assert response.status_code == 200
    results = response.json()["results"]
    assert set(results) >= {"accounts", "contacts"}
    assert results["contacts"][0]["id"] == str(book["jane"].pk)
    assert results["contacts"][0]["title"] == "Jane Doe"
    assert {"id", "title", "subtitle", "url", "score"} <= set(results["contacts"][0])


def test_the_api_honours_tenant_and_visibility(acme, globex, book, api):
    results = api.as_(acme.rep).get("/api/v1/search/", {"q": "Kalomi"}).json()["results"]
    assert results["accounts"] == [] and results["contacts"] == []
    results = api.as_(globex.admin).get("/api/v1/search/", {"q": "Acme Corporation"}).json()["results"]
    assert [r["id"] for r in results["accounts"]] == [str(book["theirs"].pk)]


@pytest.mark.parametrize("params", [{}, {"q": ""}, {"q": "a"}, {"q": "   "}, {"q": "x" * 201}, {"q": "ab", "limit": 0}])
def test_the_api_rejects_a_missing_or_too_short_query(acme, api, params):
    response = api.as_(acme.rep).get("/api/v1/search/", params)
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert set(fields) <= {"q", "limit"} and fields


def test_the_api_needs_a_token(api):
    assert api.anonymous().get("/api/v1/search/", {"q": "acme"}).status_code in (401, 403)
