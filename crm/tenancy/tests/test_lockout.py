"""Repeated failed sign-ins lock out, per account and per address (django-axes behind allauth)."""

import logging

import pytest
from rest_framework.test import APIClient

from crm.audit.models import SecurityEvent
from crm.tenancy.context import tenant_context
from crm.tenancy.tests.factories import DEMO_PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def attempt(client, email, password="Wrong-password-1", ip="10.0.0.1"):
    return client.post(LOGIN, {"login": email, "password": password}, REMOTE_ADDR=ip)


def events(company, kind):
    with tenant_context(company.tenant):
        return list(SecurityEvent.objects.for_tenant(company.tenant).filter(kind=kind).order_by("created_at"))


def test_four_wrong_passwords_only_say_the_password_is_wrong(client, acme):
    for _ in range(4):
        response = attempt(client, "rep@acme.example")
        assert response.status_code == 200
        assert response.context["form"].errors
    assert attempt(client, "rep@acme.example", DEMO_PASSWORD).status_code == 302


def test_the_fifth_wrong_password_shows_the_lockout_page_with_429(client, acme):
    for _ in range(4):
        attempt(client, "rep@acme.example")
    response = attempt(client, "rep@acme.example")
    assert response.status_code == 429
    assert b"Too many failed sign-ins" in response.content
    assert int(response["Retry-After"]) == 15 * 60


def test_a_locked_account_refuses_the_right_password_even_from_another_address(client, acme):
    for i in range(5):
        attempt(client, "rep@acme.example", ip=f"10.0.0.{i + 1}")
    response = attempt(client, "rep@acme.example", DEMO_PASSWORD, ip="10.9.9.9")
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_lock_of_one_account_leaves_colleagues_on_other_addresses_alone(client, acme):
    for i in range(5):
        attempt(client, "rep@acme.example", ip=f"10.0.0.{i + 1}")
    assert attempt(client, "rep2@acme.example", DEMO_PASSWORD, ip="10.9.9.9").status_code == 302


def test_five_failures_from_one_address_lock_that_address_for_every_account(client, acme):
    for local in ["admin", "manager", "rep", "rep2", "nobody"]:
        attempt(client, f"{local}@acme.example", ip="10.0.0.7")
    assert attempt(client, "agent@acme.example", DEMO_PASSWORD, ip="10.0.0.7").status_code == 429
    assert "_auth_user_id" not in client.session
    assert attempt(client, "agent@acme.example", DEMO_PASSWORD, ip="10.0.0.8").status_code == 302


def test_failures_and_the_lockout_are_in_the_company_security_log(client, acme):
    for _ in range(5):
        attempt(client, "rep@acme.example")
    attempt(client, "rep@acme.example", DEMO_PASSWORD)
    failed = events(acme, "login.failed")
    assert len(failed) == 6
    assert {e.email for e in failed} == {"rep@acme.example"}
    assert failed[0].ip_address == "10.0.0.1"
    assert failed[-1].detail == {"locked_out": True}  # the right password, refused while locked
    [locked] = events(acme, "login.locked")
    assert locked.user == acme.rep.user
    assert locked.detail["failures"] == 5


def test_a_failure_for_an_unknown_email_goes_to_the_log_file_not_a_company(client, acme, caplog):
    with caplog.at_level(logging.WARNING, logger="crm.security"):
        attempt(client, "stranger@nowhere.example")
    assert "stranger@nowhere.example" in caplog.text
    assert events(acme, "login.failed") == []


def test_the_api_token_endpoint_counts_failures_and_answers_a_lockout_with_json_429(acme):
    api = APIClient()
    for _ in range(5):
        api.post("/api/v1/auth/token/", {"email": "rep@acme.example", "password": "Wrong-password-1"},
                 format="json")
    response = api.post("/api/v1/auth/token/", {"email": "rep@acme.example", "password": DEMO_PASSWORD},
                        format="json")
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "locked_out"


def test_a_successful_sign_in_resets_the_account_count(client, acme):
    for _ in range(4):
        attempt(client, "rep@acme.example")
    assert attempt(client, "rep@acme.example", DEMO_PASSWORD).status_code == 302
    client.post("/accounts/logout/")
    for _ in range(4):
        assert attempt(client, "rep@acme.example", ip="10.0.0.2").status_code == 200
