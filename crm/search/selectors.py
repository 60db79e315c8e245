"""Global search: candidates from each type's reviewed search function, rows through visibility.

Per type, two queries: the function's (id, score) candidates of the tenant (at most CANDIDATES),
then those rows through `crm.access.policy.visible()` under RLS, kept in the function's order.
The actor's subordinates are read once (cached on the membership). So a search runs a fixed
number of queries however many hits there are.

Field-level security: a field hidden from the actor neither matches nor shows. Its matcher is
switched off inside the function (`hide`, crm/search/migrations/0004: an exact email must not be
an oracle for a hidden address) and its value is blanked on the loaded rows before the title,
subtitle or API representation are built from them.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

from crm.access import fields as fls
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


def candidates(search_type: SearchType, q: str, limit: int = CANDIDATES, hide=()) -> list[tuple]:
    """(id, score) pairs of the current tenant, best first. Empty without a tenant context.
    `hide`: fields among the type's `matches` the function must not match on."""
    with connection.cursor() as cursor:
        # the name comes from the registry (an identifier, checked by register()), never from input
        if search_type.matches:
            cursor.execute(f"SELECT id, score FROM {search_type.function}(%s, %s, %s::text[])",
                           [q, limit, sorted(hide)])
        else:
            cursor.execute(f"SELECT id, score FROM {search_type.function}(%s, %s)", [q, limit])
        return cursor.fetchall()


def hidden_fields(actor: Membership, search_type: SearchType) -> frozenset:
    return fls.hidden(actor, search_type.secured) if search_type.secured else frozenset()


def _blank(obj, names) -> None:
    """Blank the hidden fields of a loaded row (in memory only; search never saves)."""
    for name in names:
        try:
            field = obj._meta.get_field(name)
        except Exception:  # a derived name that is not a column (a contact's `emails`)
            continue
        if not getattr(field, "concrete", False) or field.many_to_many or field.is_relation:
            continue
        setattr(obj, field.attname, "" if field.get_internal_type() in ("CharField", "TextField", "EmailField")
                else None)


def search_type_hits(actor: Membership, search_type: SearchType, q: str, limit: int) -> tuple[list[Hit], bool]:
    gone = hidden_fields(actor, search_type)
    found = candidates(search_type, q, hide=gone & set(search_type.matches))
    if not found:
        return [], False
    scores = {pk: score for pk, score in found}
    qs = visible(search_type.model.objects.all(), actor, owner_field=search_type.owner_field)
    if search_type.fields:
        qs = qs.only(*search_type.fields)
    rows = list(qs.filter(pk__in=list(scores)))
    if gone:
        for o in rows:
            _blank(o, gone)
    rows.sort(key=lambda o: (-scores[o.pk], search_type.title(o).casefold()))
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
