"""Criteria of criteria-based sharing rules: [{"field", "op", "value"}, …], all must hold.

One definition serves three uses: validation of what an admin enters (clear errors), the SQL of
the rule's share rows (`to_q`, through the ORM), and the plain-Python check the differential test's
reference implementation uses (`matches`).
"""

from __future__ import annotations

import datetime as dt
import decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

OPS = {
    "eq": "equals",
    "ne": "does not equal",
    "in": "is one of",
    "gt": "greater than",
    "gte": "at least",
    "lt": "less than",
    "lte": "at most",
    "empty": "is empty",
    "not_empty": "is not empty",
}
ORDERED = {"gt", "gte", "lt", "lte"}
SUPPORTED = (models.CharField, models.TextField, models.IntegerField, models.BigIntegerField,
             models.SmallIntegerField, models.PositiveIntegerField, models.PositiveSmallIntegerField,
             models.BooleanField, models.DateField, models.DecimalField, models.ForeignKey)
NOT_OFFERED = {"id", "tenant", "created_at", "updated_at", "custom", "created_by", "modified_by"}


def fields_of(entry) -> dict[str, models.Field]:
    """The fields a rule may test: the object's plain stored fields (not generated keys)."""
    out = {}
    for f in entry.model._meta.concrete_fields:
        if f.name in NOT_OFFERED or getattr(f, "generated", False) or f.name.endswith("_key"):
            continue
        if isinstance(f, SUPPORTED):
            out[f.name] = f
    return out


def _coerce(f: models.Field, value):
    if value in (None, ""):
        raise ValidationError("Give a value.")
    if f.choices and not isinstance(f, models.ForeignKey):
        allowed = {str(k) for k, _ in f.flatchoices}
        if str(value) not in allowed:
            raise ValidationError(f"“{value}” is not one of {', '.join(sorted(allowed))}.")
        return str(value)
    try:
        if isinstance(f, models.BooleanField):
            if isinstance(value, bool):
                return value
            if str(value).lower() in ("true", "yes", "1"):
                return True
            if str(value).lower() in ("false", "no", "0"):
                return False
            raise ValueError
        if isinstance(f, models.DateField):
            return dt.date.fromisoformat(str(value)).isoformat()
        if isinstance(f, models.DecimalField):
            return str(decimal.Decimal(str(value)))
        if isinstance(f, (models.IntegerField,)):
            return int(value)
        if isinstance(f, models.ForeignKey):
            import uuid

            return str(uuid.UUID(str(value)))
    except (ValueError, TypeError, decimal.InvalidOperation):
        raise ValidationError(f"“{value}” is not a valid {f.verbose_name}.") from None
    return str(value)


def clean(entry, criteria) -> list[dict]:
    """The criteria, normalised; ValidationError with a message per condition."""
    if not isinstance(criteria, list) or not criteria:
        raise ValidationError("Add at least one condition.")
    fields = fields_of(entry)
    out, errors = [], []
    for number, condition in enumerate(criteria, start=1):
        try:
            if not isinstance(condition, dict):
                raise ValidationError("A condition has a field, an operator and a value.")
            name, op, value = condition.get("field"), condition.get("op"), condition.get("value")
            if name not in fields:
                raise ValidationError(f"“{name}” is not a field of {entry.label.lower()} a rule can test.")
            if op not in OPS:
                raise ValidationError(f"“{op}” is not an operator; use one of {', '.join(OPS)}.")
            f = fields[name]
            if op in ORDERED and isinstance(f, (models.BooleanField, models.ForeignKey)) or (
                    op in ORDERED and f.choices):
                raise ValidationError(f"{f.verbose_name.capitalize()} cannot be compared with “{OPS[op]}”.")
            if op in ("empty", "not_empty"):
                value = None
            elif op == "in":
                items = value if isinstance(value, list) else [v.strip() for v in str(value or "").split(",") if v.strip()]
                if not items:
                    raise ValidationError("Give at least one value.")
                value = [_coerce(f, v) for v in items]
            else:
                value = _coerce(f, value)
            out.append({"field": name, "op": op, "value": value})
        except ValidationError as exc:
            errors.append(f"Condition {number}: {exc.messages[0]}")
    if errors:
        raise ValidationError(errors)
    return out


def _condition_q(f: models.Field, op: str, value) -> Q:
    name = f.attname if isinstance(f, models.ForeignKey) else f.name
    if op == "eq":
        return Q(**{name: value})
    if op == "ne":
        return ~Q(**{name: value}) | Q(**{f"{name}__isnull": True})
    if op == "in":
        return Q(**{f"{name}__in": value})
    if op in ORDERED:
        return Q(**{f"{name}__{op}": value})
    empty = Q(**{f"{name}__isnull": True})
    if isinstance(f, (models.CharField, models.TextField)):
        empty |= Q(**{name: ""})
    return empty if op == "empty" else ~empty


def to_q(entry, criteria) -> Q:
    fields = fields_of(entry)
    q = Q()
    for condition in criteria:
        q &= _condition_q(fields[condition["field"]], condition["op"], condition["value"])
    return q


def matches(entry, criteria, record) -> bool:
    """Plain Python: does `record` meet every condition (same semantics as to_q)."""
    fields = fields_of(entry)
    for condition in criteria:
        f = fields[condition["field"]]
        raw = getattr(record, f.attname)
        value = _comparable(f, raw)
        op, wanted = condition["op"], condition["value"]
        is_empty = raw is None or raw == ""
        if op == "empty":
            ok = is_empty
        elif op == "not_empty":
            ok = not is_empty
        elif raw is None:
            ok = op == "ne"
        elif op == "eq":
            ok = _ordered(f, value) == _ordered(f, wanted)
        elif op == "ne":
            ok = _ordered(f, value) != _ordered(f, wanted)
        elif op == "in":
            ok = _ordered(f, value) in {_ordered(f, w) for w in wanted}
        else:
            a, b = _ordered(f, value), _ordered(f, wanted)
            ok = {"gt": a > b, "gte": a >= b, "lt": a < b, "lte": a <= b}[op]
        if not ok:
            return False
    return True


def _comparable(f, raw):
    if raw is None:
        return None
    if isinstance(f, models.BooleanField):
        return bool(raw)
    if isinstance(f, models.DateField):
        return raw.isoformat()
    if isinstance(f, models.IntegerField) and not f.choices:
        return int(raw)
    return str(raw)


def _ordered(f, value):
    if isinstance(f, models.DecimalField):
        return decimal.Decimal(value)
    return value
