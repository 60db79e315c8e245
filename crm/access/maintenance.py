"""Keeps the derived rows current: RoleClosure, GroupUser, and the share rows of criteria rules,
teams and collaboration groups.

Everything here runs in the caller's transaction, set-based (one statement per step, never a
Python loop over records), so a change and its consequences commit together: there is no moment
where access is half-applied. A criteria rule over more rows than INLINE_RULE_ROWS is calculated
by a Celery job instead (crm.access.tasks); until that job commits, the rule is `calculating` and
grants nothing (never more access than configured).
"""

from __future__ import annotations

from django.db import connection

from crm.audit.history import UUID7_SQL

from . import registry
from .models import Cause, Group, SharingRule, UserRole

INLINE_RULE_ROWS = 200_000


def _execute(sql: str, params: list) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


# --- the role tree ------------------------------------------------------------------------------


def role_added(role: UserRole, *, refresh: bool = True) -> None:
    """A new role: its closure rows (itself at depth 0, and under each ancestor of its parent) and
    its two system groups. `refresh=False` when the caller refreshes the groups once after adding
    many roles (crm.access.defaults)."""
    _execute(
        f"INSERT INTO access_roleclosure (id, tenant_id, created_at, updated_at, ancestor_id, descendant_id, depth) "
        f"SELECT {UUID7_SQL}, %s, now(), now(), %s, %s, 0",
        [role.tenant_id, role.pk, role.pk],
    )
    if role.parent_id is not None:
        _execute(
            f"INSERT INTO access_roleclosure (id, tenant_id, created_at, updated_at, ancestor_id, descendant_id, depth) "
            f"SELECT {UUID7_SQL}, tenant_id, now(), now(), ancestor_id, %s, depth + 1 FROM access_roleclosure "
            f"WHERE tenant_id = %s AND descendant_id = %s",
            [role.pk, role.tenant_id, role.parent_id],
        )
    for kind in (Group.Kind.ROLE, Group.Kind.ROLE_SUB):
        Group.objects.get_or_create(tenant_id=role.tenant_id, kind=kind, role=role,
                                    defaults={"name": role.name})
    if refresh:
        refresh_groups(role.tenant_id)


def role_moved(role: UserRole) -> None:
    """`role` (and its subtree) now hangs under role.parent_id: replace the subtree's links to its
    old ancestors with links to the new ones. Rows touched: subtree size x depth, never records."""
    t = role.tenant_id
    # detach: every (ancestor outside the subtree, descendant inside it) pair
    _execute(
        "DELETE FROM access_roleclosure WHERE tenant_id = %s "
        "AND descendant_id IN (SELECT descendant_id FROM access_roleclosure WHERE tenant_id = %s AND ancestor_id = %s) "
        "AND ancestor_id NOT IN (SELECT descendant_id FROM access_roleclosure WHERE tenant_id = %s AND ancestor_id = %s)",
        [t, t, role.pk, t, role.pk],
    )
    if role.parent_id is not None:
        _execute(
            f"INSERT INTO access_roleclosure (id, tenant_id, created_at, updated_at, ancestor_id, descendant_id, depth) "
            f"SELECT {UUID7_SQL}, %s, now(), now(), up.ancestor_id, down.descendant_id, up.depth + down.depth + 1 "
            f"FROM access_roleclosure up, access_roleclosure down "
            f"WHERE up.tenant_id = %s AND up.descendant_id = %s AND down.tenant_id = %s AND down.ancestor_id = %s",
            [t, t, role.parent_id, t, role.pk],
        )
    refresh_groups(t)


def would_cycle(role: UserRole, new_parent_id) -> bool:
    """Would hanging `role` under `new_parent_id` make a loop (the new parent is in its subtree)?"""
    if new_parent_id is None:
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM access_roleclosure WHERE tenant_id = %s AND ancestor_id = %s AND descendant_id = %s",
            [role.tenant_id, role.pk, new_parent_id],
        )
        return cursor.fetchone() is not None


# --- groups -------------------------------------------------------------------------------------


def refresh_groups(tenant_id) -> None:
    """Recompute GroupUser for the whole tenant in one statement pair, and write only the
    difference (a tenant has at most a few thousand group memberships; a role move or a user's new
    role changes a handful of rows). Nested public groups are resolved to any depth (cycles are
    refused when configured and cut here by UNION). Inactive members stay in their groups: an
    inactive member sees nothing (the engine refuses them), and their records stay shared as
    configured until they are handed over."""
    flat = """
        WITH RECURSIVE
        holders AS (  -- who holds which role
            SELECT a.membership_id, a.role_id FROM access_roleassignment a
            WHERE a.tenant_id = %(t)s AND a.role_id IS NOT NULL
        ),
        direct AS (  -- each group's members before nesting
            SELECT g.id AS group_id, h.membership_id FROM access_group g
            JOIN holders h ON h.role_id = g.role_id
            WHERE g.tenant_id = %(t)s AND g.kind = 'role'
            UNION
            SELECT g.id, h.membership_id FROM access_group g
            JOIN access_roleclosure c ON c.tenant_id = g.tenant_id AND c.ancestor_id = g.role_id
            JOIN holders h ON h.role_id = c.descendant_id
            WHERE g.tenant_id = %(t)s AND g.kind = 'role_sub'
            UNION
            SELECT gm.group_id, gm.membership_id FROM access_groupmember gm
            WHERE gm.tenant_id = %(t)s AND gm.kind = 'user'
            UNION
            SELECT gm.group_id, h.membership_id FROM access_groupmember gm
            JOIN holders h ON h.role_id = gm.role_id
            WHERE gm.tenant_id = %(t)s AND gm.kind = 'role'
            UNION
            SELECT gm.group_id, h.membership_id FROM access_groupmember gm
            JOIN access_roleclosure c ON c.tenant_id = gm.tenant_id AND c.ancestor_id = gm.role_id
            JOIN holders h ON h.role_id = c.descendant_id
            WHERE gm.tenant_id = %(t)s AND gm.kind = 'role_sub'
        ),
        nesting(group_id, inner_id) AS (  -- group -> every group nested in it, itself included
            SELECT id, id FROM access_group WHERE tenant_id = %(t)s
            UNION
            SELECT n.group_id, gm.member_group_id FROM nesting n
            JOIN access_groupmember gm ON gm.tenant_id = %(t)s AND gm.group_id = n.inner_id AND gm.kind = 'group'
        ),
        wanted AS (
            SELECT DISTINCT n.group_id, d.membership_id FROM nesting n JOIN direct d ON d.group_id = n.inner_id
        )
    """
    params = {"t": tenant_id}
    _execute(flat + """
        DELETE FROM access_groupuser gu WHERE gu.tenant_id = %(t)s AND NOT EXISTS (
            SELECT 1 FROM wanted w WHERE w.group_id = gu.group_id AND w.membership_id = gu.membership_id)
    """, params)
    _execute(flat + f"""
        INSERT INTO access_groupuser (id, tenant_id, created_at, updated_at, group_id, membership_id)
        SELECT {UUID7_SQL}, %(t)s, now(), now(), w.group_id, w.membership_id FROM wanted w
        WHERE NOT EXISTS (SELECT 1 FROM access_groupuser gu WHERE gu.tenant_id = %(t)s
                          AND gu.group_id = w.group_id AND gu.membership_id = w.membership_id)
    """, params)


def group_would_cycle(group_id, member_group_id, tenant_id) -> bool:
    """Would putting `member_group_id` into `group_id` nest a group in itself?"""
    if group_id == member_group_id:
        return True
    with connection.cursor() as cursor:
        cursor.execute(
            """WITH RECURSIVE inner_groups(id) AS (
                   SELECT %s::uuid
                   UNION
                   SELECT gm.member_group_id FROM access_groupmember gm JOIN inner_groups i ON gm.group_id = i.id
                   WHERE gm.tenant_id = %s AND gm.kind = 'group')
               SELECT 1 FROM inner_groups WHERE id = %s""",
            [member_group_id, tenant_id, group_id],
        )
        return cursor.fetchone() is not None


# --- criteria rules -------------------------------------------------------------------------------


def criteria_queryset(rule: SharingRule, ids=None):
    """The records `rule` matches (in the rule's tenant), as a queryset of ids."""
    from .criteria import to_q

    entry = registry.get(rule.object)
    qs = entry.model.objects.filter(tenant_id=rule.tenant_id).filter(to_q(entry, rule.criteria))
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.values("id")


def apply_rule(rule: SharingRule, ids=None) -> int:
    """(Re)write the share rows of a criteria rule: for all records, or only `ids`."""
    t = rule.tenant_id
    params: list = [t, rule.pk]
    where = ""
    if ids is not None and not ids:
        return 0
    if ids is not None:
        where = " AND record_id = ANY(%s::uuid[])"
        params.append(list(ids))
    _execute(f"DELETE FROM access_share WHERE tenant_id = %s AND cause_id = %s{where}", params)
    if rule.status != SharingRule.Status.ACTIVE and ids is not None:
        return 0
    sql, select_params = criteria_queryset(rule, ids).query.sql_with_params()
    return _insert_rule_rows(rule, sql, select_params)


def _insert_rule_rows(rule: SharingRule, ids_sql: str, params) -> int:
    """One share row (to the rule's group, at its level) per id that `ids_sql` selects."""
    return _execute(
        f"INSERT INTO access_share (id, tenant_id, created_at, updated_at, object, record_id, grantee, "
        f"grantee_is_group, access, cause, cause_id, created_by_id) "
        f"SELECT {UUID7_SQL}, %s, now(), now(), %s, matched.id, %s, true, %s, %s, %s, NULL FROM ({ids_sql}) matched",
        [rule.tenant_id, rule.object, rule.target_group_id, rule.access, Cause.RULE, rule.pk, *params],
    )


RULE_STEP = 50_000


def rule_progress_key(rule_id) -> str:
    return f"access:rule-progress:{rule_id}"


def apply_rule_in_steps(rule: SharingRule, progress) -> int:
    """apply_rule(rule) for a rule's job, in steps the admin can watch: the matching ids are read
    once into a temporary table (one pass over the records), then their share rows are written
    RULE_STEP at a time, calling `progress(percent)` after each; all in the caller's transaction,
    so nothing of it is visible until the job commits."""
    drop_rule(rule)
    sql, params = criteria_queryset(rule).query.sql_with_params()
    _execute("DROP TABLE IF EXISTS access_rule_matches", [])
    _execute(f"CREATE TEMPORARY TABLE access_rule_matches ON COMMIT DROP AS "
             f"SELECT row_number() OVER () AS n, matched.id FROM ({sql}) matched", list(params))
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM access_rule_matches")
        total = cursor.fetchone()[0]
    _execute("CREATE INDEX ON access_rule_matches (n)", [])
    written = 0
    for start in range(0, total, RULE_STEP):
        written += _insert_rule_rows(rule, "SELECT id FROM access_rule_matches WHERE n > %s AND n <= %s",
                                     [start, start + RULE_STEP])
        progress(min(99, int(100 * (start + RULE_STEP) / total)))
    return written


def drop_rule(rule: SharingRule) -> None:
    _execute("DELETE FROM access_share WHERE tenant_id = %s AND cause_id = %s", [rule.tenant_id, rule.pk])


def compile_rule(rule: SharingRule) -> None:
    """Set the rule's `match_sql` and `changed_sql` from its criteria (before it is saved). Values
    are bound by the driver (mogrify), never pasted: the text is as safe as the ORM's query."""
    if rule.kind != SharingRule.Kind.CRITERIA or not rule.criteria:
        rule.match_sql = rule.changed_sql = ""
        return
    from .criteria import fields_of

    sql, params = criteria_queryset(rule).query.sql_with_params()
    with connection.cursor() as cursor:
        rule.match_sql = cursor.mogrify(sql, params).decode()
    fields = fields_of(registry.get(rule.object))
    columns = sorted({fields[c["field"]].column for c in rule.criteria})
    rule.changed_sql = " OR ".join(f'o."{c}" IS DISTINCT FROM n."{c}"' for c in columns)


# Every write of a registered object's table, whatever path made it (a service, a bulk action, an
# import's INSERT … SELECT, a merge, raw SQL), re-evaluates the tenant's active criteria rules for
# exactly the rows it wrote, in the same statement: an insert for every new row, an update only for
# the rows where a column the rule tests changed (a transfer that rewrites owner_id re-evaluates
# no rule that does not test the owner). Statement-level, with transition tables, like the history
# triggers: one pass per rule per statement, never per row. Under row-level security the loop sees
# the current tenant's rules only.
TRIGGER_FUNCTION = f"""
CREATE OR REPLACE FUNCTION access_criteria_refresh() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    r record;
    ids uuid[];
BEGIN
    FOR r IN SELECT s.id, s.tenant_id, s.target_group_id, s.access, s.match_sql, s.changed_sql, s.status
             FROM access_sharingrule s
             WHERE s.object = TG_ARGV[0] AND s.kind = 'criteria' AND s.match_sql <> ''
    LOOP
        IF TG_OP = 'INSERT' THEN
            SELECT array_agg(n.id) INTO ids FROM new_rows n WHERE n.tenant_id = r.tenant_id;
        ELSE
            EXECUTE format('SELECT array_agg(n.id) FROM new_rows n JOIN old_rows o ON o.id = n.id '
                           'WHERE n.tenant_id = $1 AND (%s)', r.changed_sql) INTO ids USING r.tenant_id;
        END IF;
        CONTINUE WHEN ids IS NULL;
        IF r.status <> 'active' THEN
            -- the rule's job is writing its rows from a snapshot: note the records for it instead
            INSERT INTO access_rulebacklog (id, tenant_id, created_at, updated_at, rule_id, record_id)
            SELECT {UUID7_SQL}, r.tenant_id, now(), now(), r.id, x FROM unnest(ids) AS x;
            CONTINUE;
        END IF;
        DELETE FROM access_share WHERE tenant_id = r.tenant_id AND cause_id = r.id AND record_id = ANY(ids);
        EXECUTE format('INSERT INTO access_share (id, tenant_id, created_at, updated_at, object, record_id, '
                       'grantee, grantee_is_group, access, cause, cause_id, created_by_id) '
                       'SELECT {UUID7_SQL.replace("'", "''")}, $1, now(), now(), $2, m.id, $3, true, $4, ''{Cause.RULE}'', $5, NULL '
                       'FROM (%s) m WHERE m.id = ANY($6)', r.match_sql)
            USING r.tenant_id, TG_ARGV[0], r.target_group_id, r.access, r.id, ids;
    END LOOP;
    RETURN NULL;
END
$fn$
"""


def install_triggers(sender=None, **kwargs) -> None:
    """post_migrate: the function, a trigger pair on every registered object's table, and the
    compiled SQL of rules saved before rules carried it. Runs as the owner (as rls.apply_all)."""
    from django.conf import settings

    from crm.tenancy.context import tenant_context

    if sender is not None and sender.label != "access":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        if cursor.fetchone()[0] == settings.DATABASE_APP_ROLE:
            return
        cursor.execute(TRIGGER_FUNCTION)
        for entry in registry.objects():
            table, key = entry.model._meta.db_table, entry.key
            cursor.execute(f'CREATE OR REPLACE TRIGGER access_criteria_insert AFTER INSERT ON "{table}" '
                           f"REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
                           f"EXECUTE FUNCTION access_criteria_refresh('{key}')")
            cursor.execute(f'CREATE OR REPLACE TRIGGER access_criteria_update AFTER UPDATE ON "{table}" '
                           f"REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
                           f"EXECUTE FUNCTION access_criteria_refresh('{key}')")
    from crm.tenancy.models import Tenant

    for tenant in Tenant.objects.all():
        with tenant_context(tenant):
            for rule in SharingRule.objects.filter(tenant=tenant, kind=SharingRule.Kind.CRITERIA, match_sql=""):
                compile_rule(rule)
                rule.save(update_fields=["match_sql", "changed_sql"])
                apply_rule(rule)


def records_deleted(key: str, ids, tenant_id) -> None:
    """Records are gone: their share rows, team members and collaboration groups go with them."""
    from .models import CollaborationGroup, TeamMember

    ids = list(ids)
    if not ids:
        return
    _execute("DELETE FROM access_share WHERE tenant_id = %s AND object = %s AND record_id = ANY(%s::uuid[])",
             [tenant_id, key, ids])
    TeamMember.objects.filter(tenant_id=tenant_id, object=key, record_id__in=ids).delete()
    CollaborationGroup.objects.filter(tenant_id=tenant_id, object=key, record_id__in=ids).delete()


# --- teams and collaboration groups -----------------------------------------------------------------


def sync_member_share(*, tenant_id, object: str, record_id, membership_id, access: int, cause: str, cause_id,
                      created_by_id=None) -> None:
    """The one share row that a team member / collaboration member stands for (replaced in place)."""
    _execute("DELETE FROM access_share WHERE tenant_id = %s AND cause_id = %s", [tenant_id, cause_id])
    _execute(
        f"INSERT INTO access_share (id, tenant_id, created_at, updated_at, object, record_id, grantee, "
        f"grantee_is_group, access, cause, cause_id, created_by_id) "
        f"VALUES ({UUID7_SQL}, %s, now(), now(), %s, %s, %s, false, %s, %s, %s, %s)",
        [tenant_id, object, record_id, membership_id, access, cause, cause_id, created_by_id],
    )


def drop_cause(tenant_id, cause_id) -> None:
    _execute("DELETE FROM access_share WHERE tenant_id = %s AND cause_id = %s", [tenant_id, cause_id])
