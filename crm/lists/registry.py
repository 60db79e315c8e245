"""The list registry: what every list page, saved view, bulk action and export knows about an object.

One `ListDefinition` per object, registered by key ("accounts", "contacts", "activities"; later
apps register theirs from their AppConfig.ready() or, as here, from crm/lists/apps.py):

    register(ListDefinition(key="accounts", label="Accounts", singular="account", model=Account,
                            queryset=..., columns=[...], filters=[...], sorts=[...], ...))

- **Columns** render a cell twice from the same loaded row: `value(obj, ctx)` is the plain value
  (str, int, float, date, datetime or None) that exports write, `html(obj, ctx)` the page's cell
  (escaped; defaults to the value as text). `fields` are the model fields the column needs
  (`.only()`), so a list or an export loads exactly the chosen columns. `prepare(rows, ctx)` runs
  once per page or export batch (look-ups by id: owners, accounts, tags), never once per row: a
  page costs the same number of queries for 5 rows as for 50.
- **Sorts** name the keyset order (stored columns + id, one direction) and the index it reads.
  Custom fields have no sort: ordering a list by a value stored in CustomValue would need one
  (tenant, field, value, record) walk joined back per row, or a per-field expression index on the
  record's jsonb, which is not leakproof under RLS. Filters on them are indexed subqueries.
- **Filters** are built-in (each a comparison on a stored column inside a (tenant_id, …) index,
  or `id IN (indexed subquery)`) plus every custom field of the object (crm.customfields).
- **Field security** (crm.access.fields): a column, filter or sort names the securable field it
  shows or reads in `field_name` (custom fields as `cf_<name>`; None: derived from nothing
  securable, always there). `column_visible` / `filter_visible` / `sort_visible` answer from
  `fields.hidden(actor, key)`: a hidden field's column is not offered, not shown and not exported,
  its filter is not in the bar and its URL or saved-view parameter is ignored (filtering by a
  hidden value is a way to learn it), its sort falls back to the first visible one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils.html import format_html

ValueFn = Callable[[object, dict], object]


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    value: ValueFn
    fields: tuple = ()
    html: Callable[[object, dict], str] | None = None
    sort: str | None = None  # a key of the definition's sorts
    default: bool = False
    numeric: bool = False
    # the model field this column shows, for field-level security (None: derived, always shown)
    field_name: str | None = None
    prepare: Callable[[list, dict], None] | None = None
    custom: bool = False  # a custom field's column (no sort, say so in the column menu)

    def render(self, obj, ctx) -> str:
        if self.html is not None:
            return self.html(obj, ctx)
        value = self.value(obj, ctx)
        if value is None or value == "":
            return format_html('<span class="muted">—</span>')
        return format_html("{}", _text(value))


@dataclass(frozen=True)
class Sort:
    key: str
    label: str
    fields: tuple  # e.g. ("name_key", "id"): stored columns, the last one makes the order total
    descending: bool = False
    index: str = ""  # the index that answers it (for tests and documentation)
    # the securable field it orders by (None: nothing securable, e.g. name, dates)
    field_name: str | None = None


@dataclass(frozen=True)
class Filter:
    """A built-in filter. `kind` decides the form field and the URL parameters:

    choice   `key=value` (one of `choices`)          member   `key=<membership id>`
    text     `key=text` (prefix or exact, by apply)    bool     `key=yes|no`
    range    `key__gte=…` / `key__lte=…` (dates)        tag      `key=<tag name>`
    """

    key: str
    label: str
    kind: str
    apply: Callable  # (qs, value, actor) -> qs ; for ranges value is (gte, lte)
    choices: Callable | tuple = ()  # (actor, ctx) -> [(value, label)] or a tuple
    placeholder: str | Callable = ""  # or (actor) -> str
    index: str = ""  # the index the filter is answered by (tests assert it under RLS)
    # the securable field it compares (None: nothing securable); hidden -> no filter at all
    field_name: str | None = None


@dataclass(frozen=True)
class BulkAction:
    key: str  # "owner", "tag", "delete"
    label: str
    allowed: Callable  # (actor) -> bool
    # the securable field the action sets ("tags"): not offered, and refused, when the field is
    # hidden or read only for the actor
    field_name: str | None = None


@dataclass
class ListDefinition:
    key: str
    label: str  # "Accounts"
    singular: str  # "account"
    model: type
    queryset: Callable  # (actor) -> QuerySet through policy.visible(…, "read") and for_tenant
    columns: list
    filters: list
    sorts: list
    detail_url: Callable  # (obj) -> url
    list_url_name: str
    title_field: str = "name"  # what the delete confirmation names
    title: Callable | None = None  # (obj) -> str
    bulk_actions: list = field(default_factory=list)
    owner_field: str = "owner"
    # (actor, ids, owner) -> changed; None: the generic owner change in crm.lists.services
    change_owner: Callable | None = None
    add_tag: Callable | None = None  # (actor, ids, name) -> changed
    # (tenant_id, ids) -> None: work to do before rows are deleted (e.g. the CustomValue copies)
    before_delete: Callable | None = None
    # (state) -> a queryset with exactly the list's number of rows that is cheaper to count, or None
    # (an admin's accounts with one tag: the tag's link rows, without a probe per account)
    count_rows: Callable | None = None
    custom_object: str | None = None  # crm.customfields object key, if it has custom fields
    # records have a page that notes visits (crm.lists.services.remember): "Recently viewed" exists
    has_recent: bool = True
    subtitle: str = ""
    empty_text: str = ""
    new_url_name: str = ""
    new_label: str = ""

    def sort(self, key: str) -> Sort:
        return next((s for s in self.sorts if s.key == key), self.sorts[0])

    def column_map(self) -> dict:
        return {c.key: c for c in self.columns}

    def default_columns(self) -> list[str]:
        return [c.key for c in self.columns if c.default]

    def title_of(self, obj) -> str:
        return self.title(obj) if self.title else str(getattr(obj, self.title_field, obj))


_LISTS: dict[str, ListDefinition] = {}


def register(definition: ListDefinition) -> ListDefinition:
    _LISTS[definition.key] = definition
    return definition


def get(key: str) -> ListDefinition:
    """The registered list, or KeyError."""
    return _LISTS[key]


def definitions() -> list[ListDefinition]:
    return list(_LISTS.values())


def hidden_fields(actor, definition: ListDefinition) -> frozenset:
    """The names of the list object's fields the actor may not see (crm.access.fields; custom
    ones as cf_<name>, derived ones included)."""
    from crm.access import fields

    return fields.hidden(actor, definition.key)


def _name_visible(actor, definition: ListDefinition, name: str | None) -> bool:
    return name is None or name not in hidden_fields(actor, definition)


def column_visible(actor, definition: ListDefinition, column: Column) -> bool:
    """May the actor see this column (page, column menu, saved view, export)?"""
    return _name_visible(actor, definition, column.field_name)


def filter_visible(actor, definition: ListDefinition, list_filter: Filter) -> bool:
    """May the actor filter by this (a filter on a hidden field would reveal its values)?"""
    return _name_visible(actor, definition, list_filter.field_name)


def sort_visible(actor, definition: ListDefinition, sort: Sort) -> bool:
    return _name_visible(actor, definition, sort.field_name)


def action_blocked(actor, definition: ListDefinition, action: BulkAction) -> str:
    """Why the actor may not run this bulk action on the field it sets ("" when they may)."""
    from crm.access import fields

    if action.field_name is None or action.field_name not in fields.unwritable(actor, definition.key):
        return ""
    label = fields.label(definition.key, action.field_name, actor.tenant_id)
    verb = "are" if label.endswith("s") else "is"
    return f"{label} {verb} read only for you, so “{action.label}” is not available."


def actions_for(actor, definition: ListDefinition) -> list:
    """The bulk actions offered to the actor: allowed to them, and not setting a field they may
    not change."""
    return [a for a in definition.bulk_actions if a.allowed(actor) and not action_blocked(actor, definition, a)]


def sort_for(actor, definition: ListDefinition, key: str) -> Sort:
    """The sort named `key` if the actor may use it, else the first one they may."""
    allowed = [s for s in definition.sorts if sort_visible(actor, definition, s)] or definition.sorts[:1]
    return next((s for s in allowed if s.key == key), allowed[0])


def _text(value) -> str:
    import datetime as dt

    if isinstance(value, dt.datetime):
        from django.utils import timezone

        return timezone.localtime(value).strftime("%-d %b %Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%-d %b %Y")
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


text = _text


def choice(name: str, enum) -> Callable[[object, dict], str]:
    """A column value: the label of a choice field (a dict look-up; works on model rows and on the
    plain rows exports read)."""
    labels = dict(enum.choices)

    def value(obj, ctx):
        raw = getattr(obj, name)
        return labels.get(raw, raw)

    return value


def code(name: str) -> Callable[[object, dict], str]:
    """A column value: a country field's ISO code (a Country on a model row, a str on an export row)."""
    def value(obj, ctx):
        raw = getattr(obj, name)
        return getattr(raw, "code", raw) or ""

    return value
