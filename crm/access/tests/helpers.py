"""Shared by the tests of every app that asks field-level security."""

from __future__ import annotations

from crm.access import engine, services
from crm.access.defaults import system_profiles
from crm.tenancy.context import tenant_context


def restrict_fields(company, restrictions: dict, kind: str = "rep") -> None:
    """Make fields hidden / read only on the system profile of `kind` (the admin does it through
    the service, as the profile page does): restrictions = {("accounts", "phone"): "read_only"}.
    Every member's cached access context is dropped."""
    with tenant_context(company.tenant):
        profile = system_profiles(company.tenant.pk)[kind]
        services.permission_set_save(actor=company.admin, permission_set=profile, name=profile.name,
                                     is_profile=True, fields=restrictions)
    for member in company.members:
        engine.forget(member)
