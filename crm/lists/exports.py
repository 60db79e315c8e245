"""Exports of any list view (its filters, its columns, its sort) to CSV and XLSX.

- Only what the person may see: the rows are the list's own queryset (policy.visible(…, "read")),
  the columns the ones `registry.column_visible` allows.
- Spreadsheet formula injection (OWASP "CSV injection"): a text cell that starts with `=`, `+`,
  `-`, `@`, a tab or a carriage return gets a leading apostrophe, so Excel, LibreOffice and Google
  Sheets show it as text instead of running it. Numbers stay numbers (a negative amount is a
  number, not text), dates stay dates in XLSX.
- Up to DIRECT_LIMIT rows the file is made in the request and downloaded at once; larger exports
  become an ExportJob that the worker writes, in one transaction (one consistent snapshot), into
  private storage; the requester alone downloads it until it expires.
- Speed: one query through a server-side cursor (`rows()`), FETCHed BATCH rows at a time by a
  reader thread while the caller formats the previous chunk, so the database and Python work at
  the same time; the rows come with `.only()` the shown columns as plain tuples (not model
  instances), uuids as text; look-ups run once per chunk (owners, accounts, tags); CSV goes
  through the C csv writer, XLSX through openpyxl's write-only mode. bench/exports.py measures it.
"""

from __future__ import annotations

import codecs
import contextvars
import csv
import datetime as dt
import io
import queue
import threading
import uuid
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import TextField, UUIDField
from django.db.models.functions import Cast
from django.utils import timezone

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


def _query(state):
    """The export's one query: (compiled SQL, params, Django's converters, the Row class), every
    visible row of the state in its sort order (no LIMIT: one server-side cursor reads it all)."""
    qs = selectors.rows_queryset(state)
    # no tenant_id per row: the look-ups take the tenant from the actor
    fields = sorted((qs.query.deferred_loading[0] | {"id"}) - {"tenant_id"})
    # uuid columns come as text: parsing 2-3 UUIDs a row is a third of an export's CPU, and
    # every use of them here is a look-up by text (owner names) or an id the database casts (tags)
    text_ids = {f for f in fields if _is_uuid(qs.model, f)}
    qs = qs.annotate(**{f"{f}{TEXT}": Cast(f, TextField()) for f in text_ids})
    sort = state.sort
    qs = qs.order_by(*[f"-{f}" if sort.descending else f for f in sort.fields])
    qs = qs.values_list(*[f"{f}{TEXT}" if f in text_ids else f for f in fields])
    compiler = qs.query.get_compiler(using=qs.db)
    sql, params = compiler.as_sql()
    # Django selects values_list() columns in the order named (as NamedValuesListIterable relies on)
    converters = compiler.get_converters([s[0] for s in compiler.select[:compiler.col_count]])
    return sql, params, compiler, converters, row_class(fields)


TEXT = "__text"
_DONE = object()


def rows(state, *, size: int | None = None):
    """The rows of the list state in its sort order, `size` at a time: yields (rows, ctx), the rows
    as Row tuples (the loaded columns as attributes), ctx the state's context plus the columns'
    look-ups for those rows (owners, accounts, tags: `Column.prepare`).

    All the database work runs in a reader thread, ahead of the caller: it FETCHes the next rows
    from one server-side cursor and runs their look-ups while the caller formats and writes the
    previous ones, so the database and Python work at the same time (bench/exports.py). The thread
    uses the caller's own connection (Django's thread sharing; psycopg2 serialises statements on
    it), so the cursor and every look-up run in the caller's transaction, after the tenant context
    set `app.tenant_id`: RLS applies exactly as to any query of the request or job, and the export
    reads one snapshot. It also sees the caller's context variables (the current tenant). At most
    two chunks wait ahead, each with its own look-ups, so memory stays bounded whatever the size.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("An export reads through a cursor that lives in the tenant's transaction.")
    size = size or BATCH
    sql, params, compiler, converters, Row = _query(state)
    db = connections[DEFAULT_DB_ALIAS]  # the caller's connection (`connection` is per thread)
    db.ensure_connection()
    errors = db.wrap_database_errors  # Django's exception classes, as from any query
    cursor = db.create_cursor(name=f"export_{uuid.uuid4().hex}")  # DECLARE … CURSOR (no hold)
    cursor.itersize = size
    with errors:
        cursor.execute(sql, params)
    prepares = list(dict.fromkeys(c.prepare for c in state.columns if c.prepare is not None))
    base = dict(state.ctx)
    chunks: queue.Queue = queue.Queue(maxsize=2)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                chunks.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def read():
        connections[DEFAULT_DB_ALIAS] = db  # this thread's queries go to the caller's connection
        try:
            while not stop.is_set():
                with errors:
                    fetched = cursor.fetchmany(size)
                if converters:
                    fetched = compiler.apply_converters(fetched, converters)
                chunk = list(map(Row._make, fetched))
                ctx = dict(base)
                if chunk:
                    for prepare in prepares:
                        prepare(chunk, ctx)
                if not put((chunk, ctx)) or len(chunk) < size:
                    break
        except BaseException as exc:  # handed to the caller, raised there
            put(exc)
        finally:
            put(_DONE)

    db.inc_thread_sharing()
    reader = threading.Thread(target=contextvars.copy_context().run, args=(read,), name="export-reader",
                              daemon=True)
    reader.start()
    try:
        while True:
            item = chunks.get()
            if item is _DONE:
                break
            if isinstance(item, BaseException):
                raise item
            if item[0]:
                yield item
    finally:
        stop.set()
        reader.join()
        db.dec_thread_sharing()
        try:
            cursor.close()  # CLOSE: the transaction goes on (a job writes its result after this)
        except Exception:
            pass


def formatter(state, cell):
    """(rows, ctx) -> the rows as lists of `cell(value)`, one per shown column. The hot path of an
    export: one comprehension per chunk."""
    values = [c.value for c in state.columns]

    def format_chunk(chunk: list, ctx: dict) -> list[list]:
        return [[cell(value(obj, ctx)) for value in values] for obj in chunk]

    return format_chunk


class _Echo:
    def write(self, value):
        return value


def csv_stream(state):
    """A CSV file as a stream of encoded chunks (UTF-8 with a BOM, so Excel reads the accents)."""
    writer = csv.writer(_Echo())
    yield codecs.BOM_UTF8 + writer.writerow(header(state)).encode()
    format_chunk = formatter(state, csv_cell)
    for chunk, ctx in rows(state):
        buffer = io.StringIO()
        csv.writer(buffer).writerows(format_chunk(chunk, ctx))
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
    format_chunk = formatter(state, xlsx_cell)
    for chunk, ctx in rows(state):
        for row in format_chunk(chunk, ctx):
            sheet.append(row)
        done += len(chunk)
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
    format_chunk = formatter(state, csv_cell)
    for chunk, ctx in rows(state):
        writer.writerows(format_chunk(chunk, ctx))
        done += len(chunk)
        if progress:
            progress(done)
    text.flush()
    text.detach()
    return done


def file_name(state, fmt: str) -> str:
    return f"{state.definition.key}-{timezone.localdate().isoformat()}.{fmt}"
