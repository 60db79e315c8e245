"""Keyset pages and honest counts for every registered list.

Pages: `ORDER BY <sort fields> [DESC], id` with `(fields) > (cursor)` (crm.tenancy.search
keyset_after): one index range at any depth. "Last page" reads the same index backwards from the
end (`?last=1`), so the millionth row costs what the first does; OFFSET is never used.

Counts: exact up to COUNT_CAP rows (`count(*)` over `LIMIT cap + 1`, which stops early); beyond
it the planner's estimate for the query (EXPLAIN, no execution), shown as "about 1.2 million
(estimated)". Counting a million visible rows exactly costs ~100 ms under RLS and tells a person
nothing more.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

from django.db import connection
from django.db.models import QuerySet

from crm.tenancy.search import keyset_after

from .registry import Sort

PAGE_SIZE = 50
COUNT_CAP = 10_000


@dataclass
class Page:
    rows: list
    next_cursor: str | None
    prev_cursor: str | None
    first: bool  # this is the first page
    last: bool  # this is the last page


def encode_cursor(values) -> str:
    raw = json.dumps([v.isoformat() if hasattr(v, "isoformat") else str(v) for v in values])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(model, sort: Sort, cursor: str) -> list | None:
    """The cursor's values typed by the sort's fields, or None when it is not a valid cursor."""
    if not cursor:
        return None
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode())
        if not isinstance(values, list) or len(values) != len(sort.fields):
            return None
        typed = []
        for name, value in zip(sort.fields, values, strict=True):
            if value in (None, "None"):
                return None
            typed.append(model._meta.get_field(name).to_python(value))
        return typed
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, json.JSONDecodeError, Exception):
        return None


# A queryset may carry, under `keyset_<field>` (an annotation), a copy of each sort field read from
# a joined index whose order is the better plan: e.g. the accounts of one tag walked through the
# tag's links in (account_name_key, account_id) order (accounts.selectors). The page then orders
# and compares by the copies; cursors still hold the rows' own values, which are equal.
ALIAS_PREFIX = "keyset_"


def sort_alias(field: str) -> str:
    return f"{ALIAS_PREFIX}{field}"


def order_fields(qs: QuerySet, sort: Sort) -> list[str]:
    """The sort's fields, or their copies when the queryset carries one for every field."""
    aliases = [sort_alias(f) for f in sort.fields]
    if all(a in qs.query.annotations for a in aliases):
        return aliases
    return list(sort.fields)


def keyset_page(qs: QuerySet, sort: Sort, *, after: str = "", before: str = "", last: bool = False,
                size: int = PAGE_SIZE) -> Page:
    keys = order_fields(qs, sort)
    fields = list(sort.fields)
    order = [f"-{f}" if sort.descending else f for f in keys]
    reverse = [f[1:] if f.startswith("-") else f"-{f}" for f in order]
    position = decode_cursor(qs.model, sort, before or after)
    backwards = (bool(before) and position is not None) or (last and position is None)
    if position is not None:
        qs = qs.filter(keyset_after(keys, position, descending=sort.descending != backwards))
    rows = list(qs.order_by(*(reverse if backwards else order))[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()
    has_next = more if not backwards else (position is not None)
    has_prev = (position is not None) if not backwards else more

    def cursor_of(row):
        return encode_cursor([getattr(row, f) for f in fields])

    return Page(
        rows=rows,
        next_cursor=cursor_of(rows[-1]) if rows and has_next else None,
        prev_cursor=cursor_of(rows[0]) if rows and has_prev else None,
        first=not has_prev,
        last=not has_next,
    )


@dataclass(frozen=True)
class Count:
    value: int
    estimated: bool

    def __str__(self) -> str:
        if not self.estimated:
            return f"{self.value:,}"
        return f"about {_round(self.value)}"

    @property
    def plural(self) -> bool:
        return self.estimated or self.value != 1


def _round(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f} million"
    if n >= 10_000:
        return f"{round(n, -3):,}"
    return f"{n:,}"


def count(qs: QuerySet, cap: int | None = None, *, estimate_from: QuerySet | None = None) -> Count:
    """Exact up to the cap (read at most cap + 1 rows), else the planner's estimate.

    `estimate_from`: the list's own query, when `qs` is a cheaper one with the same rows to count
    (ListDefinition.count_rows): the estimate is the list's (its planner sees the real filters)."""
    cap = COUNT_CAP if cap is None else cap
    n = qs.order_by()[: cap + 1].count()
    if n <= cap:
        return Count(n, False)
    return Count(max(estimate(estimate_from if estimate_from is not None else qs), cap + 1), True)


def estimate(qs: QuerySet) -> int:
    sql, params = qs.order_by().values("id").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        raw = cursor.fetchone()[0]
    plan = json.loads(raw) if isinstance(raw, str) else raw
    return int(plan[0]["Plan"].get("Plan Rows", 0))
