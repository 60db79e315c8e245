"""Exports of any list view (its filters, its columns, its sort) to CSV and XLSX.

- Only what the person may see: the rows are the list's own queryset (policy.visible(…, "read")),
  the columns the ones `registry.column_visible` allows.
- Spreadsheet formula injection (OWASP "CSV injection"): a text cell that starts with `=`, `+`,
  `-`, `@`, a tab or a carriage return gets a leading apostrophe, so Excel, LibreOffice and Google
  Sheets show it as text instead of running it. Numbers stay numbers (a negative amount is a
  number, not text), dates stay dates in XLSX.
- Up to DIRECT_LIMIT rows the file is made in the request and downloaded at once; larger exports
  become an ExportJob that the worker writes in keyset batches of BATCH rows, each batch its own
  short transaction (progress is visible while it runs), into private storage; the requester alone
  downloads it until it expires.
- Speed: the rows come with `.only()` the shown columns, look-ups run once per batch (owners,
  accounts, tags), CSV goes through the C csv writer, XLSX through openpyxl's write-only mode.
  bench/exports.py measures it.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db.models import TextField, UUIDField
from django.db.models.functions import Cast
from django.utils import timezone

from crm.tenancy.search import keyset_after

from . import selectors

DIRECT_LIMIT = 10_000
BATCH = 5_000
KEEP_FOR = dt.timedelta(days=1)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def storage() -> FileSystemStorage:
    """Where finished export files live: not under MEDIA/STATIC (never served by URL), only
    through the download view, which checks the tenant, the requester and the expiry. The web and
    worker processes must share it (a volume in docker-compose)."""
    location = getattr(settings, "CRM_EXPORT_DIR", None) or Path(settings.BASE_DIR) / ".data" / "exports"
    return FileSystemStorage(location=str(location))


FORMULA_CHARS = "=+-@\t\r"


def neutralise(value):
    if isinstance(value, str) and value and value[0] in FORMULA_CHARS:
        return "'" + value
    return value


_tz_cache: dict = {}


def _local(value: dt.datetime) -> dt.datetime:
    """In the site's time zone, without tzinfo (what a spreadsheet shows)."""
    if value.tzinfo is None:
        return value
    tz = _tz_cache.get("tz")
    if tz is None:
        tz = _tz_cache["tz"] = timezone.get_current_timezone()
    return value.astimezone(tz).replace(tzinfo=None)


def csv_cell(value):
    # the hot path of an export (one call per cell): dispatch on the exact type, commonest first
    kind = value.__class__
    if kind is str:
        return "'" + value if value and value[0] in FORMULA_CHARS else value
    if value is None:
        return ""
    if kind is int or kind is float:
        return value
    if kind is bool:
        return "Yes" if value else "No"
    if kind is dt.datetime:
        return _local(value).strftime("%Y-%m-%d %H:%M")
    if kind is dt.date:
        return value.isoformat()
    if isinstance(value, (int, float)):
        return value
    return neutralise(str(value))


def xlsx_cell(value):
    kind = value.__class__
    if kind is str:
        return "'" + value if value and value[0] in FORMULA_CHARS else value
    if value is None:
        return None
    if kind is int or kind is float or kind is dt.date:
        return value
    if kind is bool:
        return "Yes" if value else "No"
    if kind is dt.datetime:
        return _local(value)
    if isinstance(value, (int, float)):
        return value
    return neutralise(str(value))


def header(state) -> list[str]:
    return [neutralise(c.label) for c in state.columns]


def row_class(fields: list[str]):
    """Plain, light rows for exports: a tuple with the loaded columns as attributes (and `pk`),
    instead of model instances (building a model per row would cost most of the time)."""
    from collections import namedtuple

    base = namedtuple("ExportRow", fields)
    return type("ExportRow", (base,), {"__slots__": (), "pk": property(lambda self: self.id)})


def _is_uuid(model, name: str) -> bool:
    field = model._meta.get_field(name[:-3] if name.endswith("_id") and name != "id" else name)
    target = field.target_field if field.is_relation else field
    return isinstance(target, UUIDField)


def batches(state, *, size: int = BATCH, after=None):
    """The rows of the list state in its sort order, `size` at a time, by keyset (never OFFSET).
    Yields (rows as lists of plain values, the last row's keyset position)."""
    qs = selectors.rows_queryset(state)
    # no tenant_id per row: the look-ups take the tenant from the actor
    fields = sorted((qs.query.deferred_loading[0] | {"id"}) - {"tenant_id"})
    Row = row_class(fields)
    # uuid columns come as text: parsing 2-3 UUIDs a row is a third of an export's CPU, and
    # every use of them here is a look-up by text or a keyset comparison the database casts
    text_ids = {f for f in fields if _is_uuid(qs.model, f)}
    qs = qs.annotate(**{f"{f}__text": Cast(f, TextField()) for f in text_ids})
    selected = [f"{f}__text" if f in text_ids else f for f in fields]
    sort = state.sort
    order = [f"-{f}" if sort.descending else f for f in sort.fields]
    position = after
    columns = state.columns
    ctx = state.ctx
    base_keys = set(ctx)  # look-ups the columns add per batch are dropped after it (bounded memory)
    while True:
        page_qs = qs if position is None else qs.filter(keyset_after(sort.fields, position, descending=sort.descending))
        rows = [Row._make(values) for values in page_qs.order_by(*order).values_list(*selected)[:size]]
        if not rows:
            return
        for key in set(ctx) - base_keys:
            del ctx[key]
        selectors.prepare(state, rows)
        yield [[c.value(obj, ctx) for c in columns] for obj in rows], [getattr(rows[-1], f) for f in sort.fields]
        if len(rows) < size:
            return
        position = [getattr(rows[-1], f) for f in sort.fields]


class _Echo:
    def write(self, value):
        return value


def csv_stream(state):
    """A CSV file as a stream of encoded chunks (UTF-8 with a BOM, so Excel reads the accents)."""
    writer = csv.writer(_Echo())
    yield codecs.BOM_UTF8 + writer.writerow(header(state)).encode()
    for rows, _ in batches(state):
        buffer = io.StringIO()
        out = csv.writer(buffer)
        out.writerows([[csv_cell(v) for v in row] for row in rows])
        yield buffer.getvalue().encode()


def xlsx_bytes(state) -> bytes:
    buffer = io.BytesIO()
    write_xlsx(state, buffer)
    return buffer.getvalue()


def write_xlsx(state, target, *, progress=None) -> int:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=state.definition.label[:31])
    sheet.append(header(state))
    done = 0
    for rows, _ in batches(state):
        for row in rows:
            sheet.append([xlsx_cell(v) for v in row])
        done += len(rows)
        if progress:
            progress(done)
    workbook.save(target)
    return done


def write_csv(state, target, *, progress=None) -> int:
    """Write the CSV into a binary file object; returns the number of rows."""
    target.write(codecs.BOM_UTF8)
    text = io.TextIOWrapper(target, encoding="utf-8", newline="", write_through=True)
    writer = csv.writer(text)
    writer.writerow(header(state))
    done = 0
    for rows, _ in batches(state):
        writer.writerows([[csv_cell(v) for v in row] for row in rows])
        done += len(rows)
        if progress:
            progress(done)
    text.flush()
    text.detach()
    return done


def file_name(state, fmt: str) -> str:
    return f"{state.definition.key}-{timezone.localdate().isoformat()}.{fmt}"
