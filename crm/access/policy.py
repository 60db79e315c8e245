"""The entry points every list, detail, search, export, count, bulk action, API endpoint and job
asks; none re-implements them. The rules live in crm.access.engine (records of registered
objects: profiles, defaults, role hierarchy, sharing rules, shares, teams) — this module is the
stable face the rest of the code calls.

- `visible(qs, actor, action)`: the records of `qs` the actor may read / edit / delete. For a
  registered object (crm.access.registry) the engine's answer; for other tenant data with an owner
  (`owner_field`, e.g. an import job's `created_by`) the actor's own and their subordinates'
  (role hierarchy), all of it for whoever manages users; for tenant data without an owner
  (members, the security log) the tenant's rows.
- `can(actor, action, obj)` / `require(...)`: one record, a model (create), or an app permission
  ("administer" = manage users, "manage_sharing", "import", "export", "transfer_records",
  "view_security_log", "customize", "use_api").
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from crm.tenancy.models import Membership

from . import engine, registry

OWNER_FIELD = "owner"


def subordinate_ids(actor: Membership) -> list:
    """The actor and every member whose role is below the actor's (the role hierarchy)."""
    return [actor.pk, *engine.context(actor).subordinates]


def sees_all(actor: Membership, object_key: str | None = None) -> bool:
    """With an object: does the actor read every record of it (view all, public default)? Without:
    do they administer the tenant (manage users)?"""
    if actor is None or not actor.is_active:
        return False
    ctx = engine.context(actor)
    if object_key is None:
        return "manage_users" in ctx.app
    return ctx.rights(object_key).can_read and engine.reaches_all(ctx, object_key, engine.READ)


def visible(qs: QuerySet, actor: Membership | None, action: str = "read", *, owner_field: str = OWNER_FIELD) -> QuerySet:
    """Records of `qs` that `actor` may `action`; always carries the explicit tenant filter."""
    if actor is None or not actor.is_active:
        return qs.none()
    if registry.for_model(qs.model) is not None and owner_field == OWNER_FIELD:
        return engine.visible(qs, actor, action)
    qs = qs.filter(tenant_id=actor.tenant_id)
    if not _has_owner(qs.model, owner_field) or sees_all(actor):
        return qs
    return qs.filter(**{f"{owner_field}_id__in": subordinate_ids(actor)})


def _has_owner(model, owner_field: str) -> bool:
    head = owner_field.split("__")[0]
    return any(f.name == head for f in model._meta.get_fields())


APP_ACTIONS = {**engine.APP_ACTIONS}


def can(actor: Membership | None, action: str, obj=None) -> bool:
    if actor is None or not actor.is_active:
        return False
    if action == "use_api":
        return True
    if action in APP_ACTIONS:
        return engine.can(actor, action)
    if obj is not None and not isinstance(obj, (str, type)):
        if getattr(obj, "tenant_id", actor.tenant_id) != actor.tenant_id:
            return False
        if registry.for_model(type(obj)) is None:  # tenant data outside the sharing model
            owner_id = getattr(obj, f"{OWNER_FIELD}_id", None)
            return owner_id is None or sees_all(actor) or owner_id in subordinate_ids(actor)
    return engine.can(actor, action, obj)


def require(actor: Membership | None, action: str, obj=None) -> None:
    if not can(actor, action, obj):
        raise PermissionDenied(MESSAGES.get(action, f"You are not allowed to {action} this."))


MESSAGES = {
    "administer": "Only someone who manages users can do this.",
    "manage_sharing": "Only someone who manages sharing can do this.",
    "import": "Your profile does not allow importing.",
    "export": "Your profile does not allow exporting.",
    "transfer_records": "Your profile does not allow handing records over.",
    "view_security_log": "Your profile does not allow reading the security log.",
    "create": "Your profile does not allow creating these.",
    "edit": "You cannot edit this record.",
    "delete": "You cannot delete this record.",
}
