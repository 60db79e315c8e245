"""Fixtures for the whole suite.

The test database is created and migrated as the schema owner, then every test runs as the
application role: NOSUPERUSER, NOBYPASSRLS, owning no table. RLS is therefore on in every test,
as in production.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.conf import settings
from django.db import connections

# mail through the outbox in every test; the real Celery worker fixture (`celery_worker`)
pytest_plugins = ["tests.background", "tests.browser"]


def _use_role(role: dict) -> None:
    conn = connections["default"]
    conn.close()
    conn.settings_dict["USER"] = role["USER"]
    conn.settings_dict["PASSWORD"] = role["PASSWORD"]


@pytest.fixture(scope="session")
def django_db_setup(request, django_test_environment, django_db_blocker, django_db_keepdb):
    from django.test.utils import setup_databases, teardown_databases

    app_role = {"USER": connections["default"].settings_dict["USER"],
                "PASSWORD": connections["default"].settings_dict["PASSWORD"]}
    owner = settings.DATABASE_OWNER
    with django_db_blocker.unblock():
        _use_role(owner)
        db_cfg = setup_databases(verbosity=0, interactive=False, keepdb=django_db_keepdb)
        _use_role(app_role)
    # Transactional tests (worker, live server) end with a flush, which fires post_migrate as the
    # application role; RLS and grants are already in place and that role may not ALTER a table.
    from django.db.models.signals import post_migrate

    post_migrate.disconnect(dispatch_uid="crm.tenancy.rls.apply_all")
    yield
    with django_db_blocker.unblock():
        _use_role(owner)
        try:
            teardown_databases(db_cfg, verbosity=0, keepdb=django_db_keepdb)
        finally:
            _use_role(app_role)


@dataclass
class Company:
    """A tenant with its people, so a test can say who does what: acme.rep, acme.manager…"""

    tenant: object
    admin: object
    manager: object
    rep: object
    rep2: object
    agent: object

    @property
    def members(self):
        return [self.admin, self.manager, self.rep, self.rep2, self.agent]


def build_company(slug: str, name: str) -> Company:
    from crm.tenancy.context import tenant_context
    from crm.tenancy.models import Membership, Role
    from crm.tenancy.tests.factories import TenantFactory, UserFactory

    tenant = TenantFactory(slug=slug, name=name)
    with tenant_context(tenant):
        def member(local: str, role: str, full_name: str, reports_to=None):
            user = UserFactory(email=f"{local}@{slug}.example", full_name=full_name)
            return Membership.objects.create(tenant=tenant, user=user, role=role, reports_to=reports_to,
                                             is_default=True)

        admin = member("admin", Role.ADMIN, f"{name} Admin")
        manager = member("manager", Role.MANAGER, f"{name} Manager")
        rep = member("rep", Role.REP, f"{name} Rep", manager)
        rep2 = member("rep2", Role.REP, f"{name} Rep Two", manager)
        agent = member("agent", Role.AGENT, f"{name} Agent")
    return Company(tenant, admin, manager, rep, rep2, agent)


@pytest.fixture
def acme(db):
    return build_company("acme", "Acme")


@pytest.fixture
def globex(db):
    return build_company("globex", "Globex")


@pytest.fixture
def client_as(client):
    """client_as(membership) -> a Django test client signed in as that person, in that tenant."""
    from crm.tenancy.middleware import SESSION_KEY

    def sign_in(membership):
        client.force_login(membership.user, backend="django.contrib.auth.backends.ModelBackend")
        session = client.session
        session[SESSION_KEY] = str(membership.tenant_id)
        session.save()
        return client

    return sign_in


@pytest.fixture
def api():
    """api.as_(membership) -> a DRF APIClient authenticated with a real token of that membership."""
    from rest_framework.test import APIClient

    from crm.tenancy import services
    from crm.tenancy.context import tenant_context

    class Api:
        def as_(self, membership):
            with tenant_context(membership.tenant):
                _, key = services.api_token_create(actor=membership, name="test")
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
            return client

        def anonymous(self):
            return APIClient()

    return Api()
