"""The visibility engine's entry points. The access-model issue fills in roles, sharing and
field security; until then a member of a tenant sees the tenant's records (RLS already confines
them to it) and only admins administer. Every selector and service calls these, so the full
model later changes one place, not every caller."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from crm.tenancy.models import Membership, Role


def visible(qs: QuerySet, actor: Membership, action: str = "read") -> QuerySet:
    """Records of `qs` that `actor` may `action`; always carries the explicit tenant filter."""
    if actor is None or not actor.is_active:
        return qs.none()
    return qs.filter(tenant_id=actor.tenant_id)


def can(actor: Membership | None, action: str, obj=None) -> bool:
    if actor is None or not actor.is_active:
        return False
    if obj is not None and getattr(obj, "tenant_id", actor.tenant_id) != actor.tenant_id:
        return False
    if action == "administer":
        return actor.role == Role.ADMIN
    return True


def require(actor: Membership | None, action: str, obj=None) -> None:
    if not can(actor, action, obj):
        raise PermissionDenied(f"You are not allowed to {action} this.")
