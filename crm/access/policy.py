"""The visibility engine's entry points: every list, detail, search, export, count, bulk action,
API endpoint and job asks these, none re-implements them.

Until the access-model issue lands, the organisation-wide default is "private" for every object
with an owner: a user sees what they own, managers see what their subordinates own (the role
hierarchy: Membership.reports_to, any depth), admins see all of their tenant. The full model
(profiles, sharing rules, teams, field security) later changes this module only.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import QuerySet

from crm.tenancy.models import Membership, Role

OWNER_FIELD = "owner"


def subordinate_ids(actor: Membership) -> list:
    """The actor and everyone below them in the role hierarchy (one recursive query)."""
    cached = getattr(actor, "_visible_owner_ids", None)
    if cached is not None:
        return cached
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH RECURSIVE tree(id) AS (
                SELECT id FROM tenancy_membership WHERE tenant_id = %s AND id = %s
                UNION
                SELECT m.id FROM tenancy_membership m JOIN tree ON m.reports_to_id = tree.id
                WHERE m.tenant_id = %s
            )
            SELECT id FROM tree
            """,
            [actor.tenant_id, actor.pk, actor.tenant_id],
        )
        ids = [row[0] for row in cursor.fetchall()]
    actor._visible_owner_ids = ids
    return ids


def sees_all(actor: Membership) -> bool:
    return actor.role == Role.ADMIN


def visible(qs: QuerySet, actor: Membership | None, action: str = "read", *, owner_field: str = OWNER_FIELD) -> QuerySet:
    """Records of `qs` that `actor` may `action`; always carries the explicit tenant filter.

    `owner_field` names the path to the owning Membership for records whose visibility follows a
    parent (e.g. "contact__owner" for a contact's emails).
    """
    if actor is None or not actor.is_active:
        return qs.none()
    qs = qs.filter(tenant_id=actor.tenant_id)
    if sees_all(actor) or not _has_owner(qs.model, owner_field):
        return qs
    return qs.filter(**{f"{owner_field}_id__in": subordinate_ids(actor)})


def _has_owner(model, owner_field: str) -> bool:
    head = owner_field.split("__")[0]
    return any(f.name == head for f in model._meta.get_fields())


def can(actor: Membership | None, action: str, obj=None) -> bool:
    if actor is None or not actor.is_active:
        return False
    if obj is not None and getattr(obj, "tenant_id", actor.tenant_id) != actor.tenant_id:
        return False
    if action == "administer":
        return actor.role == Role.ADMIN
    owner_id = getattr(obj, f"{OWNER_FIELD}_id", None) if obj is not None else None
    if owner_id is not None and not sees_all(actor):
        return owner_id in subordinate_ids(actor)
    return True


def require(actor: Membership | None, action: str, obj=None) -> None:
    if not can(actor, action, obj):
        raise PermissionDenied(f"You are not allowed to {action} this.")
