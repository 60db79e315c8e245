"""Test helpers about the database under row-level security.

`assert_uses_index(query, "account_name_key_idx", tenant=acme.tenant)` is how a test proves that a
list or search query keeps its index *under RLS*, as the application role. Every list and search
query of a later issue gets one such test (ARCHITECTURE.md, "Speed under RLS").
"""

from __future__ import annotations

import json

from django.db import connection, transaction
from django.db.models import QuerySet

from .context import require_tenant, tenant_context

INDEX_NODES = {"Index Scan", "Index Only Scan", "Bitmap Index Scan"}


def explain_under_rls(query, params=None, *, tenant=None) -> dict:
    """EXPLAIN (FORMAT JSON) of `query` as the current role in a tenant, sequential scans off.

    `query` is a QuerySet, an SQL string (with `params`), or an (sql, params) pair. `tenant`
    defaults to the tenant context the test is already in. Nothing it sets outlives the call: it
    runs in a savepoint that is rolled back.
    """
    sql, params = _sql_and_params(query, params)
    with transaction.atomic():
        savepoint = transaction.savepoint()
        try:
            with _tenant(tenant), connection.cursor() as cursor:
                # Valid for tiny test tables: this only makes sequential scans cost more, so the
                # planner takes an index path whenever one is *possible*. What we assert is that
                # the index is usable for the condition under RLS: no setting makes a condition
                # whose function is not leakproof usable in an index under a policy (it stays a
                # Filter), which is exactly the trap this catches.
                cursor.execute("SELECT set_config('enable_seqscan', 'off', true)")
                cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
                raw = cursor.fetchone()[0]
        finally:
            transaction.savepoint_rollback(savepoint)
    plan = json.loads(raw) if isinstance(raw, str) else raw
    return plan[0]["Plan"]


def analyze_table_of(index_name: str) -> None:
    """Fresh statistics for the index's table (the test database grants MAINTAIN for this): with
    the few rows a test makes, stale statistics let the planner pick any index leading with
    tenant_id, and the assertion would depend on test order instead of on the query."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT indrelid::regclass::text FROM pg_index WHERE indexrelid = %s::regclass", [index_name])
        row = cursor.fetchone()
        if row:
            cursor.execute(f"ANALYZE {row[0]}")


def assert_uses_index(query, index_name: str, params=None, *, tenant=None, allow_filter: bool = False) -> dict:
    """Assert the query reads `index_name` under RLS, with its conditions inside the index.

    Fails when the plan does not use the index at all, or (unless `allow_filter`) when the scan
    using it still evaluates a Filter row by row: the shape of a non-leakproof condition under
    RLS (`lower(x) = …`, LIKE, `@@`, trigram, numeric or jsonb comparisons), which then reads the
    whole tenant. Pass `allow_filter=True` for a query that deliberately filters on a column that
    is not in the index. Also fails when the index's table is not under RLS for the current role
    (superuser, BYPASSRLS, a global table): such a plan would prove nothing. Returns the plan.
    """
    analyze_table_of(index_name)
    plan = explain_under_rls(query, params, tenant=tenant)
    parents = {id(child): node for node in _walk(plan) for child in node.get("Plans", [])}
    found = [node for node in _walk(plan) if node.get("Index Name") == index_name
             and node["Node Type"] in INDEX_NODES]
    if not found:
        raise AssertionError(f"The query does not use {index_name} under RLS. Plan:\n{render(plan)}")
    for node in found:
        scan = _heap_scan_of(node, parents)
        relation = scan.get("Relation Name") or node.get("Relation Name")
        if relation and not _rls_active(relation):
            raise AssertionError(
                f"{relation} is not under row-level security for {_current_user()}: run the assertion as "
                "the application role on a tenant table, or it proves nothing."
            )
        leftover = query_conditions(scan.get("Filter", ""))
        if not allow_filter and leftover:
            raise AssertionError(
                f"The query uses {index_name} but checks `{' AND '.join(leftover)}` row by row after it. Under RLS "
                "that is what a condition whose function is not LEAKPROOF does (lower(), LIKE, @@, trigram, "
                "numeric, jsonb): compare a stored *_key column with =, <, > instead, or search through the "
                f"table's search function (ARCHITECTURE.md, 'Speed under RLS'). Plan:\n{render(plan)}"
            )
    return plan


def render(plan: dict) -> str:
    """A short text rendering of a JSON plan, for assertion messages."""
    lines = []

    def walk(node, depth):
        label = node["Node Type"]
        if node.get("Index Name"):
            label += f" using {node['Index Name']}"
        if node.get("Relation Name"):
            label += f" on {node['Relation Name']}"
        lines.append("  " * depth + label)
        for key in ("Index Cond", "Recheck Cond", "Filter", "One-Time Filter"):
            if node.get(key):
                lines.append("  " * depth + f"  {key}: {node[key]}")
        for child in node.get("Plans", []):
            walk(child, depth + 1)

    walk(plan, 0)
    return "\n".join(lines)


def query_conditions(filter_text: str) -> list[str]:
    """The conjuncts of a plan's Filter that come from the query, not from an RLS policy.

    A policy's own condition shows up as a Filter when it cannot be folded into the index
    condition, e.g. two permissive policies OR'd together (tenancy_membership: the tenant's rows or
    the user's own). It reads app.* settings, which no query condition does; it is not the trap.
    """
    return [c for c in _conjuncts(filter_text) if "current_setting('app." not in c]


def _conjuncts(text: str) -> list[str]:
    text = text.strip()
    while text.startswith("(") and _closing(text, 0) == len(text) - 1:
        text = text[1:-1].strip()
    if not text:
        return []
    parts, depth, start, i = [], 0, 0, 0
    while i < len(text):
        ch = text[i]
        if ch == "'":
            i = _end_of_literal(text, i)
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0 and text.startswith(" AND ", i):
            parts.append(text[start:i])
            start = i + len(" AND ")
            i = start
            continue
        i += 1
    parts.append(text[start:])
    if len(parts) == 1:
        return [text]
    return [c for part in parts for c in _conjuncts(part)]


def _end_of_literal(text: str, at: int) -> int:
    """Index of the quote closing the SQL string literal opening at `at` ('' escapes a quote)."""
    i = at + 1
    while i < len(text) and not (text[i] == "'" and text[i + 1 : i + 2] != "'"):
        i += 2 if text[i] == "'" else 1
    return i


def _closing(text: str, open_at: int) -> int:
    depth, i = 0, open_at
    while i < len(text):
        ch = text[i]
        if ch == "'":
            i = _end_of_literal(text, i)
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def _walk(node):
    yield node
    for child in node.get("Plans", []):
        yield from _walk(child)


def _heap_scan_of(node, parents):
    """The node that reads the table for an index node: itself, or the Bitmap Heap Scan above it
    (through any BitmapAnd/BitmapOr), which is where a row-by-row Filter would show."""
    if node["Node Type"] != "Bitmap Index Scan":
        return node
    current = node
    while id(current) in parents:
        current = parents[id(current)]
        if current["Node Type"] == "Bitmap Heap Scan":
            return current
    return node


def _rls_active(relation: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT row_security_active(%s::regclass)", [connection.ops.quote_name(relation)])
        return cursor.fetchone()[0]


def _current_user() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        return cursor.fetchone()[0]


class _tenant:
    """tenant_context(tenant) when given, else insist on the ambient tenant context."""

    def __init__(self, tenant):
        self.tenant = tenant
        self.inner = None

    def __enter__(self):
        if self.tenant is None:
            require_tenant()
            return None
        self.inner = tenant_context(self.tenant)
        return self.inner.__enter__()

    def __exit__(self, *exc):
        if self.inner is not None:
            return self.inner.__exit__(*exc)
        return False


def _sql_and_params(query, params):
    if isinstance(query, QuerySet):
        return query.query.sql_with_params()
    if isinstance(query, tuple):
        return query[0], tuple(query[1] or ())
    return query, tuple(params or ())


def assert_visible_ids_first(query, model, *, tenant=None) -> dict:
    """Assert the plan of a list narrowed by the visibility engine (crm.access.engine) for someone
    who sees few of many rows finds them through index conditions that carry the visibility: the
    owner index with the viewer's owners in its Index Cond and/or `id = ANY(InitPlan)` (shares,
    parents), as a BitmapOr or key lookups; never a walk of the sort index with the visibility as a
    row Filter (the plan that takes seconds at a million rows), never a sequential scan of the
    listed table. Returns the plan."""
    from crm.access import registry

    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {model._meta.db_table}")
    plan = explain_under_rls(query, tenant=tenant)
    table = model._meta.db_table
    owner = registry.for_model(model).owner_column

    def carries(text: str) -> bool:
        return "InitPlan" in text or f"{owner} =" in text

    by_index = [node for node in _walk(plan) if node["Node Type"] in INDEX_NODES
                and carries(node.get("Index Cond", "")) and node.get("Relation Name", table) == table]
    walked = [node for node in _walk(plan) if node["Node Type"] in ("Index Scan", "Index Only Scan")
              and node.get("Relation Name") == table and carries(node.get("Filter", ""))]
    if not by_index or walked:
        raise AssertionError(f"{table} is not found through the visibility's indexes (owner index or "
                             f"id = ANY(InitPlan)); a walk filtered row by row. Plan:\n{render(plan)}")
    # the listed table is never read whole (a small side table such as access_share may be: its
    # statistics, left by other tests, decide, and reading it whole costs nothing)
    scans = [node for node in _walk(plan) if node["Node Type"] == "Seq Scan" and node.get("Relation Name") == table]
    if scans:
        raise AssertionError(f"Sequential scan of {table}. Plan:\n{render(plan)}")
    return plan
