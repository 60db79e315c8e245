"""Two-factor sign-in, the company-wide requirement, and what reaches the security log."""

import base64
import re

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from rest_framework.test import APIClient

from crm.audit.models import SecurityEvent
from crm.tenancy.context import tenant_context
from crm.tenancy.models import Tenant
from crm.tenancy.tests.factories import DEMO_PASSWORD
from crm.tenancy.tests.totp import totp_code

pytestmark = pytest.mark.django_db


def kinds(company):
    with tenant_context(company.tenant):
        return list(SecurityEvent.objects.for_tenant(company.tenant).values_list("kind", flat=True))


def sign_in(client, email, password=DEMO_PASSWORD):
    return client.post("/accounts/login/", {"login": email, "password": password})


def activate_totp(client, on_commit=None) -> str:
    """Through allauth's page, as a person does: read the secret, type the current code.

    allauth announces the new authenticator after the commit: pass django_capture_on_commit_callbacks
    to see that in a test's transaction."""
    page = client.get("/accounts/2fa/totp/activate/")
    if page.status_code == 302 and page["Location"].startswith("/accounts/reauthenticate/"):
        # allauth asks for the password again before two-factor settings change
        page = client.post(page["Location"], {"password": DEMO_PASSWORD}, follow=True)
    assert page.status_code == 200
    secret = page.context["form"].secret
    if on_commit is None:
        response = client.post("/accounts/2fa/totp/activate/", {"code": totp_code(secret)})
    else:
        with on_commit(execute=True):
            response = client.post("/accounts/2fa/totp/activate/", {"code": totp_code(secret)})
    assert response.status_code == 302, response.content
    return secret


def require_mfa(company, on=True):
    Tenant.objects.filter(pk=company.tenant.pk).update(require_mfa=on)


def test_signing_in_with_totp_needs_the_code_after_the_password(client, acme, django_capture_on_commit_callbacks):
    sign_in(client, "rep@acme.example")
    secret = activate_totp(client, django_capture_on_commit_callbacks)
    client.post("/accounts/logout/")
    response = sign_in(client, "rep@acme.example")
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert "_auth_user_id" not in client.session
    wrong = client.post("/accounts/2fa/authenticate/", {"code": "000000" if totp_code(secret) != "000000" else "111111"})
    assert wrong.status_code == 200 and "_auth_user_id" not in client.session
    done = client.post("/accounts/2fa/authenticate/", {"code": totp_code(secret)})
    assert done.status_code == 302
    assert client.get("/").context["tenant"] == acme.tenant
    assert kinds(acme).count("mfa.enabled") == 1
    assert "login.failed" in kinds(acme)


def test_a_recovery_code_signs_in_and_is_logged(client, acme):
    sign_in(client, "rep@acme.example")
    activate_totp(client)
    codes = client.get("/accounts/2fa/recovery-codes/").context["unused_codes"]
    client.post("/accounts/logout/")
    sign_in(client, "rep@acme.example")
    assert client.post("/accounts/2fa/authenticate/", {"code": codes[0]}).status_code == 302
    assert "mfa.recovery_used" in kinds(acme)


def test_turning_totp_off_is_logged(client, acme):
    sign_in(client, "rep@acme.example")
    activate_totp(client)
    response = client.post("/accounts/2fa/totp/deactivate/")
    assert response.status_code == 302
    assert not Authenticator.objects.filter(user=acme.rep.user, type="totp").exists()
    assert "mfa.disabled" in kinds(acme)


def give_totp(user) -> str:
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def test_an_admin_without_two_factor_sets_it_up_before_requiring_it(client_as, acme):
    response = client_as(acme.admin).post("/settings/security/", {"require_mfa": "on"})
    assert response.context["form"].errors["require_mfa"] == ["Set up two-factor authentication for yourself first."]
    assert Tenant.objects.get(pk=acme.tenant.pk).require_mfa is False


def test_an_admin_requires_two_factor_for_the_company_and_it_is_logged(client_as, acme):
    give_totp(acme.admin.user)
    client = client_as(acme.admin)
    page = client.get("/settings/security/")
    assert "Require two-factor authentication for everyone" in page.content.decode()
    client.post("/settings/security/", {"require_mfa": "on"})
    assert Tenant.objects.get(pk=acme.tenant.pk).require_mfa is True
    client.post("/settings/security/", {})
    assert Tenant.objects.get(pk=acme.tenant.pk).require_mfa is False
    assert kinds(acme).count("mfa.required") == 2


def test_when_required_a_member_without_totp_is_sent_to_set_it_up(client_as, acme):
    require_mfa(acme)
    client = client_as(acme.rep)
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"
    assert client.get("/settings/api-tokens/")["Location"] == "/accounts/2fa/totp/activate/"
    assert client.get("/accounts/2fa/totp/activate/")["Location"].startswith("/accounts/reauthenticate/")
    assert client.get("/accounts/reauthenticate/").status_code == 200
    assert client.get("/accounts/logout/").status_code == 200


def test_when_required_a_member_with_totp_works_normally(client, acme):
    sign_in(client, "rep@acme.example")
    activate_totp(client)
    require_mfa(acme)
    assert client.get("/").status_code == 200


def test_the_requirement_of_one_company_does_not_apply_in_another(client_as, acme, globex):
    require_mfa(globex)
    assert client_as(acme.rep).get("/").status_code == 200


def test_an_unconfirmed_address_is_asked_to_confirm_before_setting_up_two_factor(client):
    client.post("/signup/", {"company_name": "Initech", "full_name": "Peter", "email": "peter@initech.example",
                             "password1": "Correct-horse-42", "password2": "Correct-horse-42"})
    Tenant.objects.filter(slug="initech").update(require_mfa=True)
    response = client.get("/")
    assert response["Location"] == "/accounts/email/"


def test_existing_api_tokens_keep_working_when_two_factor_becomes_required(api, acme):
    client = api.as_(acme.rep)
    require_mfa(acme)
    assert client.get("/api/v1/me/").status_code == 200


def test_the_token_endpoint_wants_the_code_when_totp_is_on(client, acme):
    sign_in(client, "rep@acme.example")
    secret = activate_totp(client)
    url, creds = "/api/v1/auth/token/", {"email": "rep@acme.example", "password": DEMO_PASSWORD}
    assert APIClient().post(url, creds, format="json").status_code == 401
    assert APIClient().post(url, {**creds, "otp": "12345x"}, format="json").status_code == 401
    ok = APIClient().post(url, {**creds, "otp": totp_code(secret)}, format="json")
    assert ok.status_code == 201


def test_the_token_endpoint_refuses_a_password_only_user_of_a_company_that_requires_two_factor(acme):
    require_mfa(acme)
    response = APIClient().post("/api/v1/auth/token/", {"email": "rep@acme.example", "password": DEMO_PASSWORD},
                                format="json")
    assert response.status_code == 401
    assert re.search("requires two-factor", response.json()["error"]["message"])


def test_sign_in_sign_out_and_password_change_are_logged(client, acme):
    sign_in(client, "rep@acme.example")
    client.post("/accounts/password/change/", {"oldpassword": DEMO_PASSWORD, "password1": "Brand-new-pass-77",
                                               "password2": "Brand-new-pass-77"})
    client.post("/accounts/logout/")
    assert {"login", "password.changed", "logout"} <= set(kinds(acme))


def test_our_totp_helper_matches_rfc_6238():
    # RFC 6238 appendix B, SHA-1 secret "12345678901234567890", 8 digits
    secret = base64.b32encode(b"12345678901234567890").decode()
    assert totp_code(secret, at=59, digits=8) == "94287082"
    assert totp_code(secret, at=1111111109, digits=8) == "07081804"
