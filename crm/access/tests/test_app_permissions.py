"""App permissions open pages and navigation, not the kind of member: a permission set granting
"view security log" to a manager shows them the log; taking "customize" from the admin profile
closes custom fields to admins."""

from __future__ import annotations

import pytest

from crm.access import engine, services
from crm.access.defaults import system_profiles
from crm.access.models import MemberPermissionSet
from crm.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db


def _nav_labels(client) -> str:
    return client.get("/").content.decode()


def test_a_permission_set_opens_the_security_log_to_a_manager(acme, client_as):
    client = client_as(acme.manager)
    assert client.get("/settings/security-log/").status_code == 404
    assert "Security log" not in _nav_labels(client)
    with tenant_context(acme.tenant):
        auditors = services.permission_set_save(actor=acme.admin, name="Auditors", app={"view_security_log": True})
        MemberPermissionSet.objects.create(tenant=acme.tenant, membership=acme.manager, permission_set=auditors)
    engine.forget(acme.manager)
    assert client.get("/settings/security-log/").status_code == 200
    assert "Security log" in _nav_labels(client)
    # the permission opens the log, not the rest of administration
    assert client.get("/team/").status_code == 404


def test_customize_closes_custom_fields_even_to_an_admin(acme, client_as):
    client = client_as(acme.admin)
    assert client.get("/settings/fields/").status_code == 200
    with tenant_context(acme.tenant):
        profile = system_profiles(acme.tenant.pk)["admin"]
        services.permission_set_save(actor=acme.admin, permission_set=profile, name=profile.name, is_profile=True,
                                     app={"customize": False})
    engine.forget(acme.admin)
    assert client.get("/settings/fields/").status_code == 404
    assert "Custom fields" not in _nav_labels(client)


def test_a_context_first_asked_outside_the_tenant_still_holds_the_members_rights(acme):
    """The configuration is read in the actor's tenant whatever the caller's scope: asked first
    outside it (an import's validator is built before its batches enter the tenant), RLS would
    otherwise hide every row and the member would be cached with no rights at all."""
    from django.db import transaction

    from crm.tenancy.context import no_tenant

    engine.forget(acme.rep)
    with transaction.atomic(), no_tenant():
        ctx = engine.context(acme.rep)
    assert ctx.rights("accounts").can_read and ctx.rights("contacts").can_edit
    assert "can_import" in ctx.app
