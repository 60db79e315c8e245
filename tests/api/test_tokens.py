import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

PASSWORD = "Demo-pass-2026"


def obtain(email, password=PASSWORD, **extra):
    return APIClient().post("/api/v1/auth/token/", {"email": email, "password": password, **extra}, format="json")


def test_a_demo_user_gets_a_token_for_their_default_tenant(acme):
    response = obtain("rep@acme.example")
    assert response.status_code == 201
    assert response.json()["tenant"] == "acme"
    me = APIClient(HTTP_AUTHORIZATION=f"Token {response.json()['token']}").get("/api/v1/me/")
    assert me.status_code == 200
    assert me.json()["tenant"]["slug"] == "acme"
    assert me.json()["email"] == "rep@acme.example"


def test_a_wrong_password_gets_401_and_no_token(acme):
    response = obtain("rep@acme.example", "wrong-password-1")
    assert response.status_code == 401
    assert "token" not in response.json()


def test_bad_input_gets_400_with_field_errors(acme):
    response = APIClient().post("/api/v1/auth/token/", {"email": "not-an-email"}, format="json")
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert set(fields) == {"email", "password"}


def test_a_token_for_a_tenant_one_is_not_a_member_of_is_refused(acme, globex):
    response = obtain("rep@acme.example", tenant="globex")
    assert response.status_code == 400
    assert "tenant" in response.json()["error"]["fields"]


def test_a_revoked_token_stops_working(acme):
    key = obtain("rep@acme.example").json()["token"]
    client = APIClient(HTTP_AUTHORIZATION=f"Token {key}")
    [token] = client.get("/api/v1/auth/tokens/").json()["results"]
    assert client.delete(f"/api/v1/auth/tokens/{token['id']}/").status_code == 204
    assert client.get("/api/v1/me/").status_code == 401


def test_a_token_with_a_forged_tenant_part_is_refused(acme, globex):
    key = obtain("rep@acme.example").json()["token"]
    forged = key.replace(acme.tenant.pk.hex, globex.tenant.pk.hex)
    assert APIClient(HTTP_AUTHORIZATION=f"Token {forged}").get("/api/v1/me/").status_code == 401


def test_a_user_lists_only_their_own_tokens(acme):
    obtain("rep@acme.example")
    key2 = obtain("rep2@acme.example").json()["token"]
    tokens = APIClient(HTTP_AUTHORIZATION=f"Token {key2}").get("/api/v1/auth/tokens/").json()["results"]
    assert len(tokens) == 1
