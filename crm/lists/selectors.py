"""Reads of the list pages, saved views and exports: what a list request means, and its rows.

`resolve(actor, definition, params, ...)` turns URL parameters (or a saved view's, or an API
body's) into a `ListState`: the built-in view, the filter form (with clear errors for bad values),
the custom-field conditions, the columns the person may see, the sort. `rows_queryset(state)` is
then the one queryset a page, a count and an export read: the definition's base queryset (always
`Model.objects.for_tenant()` through `policy.visible(…, "read")`), every filter a comparison on a
stored column inside a (tenant_id, …) index or an `id IN (indexed subquery)`, and `.only()` the
columns shown.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from django import forms
from django.db.models import Q, QuerySet
from django.http import Http404, QueryDict
from django.utils import timezone

from crm.access import policy
from crm.customfields import display as custom_display
from crm.customfields import selectors as custom_selectors
from crm.customfields import services as customfields
from crm.customfields.models import FieldType
from crm.tenancy.models import Membership

from . import registry
from .models import RecentView, SavedView
from .registry import Column, ListDefinition

RECENT_LIMIT = 50
BUILTIN_VIEWS = ("all", "mine", "recent")
# parameters that are not filters
CONTROL_PARAMS = {"view", "sort", "after", "before", "last", "format"}


def builtin_views(definition: ListDefinition) -> tuple[str, ...]:
    return BUILTIN_VIEWS if definition.has_recent else tuple(v for v in BUILTIN_VIEWS if v != "recent")


def builtin_label(definition: ListDefinition, key: str) -> str:
    return {"all": "All visible", "mine": f"My {definition.label.lower()}", "recent": "Recently viewed"}[key]


# --- saved views ------------------------------------------------------------------------------


def views_for(*, actor: Membership, object_key: str) -> list[SavedView]:
    """The views the actor may pick: their own and the company's shared ones, by name."""
    qs = SavedView.objects.for_tenant(actor.tenant).filter(object=object_key)
    qs = qs.filter(Q(owner_id=actor.pk) | Q(shared=True))
    return list(qs.order_by("name", "id"))


def view_get(*, actor: Membership, pk, object_key: str | None = None) -> SavedView:
    """A view the actor may see (their own, or shared), else 404: another person's private view
    and another company's view look exactly like a view that does not exist."""
    try:
        pk = uuid.UUID(str(pk))
    except ValueError:
        raise Http404 from None
    qs = SavedView.objects.for_tenant(actor.tenant).filter(pk=pk).filter(Q(owner_id=actor.pk) | Q(shared=True))
    if object_key:
        qs = qs.filter(object=object_key)
    view = qs.first()
    if view is None:
        raise Http404
    return view


def can_change_view(actor: Membership, view: SavedView) -> bool:
    """Their own view, or anyone's for whoever customises the company's screens (admins)."""
    return view.owner_id == actor.pk or policy.can(actor, "customize")


# --- people -----------------------------------------------------------------------------------


def members(actor: Membership) -> dict:
    """Every membership of the company by id -> display name (one query; owners' names in lists
    and exports, and the owner filter's choices)."""
    rows = Membership.objects.for_tenant(actor.tenant).values_list("id", "user__full_name", "user__email", "is_active")
    return {pk: {"name": name or email, "active": active} for pk, name, email, active in rows}


def owner_choices(actor: Membership, people: dict) -> list[tuple[str, str]]:
    """Whose records the actor may filter by: everyone for whoever may hand records over (managers
    and admins by default), else their team."""
    if policy.can(actor, "transfer_records"):
        ids = [pk for pk, p in people.items() if p["active"]]
    else:
        ids = [pk for pk in policy.subordinate_ids(actor) if pk in people]
    return sorted(((str(pk), people[pk]["name"]) for pk in ids), key=lambda c: c[1].casefold())


PICK_LIMIT = 20


def member_matches(actor: Membership, text: str, *, limit: int = PICK_LIMIT) -> list[tuple[str, str, str]]:
    """(id, name, email) of the people whose records the actor may filter by or hand records to
    (owner_choices' rule: every active member for whoever may hand records over, else their team), whose
    name contains each word of `text` or whose email starts with it; by name, at most `limit`.
    What a people picker shows: a page never renders the whole team."""
    qs = Membership.objects.for_tenant(actor.tenant).filter(is_active=True)
    if not policy.can(actor, "transfer_records"):
        qs = qs.filter(id__in=policy.subordinate_ids(actor))
    text = (text or "").replace("\x00", "").strip()[:100]
    if text:
        # the user table has no row policy, so these conditions need no index of the tenant's;
        # the membership side stays an index range on tenant_id
        words = Q()
        for word in text.split()[:5]:
            words &= Q(user__full_name__icontains=word)
        qs = qs.filter(words | Q(user__email__istartswith=text))
    rows = qs.order_by("user__full_name", "user__email", "id").values_list("id", "user__full_name", "user__email")
    return [(str(pk), name or email, email) for pk, name, email in rows[:limit]]


def choice_matches(choices, text: str, *, limit: int = PICK_LIMIT) -> list[tuple[str, str, str]]:
    """(value, label, "") of the choices whose label contains `text` (case-blind) or whose value is
    it; labels that start with it first."""
    text = (text or "").strip().casefold()
    if not text:
        return [(str(v), str(label), "") for v, label in list(choices)[:limit]]
    starts, contains = [], []
    for value, label in choices:
        folded = str(label).casefold()
        if folded.startswith(text) or str(value).casefold() == text:
            starts.append((str(value), str(label), ""))
        elif text in folded:
            contains.append((str(value), str(label), ""))
        if len(starts) >= limit:
            break
    return (starts + contains)[:limit]


# --- the filter form --------------------------------------------------------------------------


YES_NO = [("", "Any"), ("yes", "Yes"), ("no", "No")]
_COUNTRIES: dict[str, list] = {}


def country_choices() -> list[tuple[str, str]]:
    """(ISO code, name) of every country, in the active language, made once per language (the
    names are lazy translations, slow to turn into text 250 at a time on every page)."""
    from django.utils import translation
    from django_countries import countries

    language = translation.get_language() or ""
    if language not in _COUNTRIES:
        _COUNTRIES[language] = [(code, str(name)) for code, name in countries]
    return _COUNTRIES[language]


def visible_filters(actor, definition: ListDefinition) -> list:
    """The built-in filters the actor may use: none on a field hidden from them (a filter on a
    hidden value is a way to learn it); their URL parameters are then simply not read."""
    return [f for f in definition.filters if registry.filter_visible(actor, definition, f)]


def visible_specs(actor, definition: ListDefinition, specs: list) -> list:
    """The custom fields the actor may see: the others have no column, no filter, no condition."""
    from crm.access.fields import custom_key

    gone = registry.hidden_fields(actor, definition)
    return [s for s in specs if custom_key(s.name) not in gone] if gone else list(specs)


def hidden_params(actor, definition: ListDefinition, params) -> list[str]:
    """The names among `params` that filter by a field hidden from the actor (a built-in filter's
    parameter, or `cf_<name>[__op]` of a hidden custom field). Pages ignore them; the API says so."""
    gone = registry.hidden_fields(actor, definition)
    if not gone:
        return []
    names = {}
    for f in definition.filters:
        for name in ((f"{f.key}__gte", f"{f.key}__lte") if f.kind == "range" else (f.key,)):
            names[name] = f.field_name
    out = []
    for key in params.keys():
        base = key.split("__")[0] if key.startswith("cf_") else None
        if (base is not None and base in gone) or (key in names and names[key] in gone):
            out.append(key)
    return out


def filter_form(definition: ListDefinition, actor: Membership, data, ctx: dict) -> forms.Form:
    """A Django form with one field per built-in filter (two for a date range), bound to `data`."""
    fields: dict[str, forms.Field] = {}
    # choices are set on the bound form's own fields below: Django deep-copies a form's fields
    # on every instantiation, which for hundreds of members or countries costs milliseconds
    late_choices: dict[str, list] = {}
    for f in visible_filters(actor, definition):
        if f.kind == "choice":
            choices = f.choices(actor, ctx) if callable(f.choices) else list(f.choices)
            fields[f.key] = forms.ChoiceField(label=f.label, required=False)
            late_choices[f.key] = [("", f"Any {f.label.lower()}"), *choices]
        elif f.kind == "member":
            fields[f.key] = forms.ChoiceField(label=f.label, required=False)
            late_choices[f.key] = [("", "Anyone"), *owner_choices(actor, ctx["members"])]
        elif f.kind == "bool":
            fields[f.key] = forms.ChoiceField(label=f.label, required=False, choices=YES_NO)
        elif f.kind == "range":
            fields[f"{f.key}__gte"] = forms.DateField(label=f"{f.label} from", required=False,
                                                      widget=forms.DateInput(attrs={"type": "date"}))
            fields[f"{f.key}__lte"] = forms.DateField(label=f"{f.label} to", required=False,
                                                      widget=forms.DateInput(attrs={"type": "date"}))
        else:  # text, tag
            # a placeholder may depend on what the actor sees ("Name or domain" / "Name")
            placeholder = f.placeholder(actor) if callable(f.placeholder) else f.placeholder
            fields[f.key] = forms.CharField(label=f.label, required=False, max_length=200,
                                            widget=forms.TextInput(attrs={"placeholder": placeholder}))
    form_class = type("ListFilterForm", (forms.Form,), fields)
    form = form_class(data, auto_id="filter_%s")
    for name, choices in late_choices.items():
        form.fields[name].choices = choices
    return form


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def date_range_q(field_name: str, gte: dt.date | None, lte: dt.date | None, *, is_datetime: bool = True) -> Q:
    """`field >= start of gte AND field < start of the day after lte` (whole days, local time)."""
    q = Q()
    if gte:
        q &= Q(**{f"{field_name}__gte": _day_start(gte) if is_datetime else gte})
    if lte:
        if is_datetime:
            q &= Q(**{f"{field_name}__lt": _day_start(lte + dt.timedelta(days=1))})
        else:
            q &= Q(**{f"{field_name}__lte": lte})
    return q


# --- the list state ---------------------------------------------------------------------------


@dataclass
class ListState:
    definition: ListDefinition
    actor: Membership
    builtin: str  # "all", "mine", "recent"
    view: SavedView | None
    form: forms.Form
    specs: list
    conditions: list
    errors: dict  # parameter -> message
    params: dict  # the filter parameters that apply, {name: [values]}, for links and saved views
    columns: list  # Column, in order, the ones the actor may see
    sort: registry.Sort
    ctx: dict = field(default_factory=dict)

    @property
    def filtered(self) -> bool:
        return bool(self.params) or self.builtin != "all"

    def query(self, **extra) -> dict:
        """The URL parameters of this state (plus `extra`), for links that keep it."""
        query = {k: list(v) for k, v in self.params.items()}
        if self.view is not None:
            query["view"] = [str(self.view.pk)]
        elif self.builtin != "all":
            query["view"] = [self.builtin]
        query["sort"] = [self.sort.key]
        for k, v in extra.items():
            if v is None:
                query.pop(k, None)
            else:
                query[k] = [str(v)]
        return query


def _as_querydict(params) -> QueryDict:
    if isinstance(params, QueryDict):
        return params
    qd = QueryDict(mutable=True)
    for key, value in (params or {}).items():
        for v in value if isinstance(value, (list, tuple)) else [value]:
            if v is not None:
                qd.appendlist(key, str(v))
    return qd


def custom_columns(specs: list) -> list[Column]:
    def value_of(spec):
        def value(obj, ctx):
            raw = (obj.custom or {}).get(spec.name)
            if raw is None:
                return None
            if spec.type in (FieldType.NUMBER, FieldType.CURRENCY) and isinstance(raw, (int, float)):
                return raw  # numbers stay numbers in exports
            return custom_display.cell(spec, obj.custom)

        return value

    def html_of(spec):
        from django.utils.html import format_html

        def html(obj, ctx):
            text = custom_display.cell(spec, obj.custom)
            return format_html("{}", text) if text else format_html('<span class="muted">—</span>')

        return html

    return [Column(key=f"cf_{s.name}", label=s.label, value=value_of(s), html=html_of(s), fields=("custom",),
                   numeric=s.type in (FieldType.NUMBER, FieldType.CURRENCY), field_name=f"cf_{s.name}",
                   custom=True) for s in specs]


def all_columns(definition: ListDefinition, specs: list) -> list[Column]:
    return [*definition.columns, *custom_columns(specs)]


def choose_columns(actor, definition: ListDefinition, specs: list, keys) -> list[Column]:
    """The columns named by `keys` (in that order) that exist and the actor may see; the name
    column (the first registered) is always there, first, so every row can be opened."""
    available = {c.key: c for c in all_columns(definition, specs) if registry.column_visible(actor, definition, c)}
    keys = [k for k in (keys or []) if k in available] or [k for k in definition.default_columns() if k in available]
    first = definition.columns[0].key
    keys = [first, *[k for k in dict.fromkeys(keys) if k != first]]
    return [available[k] for k in keys if k in available]


def resolve(actor: Membership, definition: ListDefinition, params, *, session_columns=None, view_columns=None,
            columns=None, specs=None, people=None) -> ListState:
    """What a list request means. `params`: URL parameters (a QueryDict or a dict of lists).
    `columns`: an explicit choice (API, export) that wins over the view's and the session's."""
    params = _as_querydict(params)
    view_param = (params.get("view") or "").strip()
    view, builtin, view_error = None, "all", None
    if view_param in builtin_views(definition):
        builtin = view_param
    elif view_param:
        try:
            view = view_get(actor=actor, pk=view_param, object_key=definition.key)
        except Http404:
            # a deleted view, or someone else's private one (same answer: we do not confirm it
            # exists): the list without it, and say so
            view = None
            view_error = "This view does not exist (any more), or it is not shared with you."
    if view is not None:
        if not any(k not in CONTROL_PARAMS for k in params.keys()):
            # `?view=<id>` alone: the view's own filters (links from the picker carry them too)
            merged = _as_querydict(view.params).copy()
            for k in params.keys():
                merged.setlist(k, params.getlist(k))
            params = merged
    specs = specs if specs is not None else (
        customfields.specs(actor.tenant_id, definition.custom_object) if definition.custom_object else [])
    # hidden custom fields: no column, no filter input, and their cf_ parameters are ignored
    specs = visible_specs(actor, definition, specs)
    people = people if people is not None else members(actor)
    # names by the id as text: export rows carry ids as text (crm/lists/exports.py), pages as UUIDs
    ctx = {"members": people, "member_names": {str(pk): p["name"] for pk, p in people.items()}, "actor": actor}
    form = filter_form(definition, actor, params, ctx)
    valid = form.is_valid()
    errors = {k: " ".join(v) for k, v in form.errors.items()}
    conditions, custom_errors = custom_selectors.parse(specs, params) if specs else ([], {})
    errors.update(custom_errors)
    if view_error:
        errors["view"] = view_error
    clean = form.cleaned_data if valid else {k: v for k, v in getattr(form, "cleaned_data", {}).items()
                                             if k not in form.errors}
    kept: dict[str, list[str]] = {}
    for name in form.fields:
        if name in errors:
            continue
        values = [v for v in params.getlist(name) if v not in ("", None)]
        if values and clean.get(name) not in (None, ""):
            kept[name] = values[:1]
    for condition in conditions:
        kept[condition.param] = [v for v in params.getlist(condition.param) if v]
    # a sort on a hidden field is not offered and not applied: the first sort the actor may use
    sort = registry.sort_for(actor, definition, params.get("sort") or (view.sort if view else ""))
    # an explicit choice (API, export job) > the person's own arrangement of this view > the
    # view's columns > the person's choice for the list > the defaults
    if columns is not None:
        chosen = columns
    elif view is not None:
        chosen = view_columns or view.columns or session_columns
    else:
        chosen = session_columns
    return ListState(definition=definition, actor=actor, builtin=builtin, view=view, form=form, specs=specs,
                     conditions=conditions, errors=errors, params=kept,
                     columns=choose_columns(actor, definition, specs, chosen), sort=sort, ctx=ctx)


def rows_queryset(state: ListState) -> QuerySet:
    """The visible, filtered records of the state, with only the shown columns' fields loaded."""
    definition, actor = state.definition, state.actor
    qs = definition.queryset(actor)
    clean = state.form.cleaned_data if hasattr(state.form, "cleaned_data") else {}
    for f in visible_filters(actor, definition):
        if f.kind == "range":
            gte, lte = clean.get(f"{f.key}__gte"), clean.get(f"{f.key}__lte")
            if (gte or lte) and f"{f.key}__gte" not in state.errors and f"{f.key}__lte" not in state.errors:
                qs = f.apply(qs, (gte, lte), actor)
            continue
        value = clean.get(f.key)
        if value in (None, "") or f.key in state.errors:
            continue
        qs = f.apply(qs, value, actor)
    if state.conditions:
        qs = custom_selectors.apply(qs, actor.tenant_id, state.conditions)
    if state.builtin == "mine":
        qs = qs.filter(**{f"{definition.owner_field}_id": actor.pk})
    elif state.builtin == "recent":
        recent = RecentView.objects.filter(tenant_id=actor.tenant_id, membership_id=actor.pk, object=definition.key) \
            .order_by("-viewed_at").values("record_id")[:RECENT_LIMIT]
        qs = qs.filter(id__in=recent)
    fields = {"id", "tenant_id", *state.sort.fields}
    for column in state.columns:
        fields.update(column.fields)
    return qs.only(*fields)


def prepare(state: ListState, rows: list) -> dict:
    """Run each shown column's batch look-up once for these rows (owners, accounts, tags…)."""
    ctx = state.ctx
    done = set()
    for column in state.columns:
        if column.prepare is not None and column.prepare not in done:
            column.prepare(rows, ctx)
            done.add(column.prepare)
    return ctx


def mergeable(*, actor: Membership, definition: ListDefinition, ids) -> tuple[list, int]:
    """(the ids of the selected records the actor may see and edit, in the order given; how many
    of the selection are not among them): what "Merge selected" may take to the merge page."""
    wanted = []
    for value in ids:
        try:
            wanted.append(uuid.UUID(str(value)))
        except ValueError:
            continue
    rows = {r.pk: r for r in policy.visible(definition.model.objects.for_tenant(actor.tenant), actor, "edit")
            .filter(id__in=wanted).only("id", "tenant_id", f"{definition.owner_field}_id")}
    ok = [pk for pk in dict.fromkeys(wanted) if pk in rows and policy.can(actor, "edit", rows[pk])]
    return ok, len(ids) - len(ok)
