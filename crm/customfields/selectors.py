"""Filtering records by custom values, indexed under row-level security (see models.py).

Query strings and API filters name a custom field as `cf_<name>` with an optional operator:

    cf_region=EMEA              picklist / multi-picklist / checkbox: equals (any of, when repeated)
    cf_code=AB                  text, long text, URL, email: starts with (case-blind)
    cf_budget__gte=1000         number, currency, date: at least / at most (…__lte), equals
    cf_renewal__empty=yes       set or not set (any type)

`parse(specs, params)` turns them into `Condition`s (with errors by parameter for bad values) and
`condition_q(tenant_id, condition)` into `Q(id__in=<indexed subquery>)`.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from crm.tenancy.search import normalise_text, prefix_q

from . import values
from .models import CustomValue, FieldType

PREFIX = "cf_"
TEXTUAL = (FieldType.TEXT, FieldType.LONG_TEXT, FieldType.URL, FieldType.EMAIL)
CHOICES = (FieldType.PICKLIST, FieldType.MULTI_PICKLIST)
RANGED = (FieldType.NUMBER, FieldType.CURRENCY, FieldType.DATE)
OPERATORS = {"": "eq", "gte": "gte", "lte": "lte", "empty": "empty"}


@dataclass(frozen=True)
class Condition:
    spec: values.Spec
    op: str  # eq, prefix, gte, lte, empty, in
    value: object  # coerced; a tuple for "in"; bool for "empty"

    @property
    def param(self) -> str:
        suffix = {"gte": "__gte", "lte": "__lte", "empty": "__empty"}.get(self.op, "")
        return f"{PREFIX}{self.spec.name}{suffix}"


def parse(specs: list[values.Spec], params) -> tuple[list[Condition], dict[str, str]]:
    """Conditions from a QueryDict/dict of parameters (others are ignored), and errors by parameter."""
    by_name = {s.name: s for s in specs}
    conditions, errors = [], {}
    getlist = params.getlist if hasattr(params, "getlist") else (lambda k: [params[k]] if not isinstance(params[k], list) else params[k])
    for key in list(params.keys()):
        if not key.startswith(PREFIX):
            continue
        name, _, op = key[len(PREFIX):].partition("__")
        spec = by_name.get(name)
        if spec is None or op not in OPERATORS:
            continue  # an archived field in an old saved link: ignored, not an error
        raw_values = [v for v in getlist(key) if not values.is_empty(v)]
        if not raw_values:
            continue
        try:
            conditions.append(_condition(spec, OPERATORS[op], raw_values))
        except ValueError as exc:
            errors[key] = str(exc)
    return conditions, errors


def _condition(spec: values.Spec, op: str, raw_values: list) -> Condition:
    if op == "empty":
        return Condition(spec, "empty", values._flag(raw_values[0]))
    if op in ("gte", "lte"):
        if spec.type not in RANGED:
            raise ValueError(f"{spec.label} cannot be compared as a range.")
        return Condition(spec, op, values.coerce(spec, raw_values[0]))
    if spec.type in TEXTUAL:
        return Condition(spec, "prefix", str(raw_values[0]).strip())
    if spec.type in CHOICES:
        single = values.Spec(spec.id, spec.name, spec.label, FieldType.PICKLIST, False, None, spec.options)
        return Condition(spec, "in", tuple(values.coerce(single, v) for v in raw_values))
    return Condition(spec, "eq", values.coerce(spec, raw_values[0]))


def _column(spec: values.Spec) -> str:
    if spec.type in RANGED:
        return "date" if spec.type == FieldType.DATE else "number"
    if spec.type == FieldType.CHECKBOX:
        return "flag"
    return "text_key"


def condition_q(tenant_id, condition: Condition, *, id_field: str = "id") -> Q:
    spec, op, value = condition.spec, condition.op, condition.value
    base = CustomValue.objects.filter(tenant_id=tenant_id, field_id=spec.id)
    if op == "empty":
        present = base.values("record_id")
        return ~Q(**{f"{id_field}__in": present}) if value else Q(**{f"{id_field}__in": present})
    column = _column(spec)
    if op == "prefix":
        sub = base.filter(prefix_q("text_key", value))
    elif op == "in":
        sub = base.filter(text_key__in=[normalise_text(v) for v in value])
    else:
        row = values.index_rows(spec, value)[0]
        lookup = {"eq": "", "gte": "__gte", "lte": "__lte"}[op]
        sub = base.filter(**{f"{column}{lookup}": row[column]})
    return Q(**{f"{id_field}__in": sub.values("record_id")})


def apply(qs, tenant_id, conditions: list[Condition]):
    for condition in conditions:
        qs = qs.filter(condition_q(tenant_id, condition))
    return qs
