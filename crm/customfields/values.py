"""Custom values checked in plain Python: fast enough for a million-row import (no serializer,
no query per value), and the one definition of what a valid value is for forms, the API and
imports alike.

A `Spec` is an immutable snapshot of a CustomField. `coerce(spec, raw)` turns what a person typed
(a CSV cell, a form value, a JSON value) into the stored JSON value, or raises `ValueError` with a
message a salesperson understands. Stored values: text/long text/URL/email/picklist -> str,
number -> int or float, currency -> float rounded to cents, date -> "YYYY-MM-DD", checkbox -> bool,
multi-picklist -> list of str in the options' order. An empty value is not stored (the key is
absent).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator

from crm.tenancy.search import normalise_text

from .models import FieldType

MAX_TEXT = 255
MAX_LONG_TEXT = 10_000
# larger magnitudes lose precision as float8, the type filters compare
MAX_NUMBER = 1e15

TRUE_WORDS = frozenset({"1", "true", "yes", "y", "x", "on", "ja", "oui", "si", "✓"})
FALSE_WORDS = frozenset({"0", "false", "no", "n", "off", "nein", "non"})
DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y")
_email = EmailValidator()
_url = URLValidator(schemes=["http", "https"])
_number_re = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")


@dataclass(frozen=True)
class Spec:
    id: object
    name: str
    label: str
    type: str
    required: bool
    default: object
    options: tuple  # allowed values, in order
    help_text: str = ""

    @classmethod
    def of(cls, field) -> Spec:
        return cls(field.pk, field.name, field.label, field.type, field.required, field.default,
                   tuple(field.options or ()), field.help_text)

    @property
    def option_index(self) -> dict:
        return {o.casefold(): o for o in self.options}


def is_empty(value) -> bool:
    return value is None or value == "" or value == [] or (isinstance(value, str) and not value.strip())


def coerce(spec: Spec, raw):
    """The stored value for `raw`, None when empty, or ValueError(message)."""
    if is_empty(raw):
        return None
    kind = spec.type
    if kind in (FieldType.TEXT, FieldType.LONG_TEXT):
        text = str(raw).replace("\x00", "")
        text = text.strip() if kind == FieldType.TEXT else text.strip("\n ")
        limit = MAX_TEXT if kind == FieldType.TEXT else MAX_LONG_TEXT
        if len(text) > limit:
            raise ValueError(f"Too long: at most {limit:,} characters (this has {len(text):,}).")
        return text
    if kind in (FieldType.NUMBER, FieldType.CURRENCY):
        return _number(spec, raw)
    if kind == FieldType.DATE:
        return _date(raw).isoformat()
    if kind == FieldType.CHECKBOX:
        return _flag(raw)
    if kind == FieldType.PICKLIST:
        return _option(spec, raw)
    if kind == FieldType.MULTI_PICKLIST:
        items = raw if isinstance(raw, (list, tuple, set)) else re.split(r"[;\n]", str(raw))
        chosen = {_option(spec, item) for item in items if not is_empty(item)}
        return [o for o in spec.options if o in chosen] or None
    if kind == FieldType.URL:
        url = str(raw).strip()
        if "://" not in url:
            url = f"https://{url}"
        try:
            _url(url)
        except ValidationError:
            raise ValueError("Not a web address: use the form https://example.com.") from None
        return url
    if kind == FieldType.EMAIL:
        email = str(raw).strip()
        try:
            _email(email)
        except ValidationError:
            raise ValueError(f"“{email}” is not an email address.") from None
        local, _, domain = email.rpartition("@")
        return f"{local}@{domain.lower()}"
    raise ValueError(f"Unknown field type {kind}.")


def _number(spec: Spec, raw):
    if isinstance(raw, bool):
        raise ValueError("Enter a number.")
    if isinstance(raw, (int, float, Decimal)):
        value = float(raw)
    else:
        text = str(raw).strip().replace("\u00a0", "").replace(" ", "").replace("'", "")
        for symbol in ("€", "$", "£", "¥", "CHF", "EUR", "USD", "GBP"):
            text = text.replace(symbol, "")
        # "1,234.50" and "1.234,50": the last separator is the decimal one when both appear
        if "," in text and "." in text:
            text = text.replace(",", "") if text.rfind(".") > text.rfind(",") else text.replace(".", "").replace(",", ".")
        elif text.count(",") == 1 and len(text.split(",")[1]) != 3:
            text = text.replace(",", ".")
        elif "," in text:
            text = text.replace(",", "")
        if not _number_re.match(text):
            raise ValueError(f"“{raw}” is not a number.")
        try:
            value = float(Decimal(text))
        except InvalidOperation:
            raise ValueError(f"“{raw}” is not a number.") from None
    if math.isnan(value) or math.isinf(value) or abs(value) >= MAX_NUMBER:
        raise ValueError("This number is too large.")
    if spec.type == FieldType.CURRENCY:
        return round(value, 2)
    return int(value) if value.is_integer() else value


def _date(raw) -> dt.date:
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    text = str(raw).strip()
    if len(text) == 10 and text[4] == "-":  # ISO, the common case: ~100x faster than strptime
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
    if "T" in text or " " in text:  # a spreadsheet's datetime: its date
        text = re.split(r"[T ]", text)[0]
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"“{raw}” is not a date: use YYYY-MM-DD, e.g. 2026-03-31.")


def _flag(raw) -> bool:
    if isinstance(raw, bool):
        return raw
    word = str(raw).strip().casefold()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(f"“{raw}” is not yes or no.")


def _option(spec: Spec, raw) -> str:
    text = str(raw).strip()
    option = spec.option_index.get(text.casefold())
    if option is None:
        shown = ", ".join(spec.options[:10]) + (" …" if len(spec.options) > 10 else "")
        raise ValueError(f"“{text}” is not one of the choices ({shown}).")
    return option


def clean(specs: list[Spec], data: dict | None, *, existing: dict | None = None, creating: bool = False,
          strict_unknown: bool = True) -> dict:
    """The complete stored `custom` dict after applying `data` (a partial update by field name) to
    `existing`; defaults fill absent fields on create; required fields must end up with a value.

    Raises ValidationError({"custom.<name>": message, …}) listing every bad field at once.
    Values of fields no longer defined (archived or deleted) are kept as they are.
    """
    data = dict(data or {})
    result = dict(existing or {})
    errors: dict[str, str] = {}
    by_name = {s.name: s for s in specs}
    if strict_unknown:
        for name in data:
            if name not in by_name:
                errors[f"custom.{name}"] = "There is no such custom field."
    for spec in specs:
        if spec.name in data:
            try:
                value = coerce(spec, data[spec.name])
            except ValueError as exc:
                errors[f"custom.{spec.name}"] = str(exc)
                continue
            if value is None:
                result.pop(spec.name, None)
            else:
                result[spec.name] = value
        elif creating and spec.default is not None and spec.name not in result:
            try:
                default = coerce(spec, spec.default)
            except ValueError:
                default = None  # a default that no longer fits its options is ignored
            if default is not None:
                result[spec.name] = default
        if spec.required and is_empty(result.get(spec.name)) and f"custom.{spec.name}" not in errors:
            if creating or spec.name in data:
                errors[f"custom.{spec.name}"] = f"{spec.label} is required."
    if errors:
        raise ValidationError(errors)
    return result


def index_rows(spec: Spec, value) -> list[dict]:
    """The CustomValue columns for one stored value (one dict per multi-picklist option)."""
    if value is None:
        return []
    kind = spec.type
    if kind in (FieldType.NUMBER, FieldType.CURRENCY):
        return [{"number": float(value)}]
    if kind == FieldType.DATE:
        return [{"date": dt.date.fromisoformat(value)}]
    if kind == FieldType.CHECKBOX:
        return [{"flag": bool(value)}]
    if kind == FieldType.MULTI_PICKLIST:
        return [{"text_key": normalise_text(v)} for v in value]
    # text keys are compared by equality and prefix; a long text is indexed by its beginning
    return [{"text_key": normalise_text(str(value))[:200]}]


def display(spec: Spec, value) -> str:
    """The value as a person reads it on a page or in an export."""
    if is_empty(value):
        return ""
    kind = spec.type
    if kind == FieldType.CHECKBOX:
        return "Yes" if value else "No"
    if kind == FieldType.CURRENCY:
        return f"{value:,.2f}"
    if kind == FieldType.NUMBER:
        return f"{value:,}" if isinstance(value, int) else f"{value:,.10g}"
    if kind == FieldType.DATE:
        try:
            return dt.date.fromisoformat(value).strftime("%-d %b %Y")
        except (TypeError, ValueError):
            return str(value)
    if kind == FieldType.MULTI_PICKLIST:
        return ", ".join(value) if isinstance(value, list) else str(value)
    return str(value)
