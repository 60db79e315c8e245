"""Global search: candidates from each type's reviewed search function, rows through visibility.

Per type, two queries: the function's (id, score) candidates of the tenant (at most CANDIDATES),
then those rows through `crm.access.policy.visible()` under RLS, kept in the function's order.
The actor's subordinates are read once (cached on the membership). So a search runs a fixed
number of queries however many hits there are.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

from crm.access.policy import visible
from crm.tenancy.models import Membership

from .registry import SearchType, search_types

MIN_LENGTH = 2
MAX_LENGTH = 200
CANDIDATES = 200  # ids asked of each function; visibility then keeps the actor's


@dataclass
class Hit:
    id: str
    title: str
    subtitle: str
    url: str | None
    score: float
    obj: object


@dataclass
class Group:
    key: str
    label: str
    icon: str
    hits: list[Hit]
    more: bool  # more visible hits than shown


def clean_query(q: str | None) -> str:
    return " ".join((q or "").replace("\x00", "").split())[:MAX_LENGTH]


def candidates(search_type: SearchType, q: str, limit: int = CANDIDATES) -> list[tuple]:
    """(id, score) pairs of the current tenant, best first. Empty without a tenant context."""
    with connection.cursor() as cursor:
        # the name comes from the registry (an identifier, checked by register()), never from input
        cursor.execute(f"SELECT id, score FROM {search_type.function}(%s, %s)", [q, limit])
        return cursor.fetchall()


def search_type_hits(actor: Membership, search_type: SearchType, q: str, limit: int) -> tuple[list[Hit], bool]:
    found = candidates(search_type, q)
    if not found:
        return [], False
    scores = {pk: score for pk, score in found}
    qs = visible(search_type.model.objects.all(), actor, owner_field=search_type.owner_field)
    if search_type.fields:
        qs = qs.only(*search_type.fields)
    rows = sorted(qs.filter(pk__in=list(scores)), key=lambda o: (-scores[o.pk], search_type.title(o).casefold()))
    hits = [
        Hit(id=str(o.pk), title=search_type.title(o), subtitle=search_type.subtitle(o),
            url=search_type.url_for(o), score=scores[o.pk], obj=o)
        for o in rows[:limit]
    ]
    return hits, len(rows) > limit


def global_search(actor: Membership | None, q: str | None, per_type: int = 5, types=None) -> list[Group]:
    """The actor's hits for `q`, grouped by type in registry order (groups without hits omitted).

    Nothing for a query shorter than MIN_LENGTH, an inactive or missing actor.
    """
    q = clean_query(q)
    if actor is None or not actor.is_active or len(q) < MIN_LENGTH:
        return []
    groups = []
    for search_type in search_types():
        if types and search_type.key not in types:
            continue
        hits, more = search_type_hits(actor, search_type, q, per_type)
        if hits:
            groups.append(Group(search_type.key, search_type.label, search_type.icon, hits, more))
    return groups
