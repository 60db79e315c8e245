"""Password reset by mail (through the outbox) and the strong-password rules."""

import re

import pytest

from crm.audit.models import SecurityEvent
from crm.tenancy.context import tenant_context
from crm.tenancy.models import Tenant

pytestmark = pytest.mark.django_db

NEW = "Brand-new-pass-77"


def test_a_forgotten_password_is_reset_from_the_link_in_the_mail(client, acme, delivered):
    client.post("/accounts/password/reset/", {"email": "rep@acme.example"})
    [message] = delivered()
    assert message.to == ["rep@acme.example"]
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+/)", message.body).group(1)
    form_page = client.get(link, follow=True)
    set_url = form_page.redirect_chain[-1][0] if form_page.redirect_chain else link
    done = client.post(set_url, {"password1": NEW, "password2": NEW})
    assert done.status_code == 302
    acme.rep.user.refresh_from_db()
    assert acme.rep.user.check_password(NEW)
    with tenant_context(acme.tenant):
        assert SecurityEvent.objects.for_tenant(acme.tenant).filter(kind="password.reset", user=acme.rep.user).exists()


def test_a_reset_request_for_an_unknown_address_looks_the_same_and_sends_nothing_useful(client, acme, delivered):
    known = client.post("/accounts/password/reset/", {"email": "rep@acme.example"})
    unknown = client.post("/accounts/password/reset/", {"email": "nobody@acme.example"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    assert all("password/reset/key" not in m.body for m in delivered() if m.to == ["nobody@acme.example"])


def test_a_new_password_must_follow_the_rules(client_as, acme):
    client = client_as(acme.rep)
    response = client.post("/accounts/password/change/", {
        "oldpassword": "Demo-pass-2026", "password1": "12345678901234", "password2": "12345678901234",
    })
    assert response.status_code == 200
    assert "password1" in response.context["form"].errors
    acme.rep.user.refresh_from_db()
    assert acme.rep.user.check_password("Demo-pass-2026")


def test_signing_up_with_an_email_that_has_an_account_creates_no_second_company(client, acme):
    client.post("/signup/", {"company_name": "Copycat", "full_name": "Rita", "email": "rep@acme.example",
                             "password1": NEW, "password2": NEW})
    assert not Tenant.objects.filter(name="Copycat").exists()
    acme.rep.user.refresh_from_db()
    assert acme.rep.user.check_password("Demo-pass-2026")
