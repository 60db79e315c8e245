"""The searchable record types. Apps register theirs (opportunities, tickets…) without editing this app:

    from crm.search.registry import SearchType, register

    register(SearchType(
        key="opportunities", label="Opportunities", icon="target", order=30,
        function="crm_search_sales_opportunity",        # its migration creates the reviewed function
        model=Opportunity, fields=("id", "owner_id", "name", "stage"),
        url_names=("opportunities:detail",),             # reversed with the hit's pk, if it exists
        title=lambda o: o.name, subtitle=lambda o: o.get_stage_display(),
    ))

The function follows ARCHITECTURE.md "Speed under RLS", rule 5 (SECURITY DEFINER, owned by
crm_search, tenant from the setting, ids and scores only) and is listed in
tests/isolation/test_rls_catalog.py. Visibility is applied by the caller (selectors.py) through
`crm.access.policy.visible()`, with `owner_field`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class SearchType:
    key: str  # the group's key in results and in the API ("accounts")
    label: str  # the group's heading ("Accounts")
    icon: str  # a name from templates/components/icon.html
    function: str  # crm_search_<table>(query text, max_rows integer[, hide text[]]) -> (id uuid, score real)
    model: type
    title: Callable  # (obj) -> str
    subtitle: Callable = lambda obj: ""  # (obj) -> str: a second line; only fields the actor may see
    fields: Sequence[str] = ()  # columns to load (.only()); empty: all
    url_names: Sequence[str] = ()  # URL names tried in turn with pk=<id>; the first that exists wins
    owner_field: str = "owner"  # passed to visible()
    order: int = 100
    serialize: Callable | None = None  # (obj) -> dict for the API; default: id, title, subtitle, url
    # field-level security (crm.access.fields): the object's key in crm.access.registry, and the
    # fields the function matches on besides the name. A searcher's hidden fields among `matches`
    # are passed to the function as its third argument `hide` (it then skips those branches), and
    # every hidden field among `fields` is blanked on the loaded rows before title/subtitle/serialize.
    secured: str = ""
    matches: Sequence[str] = ()
    extra: dict = field(default_factory=dict, compare=False)

    def url_for(self, obj) -> str | None:
        for name in self.url_names:
            try:
                return reverse(name, kwargs={"pk": obj.pk})
            except NoReverseMatch:
                continue
        return None


_REGISTRY: dict[str, SearchType] = {}


def register(search_type: SearchType) -> None:
    """Add (or replace, by key) a searchable type. Idempotent."""
    if not search_type.function.isidentifier():
        raise ValueError(f"not a function name: {search_type.function!r}")
    _REGISTRY[search_type.key] = search_type


def unregister(key: str) -> None:
    _REGISTRY.pop(key, None)


def search_types() -> list[SearchType]:
    return sorted(_REGISTRY.values(), key=lambda t: (t.order, t.key))
