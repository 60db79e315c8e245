import pytest
from rest_framework.test import APIClient

from crm.audit.models import SecurityEvent
from crm.tenancy.context import tenant_context
from crm.tenancy.models import ApiToken

pytestmark = pytest.mark.django_db


def tokens(company, membership):
    with tenant_context(company.tenant):
        return list(ApiToken.objects.for_tenant(company.tenant).filter(membership=membership))


def test_a_new_token_key_is_shown_once_and_works(client_as, acme):
    client = client_as(acme.rep)
    response = client.post("/settings/api-tokens/", {"name": "Nightly export"})
    assert response.status_code == 200
    key = response.context["created"]["key"]
    assert key in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    assert key not in client.get("/settings/api-tokens/").content.decode()
    me = APIClient(HTTP_AUTHORIZATION=f"Token {key}").get("/api/v1/me/")
    assert me.json()["email"] == "rep@acme.example"


def test_the_page_lists_only_ones_own_tokens_with_their_status(client_as, acme, api):
    api.as_(acme.rep2)
    api.as_(acme.rep)
    client = client_as(acme.rep)
    listed = client.get("/settings/api-tokens/").context["tokens"]
    assert [t.membership_id for t in listed] == [acme.rep.pk]
    assert "Active" in client.get("/settings/api-tokens/").content.decode()


def test_revoking_asks_first_then_the_token_stops_working(client_as, acme):
    client = client_as(acme.rep)
    key = client.post("/settings/api-tokens/", {"name": "CI"}).context["created"]["key"]
    [token] = tokens(acme, acme.rep)
    confirm = client.get(f"/settings/api-tokens/{token.pk}/revoke/")
    assert b"stops working" in confirm.content
    assert tokens(acme, acme.rep)[0].revoked_at is None
    client.post(f"/settings/api-tokens/{token.pk}/revoke/")
    assert tokens(acme, acme.rep)[0].revoked_at is not None
    assert APIClient(HTTP_AUTHORIZATION=f"Token {key}").get("/api/v1/me/").status_code == 401
    assert "Revoked" in client.get("/settings/api-tokens/").content.decode()


def test_nobody_revokes_a_colleagues_token(client_as, acme, api):
    api.as_(acme.rep2)
    [theirs] = tokens(acme, acme.rep2)
    assert client_as(acme.admin).post(f"/settings/api-tokens/{theirs.pk}/revoke/").status_code == 404
    assert tokens(acme, acme.rep2)[0].revoked_at is None


def test_creating_and_revoking_are_in_the_security_log(client_as, acme):
    client = client_as(acme.rep)
    client.post("/settings/api-tokens/", {"name": "CI"})
    [token] = tokens(acme, acme.rep)
    client.post(f"/settings/api-tokens/{token.pk}/revoke/")
    with tenant_context(acme.tenant):
        logged = SecurityEvent.objects.for_tenant(acme.tenant).filter(kind__startswith="token.")
        assert sorted(e.kind for e in logged) == ["token.created", "token.revoked"]
        assert {e.detail["prefix"] for e in logged} == {token.prefix}
