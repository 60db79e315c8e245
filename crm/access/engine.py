"""The visibility engine: what a member may do with which records, in one indexed SQL shape.

A member's access to a record is the highest level any of these paths grants (`Level`):
1. view all / modify all on the object (profile or permission set): read / edit everything;
2. the organisation-wide default: public read only / public read/write;
3. ownership: they own it;
4. the role hierarchy: its owner holds a role below theirs (edit only where the object's default
   says managers edit their subordinates' records);
5. owner-based sharing rules: its owner is in the rule's source group and they are in its target
   group (resolved at query time through GroupUser: moving people changes no share row);
6. share rows (criteria rules, manual shares, teams, collaboration groups) granted to them or to a
   group they are in;
7. the parent: a child record (a contact under its account) when the child's default is
   "controlled by parent": the parent's level; whatever the default, the parent's team and
   collaboration groups reach its children.
Then the object rights decide what the level may be used for: read needs `can_read`, edit
`can_edit`, delete `can_delete` (each on top of the level), create `can_create`.

Lists are `owner_id IN (owners) OR id = ANY(ARRAY(SELECT record_id FROM share … UNION ALL
<children of visible parents>))` when the member reaches at most NARROW records: PostgreSQL ORs a
bitmap of the owner index with the ids the InitPlan collected, reads the few heap pages in physical
order, sorts and pages (the rep who sees 0.13 % of a million accounts: 1.3 ms of SQL, and never a
walk of the name index hunting for visible rows; fetching the same 1,265 rows one key at a time
took 4.5 ms). Beyond NARROW the shares and parents are an `(id IN (…)) IS TRUE` filter on a walk
of the list's sort index. `owners` is a short array of membership ids (oneself, the subordinates,
the owner-rule sources), never an array of record ids.

Per request, an actor's AccessContext costs a few small queries (rights, groups, owners), cached
on the Membership instance.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Lookup, Q, QuerySet, UUIDField
from django.db.models.expressions import RawSQL

from . import registry
from .models import Default, FieldAccess, Level

NONE = 0
READ = Level.READ.value
EDIT = Level.EDIT.value

ACTION_LEVEL = {"read": READ, "edit": EDIT, "delete": EDIT}
ACTION_FLAG = {"read": "can_read", "edit": "can_edit", "delete": "can_delete", "create": "can_create"}


@dataclass
class Rights:
    """Effective object rights (union of profile and permission sets)."""

    can_create: bool = False
    can_read: bool = False
    can_edit: bool = False
    can_delete: bool = False
    view_all: bool = False
    modify_all: bool = False

    def merge(self, other) -> None:
        for name in ("can_create", "can_read", "can_edit", "can_delete", "view_all", "modify_all"):
            if getattr(other, name):
                setattr(self, name, True)


FIELD_RANK = {FieldAccess.HIDDEN: 0, FieldAccess.READ_ONLY: 1, FieldAccess.EDIT: 2}


@dataclass
class AccessContext:
    actor: object
    tenant_id: object
    role_id: object = None
    objects: dict = field(default_factory=dict)  # object key -> Rights
    app: set = field(default_factory=set)  # app permission names
    fields: dict = field(default_factory=dict)  # (object, field) -> FieldAccess (only non-editable)
    groups: list = field(default_factory=list)  # ids of every group the actor is in
    defaults: dict = field(default_factory=dict)  # object -> (Default, hierarchy_edit)
    subordinates: list = field(default_factory=list)  # members whose role is below the actor's
    owner_rules: list = field(default_factory=list)  # (object, level, [source member ids]) targeting the actor
    _owners: dict = field(default_factory=dict)
    _narrow: dict = field(default_factory=dict)  # (object, level) -> reaches at most NARROW records

    @property
    def principals(self) -> list:
        return [self.actor.pk, *self.groups]

    def rights(self, key: str) -> Rights:
        return self.objects.get(key) or Rights()

    def default(self, key: str) -> tuple[str, bool]:
        return self.defaults.get(key) or (registry.get(key).default, True)

    def field_access(self, key: str, name: str) -> str:
        return self.fields.get((key, name), FieldAccess.EDIT)

    def owners(self, key: str, level: int) -> list:
        """Membership ids whose records `actor` reaches at `level` by ownership, the role hierarchy
        and owner-based sharing rules (no query: the context loaded what it needs)."""
        cache_key = (key, level)
        if cache_key in self._owners:
            return self._owners[cache_key]
        _default, hierarchy_edit = self.default(key)
        ids = {self.actor.pk}
        if level == READ or hierarchy_edit:
            ids.update(self.subordinates)
        for rule_key, access, members in self.owner_rules:
            if rule_key == key and access >= level:
                ids.update(members)
        out = sorted(ids, key=str)
        self._owners[cache_key] = out
        return out


# One round trip: the actor's role, the rights of their profile and permission sets, field
# restrictions, groups, the tenant's defaults, the members below them in the role hierarchy, and
# the owner-based rules that target one of their groups with those rules' source members.
CONTEXT_SQL = """
WITH me AS (
    SELECT role_id, profile_id FROM access_roleassignment WHERE tenant_id = %(t)s AND membership_id = %(m)s
), sets AS (
    SELECT profile_id AS id FROM me
    UNION SELECT permission_set_id FROM access_memberpermissionset WHERE tenant_id = %(t)s AND membership_id = %(m)s
), my_groups AS (
    SELECT group_id FROM access_groupuser WHERE tenant_id = %(t)s AND membership_id = %(m)s
)
SELECT
    (SELECT role_id FROM me),
    (SELECT coalesce(json_agg(json_build_array(can_import, can_export, manage_users, manage_sharing, customize,
                                               transfer_records, view_security_log)), '[]')
       FROM access_permissionset WHERE tenant_id = %(t)s AND id IN (SELECT id FROM sets)),
    (SELECT coalesce(json_agg(json_build_array(object, can_create, can_read, can_edit, can_delete, view_all,
                                               modify_all)), '[]')
       FROM access_objectpermission WHERE tenant_id = %(t)s AND permission_set_id IN (SELECT id FROM sets)),
    (SELECT coalesce(json_agg(json_build_array(f.object, f.field, f.access, p.is_profile)), '[]')
       FROM access_fieldpermission f JOIN access_permissionset p ON p.tenant_id = f.tenant_id AND p.id = f.permission_set_id
      WHERE f.tenant_id = %(t)s AND p.tenant_id = %(t)s AND f.permission_set_id IN (SELECT id FROM sets)),
    (SELECT coalesce(array_agg(group_id), '{}') FROM my_groups),
    (SELECT coalesce(json_agg(json_build_array(object, access, hierarchy_edit)), '[]')
       FROM access_orgdefault WHERE tenant_id = %(t)s),
    (SELECT coalesce(array_agg(a.membership_id), '{}') FROM access_roleassignment a
       JOIN access_roleclosure c ON c.tenant_id = a.tenant_id AND c.descendant_id = a.role_id
      WHERE a.tenant_id = %(t)s AND c.tenant_id = %(t)s AND c.ancestor_id = (SELECT role_id FROM me) AND c.depth > 0),
    (SELECT coalesce(json_agg(json_build_array(r.object, r.access,
            (SELECT coalesce(array_agg(gu.membership_id), '{}') FROM access_groupuser gu
              WHERE gu.tenant_id = %(t)s AND gu.group_id = r.source_group_id))), '[]')
       FROM access_sharingrule r
      WHERE r.tenant_id = %(t)s AND r.kind = 'owner' AND r.status = 'active'
        AND r.target_group_id IN (SELECT group_id FROM my_groups))
"""
APP_COLUMNS = ("can_import", "can_export", "manage_users", "manage_sharing", "customize", "transfer_records",
               "view_security_log")


def context(actor) -> AccessContext:
    """The actor's AccessContext: one query, then kept on the Membership instance (one request)."""
    cached = getattr(actor, "_access_context", None)
    if cached is not None:
        return cached
    import json
    import uuid
    from contextlib import nullcontext

    from crm.tenancy.context import current_tenant, tenant_context

    ctx = AccessContext(actor=actor, tenant_id=actor.tenant_id)
    # the configuration rows are tenant rows under RLS: read outside the actor's tenant they would
    # be invisible and the actor would be cached with no rights at all (a validator built before
    # its batches enter the tenant did exactly that); so they are always read in the actor's tenant
    here = current_tenant()
    scope = nullcontext() if here is not None and here.pk == actor.tenant_id else tenant_context(actor.tenant)
    with scope, connection.cursor() as cursor:
        cursor.execute(CONTEXT_SQL, {"t": actor.tenant_id, "m": actor.pk})
        role_id, app_rows, object_rows, field_rows, groups, default_rows, subordinates, rule_rows = cursor.fetchone()

    def load(value):
        return json.loads(value) if isinstance(value, str) else value

    ctx.role_id = role_id
    for row in load(app_rows):
        ctx.app.update(name for name, on in zip(APP_COLUMNS, row, strict=True) if on)
    for key, *flags in load(object_rows):
        ctx.objects.setdefault(key, Rights()).merge(Rights(*flags))
    best: dict = {}
    in_profile = set()
    for key, name, access, is_profile in load(field_rows):
        rank = FIELD_RANK[access]
        best[(key, name)] = max(best.get((key, name), rank), rank)
        if is_profile:
            in_profile.add((key, name))
    # a field the profile does not restrict is editable; a restriction stands unless a set lifts it
    for pair in in_profile:
        if best[pair] < FIELD_RANK[FieldAccess.EDIT]:
            ctx.fields[pair] = FieldAccess.HIDDEN if best[pair] == 0 else FieldAccess.READ_ONLY
    ctx.groups = [uuid.UUID(str(g)) for g in groups or []]
    ctx.defaults = {key: (access, hierarchy_edit) for key, access, hierarchy_edit in load(default_rows)}
    ctx.subordinates = [uuid.UUID(str(m)) for m in subordinates or []]
    ctx.owner_rules = [(key, access, [uuid.UUID(str(m)) for m in members]) for key, access, members in load(rule_rows)]
    actor._access_context = ctx
    return ctx


def forget(actor) -> None:
    """Drop the cached context (after a change of the actor's own rights, role or groups)."""
    actor.__dict__.pop("_access_context", None)


class VisibleIn(Lookup):
    """`id = ANY(ARRAY(<visible ids>))`: PostgreSQL runs the subquery once (an InitPlan) and the
    outer query looks the ids up by key, then sorts and pages them. As `id IN (subquery)` under RLS
    the planner kept the subquery as a per-row filter of a scan of the whole tenant."""

    lookup_name = "visible_in"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY({rhs})", [*lhs_params, *rhs_params]


class VisibleFilter(Lookup):
    """`(id IN (<visible ids>)) IS TRUE`: the subquery becomes ONE hashed set that each row of a
    walk of the list's sort index is checked against. (A plain top-level `id IN (…)` is pulled up
    into a join, and with 40,000 visible ids the planner chose a nested loop over them: 0.6 s for a
    first page, 10 s for a name search; `IS TRUE` keeps it a filter.)"""

    lookup_name = "visible_filter"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"({lhs} IN {rhs}) IS TRUE", [*lhs_params, *rhs_params]


UUIDField.register_lookup(VisibleIn)
UUIDField.register_lookup(VisibleFilter)


# --- lists --------------------------------------------------------------------------------------


def reaches_all(ctx: AccessContext, key: str, level: int) -> bool:
    """Does `ctx` reach every record of `key` at `level` without looking at records?"""
    rights = ctx.rights(key)
    if rights.modify_all or (level == READ and rights.view_all):
        return True
    default, _ = ctx.default(key)
    return default == Default.EDIT or (level == READ and default == Default.READ)


def ids_sql(ctx: AccessContext, key: str, level: int, *, with_owners: bool = True) -> tuple[str, list]:
    """SQL returning the ids of `key` records that `ctx` reaches at `level` (before object rights);
    `with_owners=False` leaves out the ownership/hierarchy/owner-rule part (the caller tests the
    owner column itself)."""
    entry = registry.get(key)
    t = ctx.tenant_id
    if reaches_all(ctx, key, level):
        return f"SELECT id FROM {entry.table} WHERE tenant_id = %s", [t]
    parts, params = [], []
    if with_owners:
        parts.append(f"SELECT id FROM {entry.table} WHERE tenant_id = %s AND {entry.owner_column} = ANY(%s::uuid[])")
        params += [t, ctx.owners(key, level)]
    parts.append("SELECT record_id FROM access_share WHERE tenant_id = %s AND object = %s "
                 "AND grantee = ANY(%s::uuid[]) AND access >= %s")
    params += [t, key, ctx.principals, level]
    default, _ = ctx.default(key)
    for parent_key, fk in entry.parents:
        column = entry.column(fk)
        if default == Default.PARENT:
            parent_sql, parent_params = ids_sql(ctx, parent_key, level)
            if reaches_all(ctx, parent_key, level):
                parts.append(f"SELECT id FROM {entry.table} WHERE tenant_id = %s AND {column} IS NOT NULL")
                params += [t]
                continue
        else:
            parent_sql = ("SELECT record_id FROM access_share WHERE tenant_id = %s AND object = %s "
                          "AND cause IN ('team', 'collab') AND grantee = ANY(%s::uuid[]) AND access >= %s")
            parent_params = [t, parent_key, ctx.principals, level]
        parts.append(f"SELECT id FROM {entry.table} WHERE tenant_id = %s AND {column} IN ({parent_sql})")
        params += [t, *parent_params]
    return " UNION ALL ".join(parts), params


def visible(qs: QuerySet, actor, action: str = "read") -> QuerySet:
    """The records of `qs` that `actor` may `action` (read, edit, delete); always tenant-filtered."""
    if actor is None or not actor.is_active:
        return qs.none()
    qs = qs.filter(tenant_id=actor.tenant_id)
    entry = registry.for_model(qs.model)
    if entry is None:
        raise LookupError(f"{qs.model._meta.label} is not registered with crm.access.registry")
    ctx = context(actor)
    rights = ctx.rights(entry.key)
    if not getattr(rights, ACTION_FLAG[action]):
        return qs.none()
    level = ACTION_LEVEL[action]
    if reaches_all(ctx, entry.key, level):
        return qs
    sql, params = ids_sql(ctx, entry.key, level)
    owned = Q(**{f"{entry.owner_field}_id__in": ctx.owners(entry.key, level)})
    rest_sql, rest_params = ids_sql(ctx, entry.key, level, with_owners=False)
    if is_narrow(ctx, entry.key, level, sql, params):
        return qs.filter(owned | Q(pk__visible_in=RawSQL(f"ARRAY({rest_sql})", rest_params)))
    # wide: the owner is tested on the row itself (a short constant array, hashed by PostgreSQL),
    # the rest (shares, parents) as one hashed set
    return qs.filter(owned | Q(pk__visible_filter=RawSQL(rest_sql, rest_params)))


# Up to this many visible records, a list collects their ids first and fetches them by key (the
# rep who sees 0.1 % of a million accounts); beyond it, it walks the list's sort index and keeps
# the visible rows (a manager who sees 4 %: the first page is found after a few thousand index
# entries, while fetching and sorting 40,000 rows by key took 220 ms).
NARROW = 5_000


def is_narrow(ctx: AccessContext, key: str, level: int, sql: str, params: list) -> bool:
    """Does `ctx` reach at most NARROW records of `key` at `level`? A capped count through the same
    indexes as the list (it stops at NARROW + 1), remembered for five minutes in the tenant's
    cache. The answer only picks the plan: both shapes return the same rows (the differential
    test checks both), so a stale answer costs speed, never correctness."""
    from crm.tenancy.cache import tenant_cache

    cache_key = (key, level)
    if cache_key not in ctx._narrow:
        shared_key = f"access:narrow:{ctx.actor.pk}:{key}:{level}"
        narrow = tenant_cache.get(shared_key)
        if narrow is None:
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT count(*) FROM (SELECT 1 FROM ({sql}) AS visible LIMIT %s) AS capped",
                               [*params, NARROW + 1])
                narrow = cursor.fetchone()[0] <= NARROW
            tenant_cache.set(shared_key, narrow, 300)
        ctx._narrow[cache_key] = narrow
    return ctx._narrow[cache_key]


# --- one record ---------------------------------------------------------------------------------


def level_of(ctx: AccessContext, key: str, record) -> int:
    """The level `ctx` reaches on `record` (an instance of `key`'s model), before object rights."""
    if reaches_all(ctx, key, EDIT):
        return EDIT
    entry = registry.get(key)
    owner_id = getattr(record, f"{entry.owner_field}_id", None)
    best = READ if reaches_all(ctx, key, READ) else NONE
    if owner_id is not None:
        if owner_id in ctx.owners(key, EDIT):
            return EDIT
        if best < READ and owner_id in ctx.owners(key, READ):
            best = READ
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(max(access), 0) FROM access_share WHERE tenant_id = %s AND object = %s "
            "AND record_id = %s AND grantee = ANY(%s::uuid[])",
            [ctx.tenant_id, key, record.pk, ctx.principals],
        )
        best = max(best, cursor.fetchone()[0])
    if best == EDIT:
        return EDIT
    default, _ = ctx.default(key)
    for parent_key, fk in entry.parents:
        parent = getattr(record, fk, None)
        if parent is None:
            continue
        if default == Default.PARENT:
            best = max(best, level_of(ctx, parent_key, parent))
        else:
            best = max(best, _team_level(ctx, parent_key, parent.pk))
        if best == EDIT:
            return EDIT
    return best


def _team_level(ctx: AccessContext, key: str, record_id) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(max(access), 0) FROM access_share WHERE tenant_id = %s AND object = %s "
            "AND record_id = %s AND cause IN ('team', 'collab') AND grantee = ANY(%s::uuid[])",
            [ctx.tenant_id, key, record_id, ctx.principals],
        )
        return cursor.fetchone()[0]


APP_ACTIONS = {
    "administer": "manage_users", "manage_users": "manage_users", "manage_sharing": "manage_sharing",
    "customize": "customize", "import": "can_import", "export": "can_export",
    "transfer_records": "transfer_records", "view_security_log": "view_security_log",
}


def can(actor, action: str, obj=None) -> bool:
    """May `actor` `action` `obj`? obj: a record, a model class / object key (for create), or None
    for an app permission (action is then one of APP_ACTIONS)."""
    if actor is None or not actor.is_active:
        return False
    ctx = context(actor)
    if action in APP_ACTIONS:
        return APP_ACTIONS[action] in ctx.app
    if isinstance(obj, str):
        entry = registry.get(obj)
    elif obj is not None:
        entry = registry.for_model(obj if isinstance(obj, type) else type(obj))
    else:
        entry = None
    if entry is None:
        raise LookupError(f"can({action!r}): no registered object for {obj!r}")
    rights = ctx.rights(entry.key)
    if not getattr(rights, ACTION_FLAG[action], False):
        return False
    if action == "create" or isinstance(obj, (str, type)):
        return True
    if getattr(obj, "tenant_id", None) != actor.tenant_id:
        return False
    return level_of(ctx, entry.key, obj) >= ACTION_LEVEL[action]
