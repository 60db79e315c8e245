import pytest
from django.db import connection, transaction

from crm.tenancy.context import NoTenantError, tenant_context
from crm.tenancy.models import Invitation, Membership

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.platform.views_for_tests")]


def role_of(company, membership):
    with tenant_context(company.tenant):
        return Membership.objects.for_tenant(company.tenant).get(pk=membership.pk).role


def test_a_request_sees_only_its_own_tenant_even_without_an_explicit_filter(client_as, acme, globex):
    assert client_as(acme.rep).get("/t/whoami/").content == b"acme:5"


def test_a_view_that_raises_after_writing_leaves_nothing_written(client_as, acme):
    client = client_as(acme.rep)
    client.raise_request_exception = False
    assert client.get("/t/rename/404/").status_code == 404
    assert role_of(acme, acme.rep) == "rep"
    assert client.get("/t/rename/crash/").status_code == 500
    assert role_of(acme, acme.rep) == "rep"
    assert client.get("/t/rename/ok/").status_code == 200
    assert role_of(acme, acme.rep) == "agent"


def test_the_tenant_does_not_outlive_the_request_on_a_reused_connection(client_as, acme):
    client_as(acme.rep).get("/t/whoami/")
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('app.tenant_id', true)")
        assert cursor.fetchone()[0] in ("", None)
    with transaction.atomic():
        assert Membership.objects.count() == 0


def test_with_no_tenant_the_orm_returns_nothing_and_no_error(acme):
    with transaction.atomic():
        assert list(Membership.objects.all()) == []


def test_writing_tenant_data_without_a_tenant_is_refused(acme):
    from django.utils import timezone

    with pytest.raises(NoTenantError):
        Invitation(email="x@example.com", token_hash="x", expires_at=timezone.now()).save()
