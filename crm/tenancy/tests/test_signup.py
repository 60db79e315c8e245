import re

import pytest

from crm.audit.models import SecurityEvent
from crm.tenancy.context import tenant_context
from crm.tenancy.models import Membership, Role, Tenant, User

pytestmark = pytest.mark.django_db

PASSWORD = "Correct-horse-42"


def signup(client, **overrides):
    data = {"company_name": "Initech", "full_name": "Peter Gibbons", "email": "peter@initech.example",
            "password1": PASSWORD, "password2": PASSWORD, **overrides}
    return client.post("/signup/", data)


def test_the_signup_page_asks_for_company_name_your_name_email_and_password_twice(client):
    response = client.get("/signup/")
    assert response.status_code == 200
    assert list(response.context["form"].fields)[:5] == ["company_name", "full_name", "email", "password1", "password2"]


def test_signing_up_creates_the_company_and_its_first_admin_and_lands_on_its_home(client):
    response = signup(client)
    assert response.status_code == 302
    home = client.get(response["Location"])
    assert home.status_code == 200
    assert home.context["tenant"].name == "Initech"
    assert home.context["membership"].role == Role.ADMIN
    user = User.objects.get(email="peter@initech.example")
    assert user.full_name == "Peter Gibbons"
    tenant = Tenant.objects.get(name="Initech")
    assert tenant.slug == "initech"
    with tenant_context(tenant):
        assert Membership.objects.for_tenant(tenant).get().user == user
        assert SecurityEvent.objects.for_tenant(tenant).filter(kind="login", user=user).exists()


def test_a_company_name_without_letters_is_refused_next_to_the_field_and_nothing_is_created(client):
    response = signup(client, company_name="  !!!  ")
    assert response.status_code == 200
    assert response.context["form"].errors["company_name"] == [
        "Use at least one letter or digit in your company's name."
    ]
    assert not User.objects.filter(email="peter@initech.example").exists()
    assert not Tenant.objects.exists()


def test_a_weak_password_is_refused(client):
    response = signup(client, password1="password", password2="password")
    assert response.status_code == 200
    assert "password1" in response.context["form"].errors
    assert not User.objects.exists()


def test_two_companies_with_the_same_name_get_different_addresses(client):
    signup(client)
    client.post("/accounts/logout/")
    signup(client, email="bill@other.example")
    assert sorted(Tenant.objects.values_list("slug", flat=True)) == ["initech", "initech-2"]


def test_the_new_admin_confirms_their_address_from_the_mail_and_can_then_set_up_two_factor(client, delivered):
    signup(client)
    # allauth lets only confirmed addresses add an authenticator
    assert client.get("/accounts/2fa/totp/activate/")["Location"] == "/accounts/2fa/"
    [message] = delivered()
    assert message.to == ["peter@initech.example"]
    link = re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+/)", message.body).group(1)
    client.post(link)
    response = client.get("/accounts/2fa/totp/activate/")
    assert response["Location"].startswith("/accounts/reauthenticate/")  # the password, then the app
