"""The change history of tenant data: who changed what, when, through what, from what to what.

How it is recorded
------------------
django-pghistory installs PostgreSQL triggers on every tracked table. Each insert, update and
delete writes one event row (a snapshot of the record after the change; before it, for a delete)
in the same transaction as the change itself: a rolled-back change leaves no history, and no
write path (ORM, `.update()`, raw SQL, a bulk import) can skip it.

Decisions, and why
------------------
- **Context lives on the event row** (`pgh_context`, a JSON column, pghistory's
  `ContextJSONField`), never in pghistory's own `pghistory_context` table. That table is global:
  it would hold every tenant's user emails and URLs side by side, outside row-level security.
  The event row carries `tenant_id` and is under forced RLS like every tenant table, so the
  context (who, through what) is exactly as private as the change it describes. The global table
  stays empty (tests/isolation/test_audit_catalog.py keeps it so).
- **Event tables are tenant tables.** The tracked model's non-null `tenant` is copied onto the
  event, so crm/tenancy/rls.py puts the table under RLS and gives each of its foreign keys a
  `(tenant_id, column)` index after migrate. pghistory's own single-column indexes are switched
  off in settings (`PGHISTORY_FOREIGN_KEY_FIELD`, `PGHISTORY_OBJ_FIELD`), so every index of an
  event table leads with tenant_id, as the Citus-ready layout needs; `(tenant_id, pgh_obj_id)` is
  the index a record's history is read through. The copied foreign keys have no database
  constraint (pghistory's default, on purpose): history outlives the rows it describes.
- **Statement-level triggers** (`FOR EACH STATEMENT`, transition tables): a statement that
  writes 20,000 rows (an import chunk, a bulk owner change, a merge's moves) calls its trigger
  once, which records the 20,000 events with one INSERT … SELECT, instead of 20,000 trigger calls
  (measured by bench/imports.py and bench/history.py). What is recorded is the same as at row
  level: one event per row, the same columns, the context per event, and for updates only the
  rows where a tracked field changed (old and new rows joined on the key; `.update()` of only
  `updated_at` records nothing). pghistory's own statement-level SQL also calls
  `_pgh_attach_context()`, which would write to the global context table; `_StatementTrigger`
  drops that call and refuses to build if pghistory's SQL changes shape
  (crm/audit/tests/test_statement_level.py checks the installed triggers).
- **Event keys are UUIDv7**, like every tenant row (`pgh_id`, defaulted in SQL because the
  trigger, not Django, inserts). Time order comes from `pgh_created_at`, set with
  `clock_timestamp()` (the moment of the change, not of the transaction's start), then `pgh_id`.
- **Append-only**: the event tables carry pghistory's protect trigger; the application role
  cannot rewrite or delete history through the ORM or plain SQL. One reviewed exception: a GDPR
  erasure blanks the personal values in the history of the erased contact through the SECURITY
  DEFINER function `contacts_erase_history` (contacts/migrations/0004, contacts/gdpr.py), which
  writes constants only, for a contact already marked erased, in the current tenant. (The protect
  trigger honours pgtrigger's `pgtrigger.ignore` setting, which any role may set, and the app role
  still holds UPDATE/DELETE on event tables from crm/tenancy/rls.py's blanket grant: revoking
  those two on event tables would make the function the only way, with nothing else to change.)
- **A new record's entry is one line**: the insert event lists only the values that were given
  (not empty ones nor plain defaults such as `custom = {}`), and the page says "created".
- **Secrets never enter history**: `track()` leaves out any field whose name says it holds a
  secret (`*_hash`, `password`, `secret`, `token`...) on top of the `exclude` it is given, and the
  catalog test fails on an event column that looks like one. `updated_at` is left out too: it
  changes on every save and the event has its own time.
- **Event models live in the app of the model they track** (pghistory's default app_label), so
  each app's migrations carry its own history tables and triggers, and crm/audit does not become
  a hub every app's migrations depend on.
- SecurityEvent is not tracked: it is itself an append-only log of security facts; its history
  would be a copy of it.

How a later app tracks its models
---------------------------------
    from crm.audit.history import track

    @track()                                   # or @track(exclude=["big_blob"])
    class Opportunity(TenantModel): ...

then `CRM_DB_ROLE=owner python manage.py makemigrations <app>`. The catalog test
(tests/isolation/test_audit_catalog.py) fails for a tenant model that is neither tracked nor
listed, with a reason, as not business data.

Through what (the context)
--------------------------
`source` is one of SOURCES. Requests get it from crm.audit.middleware (page, or api under /api/),
Celery tasks from crm.audit.signals (job, with the task's name), and code that imports or runs a
command wraps its work in `history_source("import", ...)` / `command_context(name)`.

This module is imported by models modules (for `track`), so it imports no project models at
module level.
"""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pghistory
import pghistory.trigger
import pgtrigger
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db import models
from django.db.models.expressions import RawSQL
from django.utils import formats, timezone
from django.utils.text import capfirst
from pghistory.models import Event, EventQuerySet

from crm.tenancy.ids import new_id

SOURCES = ("page", "api", "import", "job", "command", "shell")

# Word parts of a field name that mark a secret; such a field is never copied into history.
SECRET_WORDS = frozenset({
    "hash", "password", "passwd", "secret", "salt", "otp", "totp", "token", "credential", "credentials",
})
# Changes on every save; the event has its own time.
ALWAYS_EXCLUDED = ("updated_at",)
# Bookkeeping columns that are never shown as a change.
NOT_SHOWN = frozenset({"id", "tenant", "created_at", "updated_at"})

# A UUIDv7 in plain SQL (PostgreSQL 13+; 18 has uuidv7() built in, but the wheel may be 17):
# 48 bits of Unix milliseconds over a random v4, with the version bits set to 7.
UUID7_SQL = (
    "encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid()) placing "
    "substring(int8send(floor(extract(epoch from clock_timestamp()) * 1000)::bigint) from 3) "
    "from 1 for 6), 52, 1), 53, 1), 'hex')::uuid"
)


def is_secret_field(name: str) -> bool:
    return bool(SECRET_WORDS & set(name.lower().split("_")))


# --- The event model --------------------------------------------------------------------------


class TenantEventQuerySet(EventQuerySet):
    def for_tenant(self, tenant) -> TenantEventQuerySet:
        return self.filter(tenant_id=getattr(tenant, "pk", tenant))


class TenantEvent(Event):
    """Base of every event model (settings.PGHISTORY_BASE_MODEL)."""

    pgh_id = models.UUIDField(primary_key=True, default=new_id, db_default=RawSQL(UUID7_SQL, ()), editable=False)

    objects = TenantEventQuerySet.as_manager()

    class Meta:
        abstract = True


class _StatementTrigger(pghistory.trigger.Event):
    """pghistory's statement-level event trigger without its `_pgh_attach_context()` call.

    pghistory's statement-level SQL (3.9) joins every event to `_pgh_attach_context()`, which
    writes the context into the global `pghistory_context` table (no tenant, no RLS) even when
    the event carries it as JSON, as ours do. The JSON context is read from the setting, per
    event, exactly as at row level, so the join is dropped. Refuses to build when pghistory's SQL
    no longer has the expected shape (a silent change would either break or leak the context).
    """

    ATTACH = "WITH _pgh_attached_context AS ( SELECT _pgh_attach_context() AS value ) "
    JOIN = ", _pgh_attached_context;"

    def get_func(self, model):
        sql = str(super().get_func(model).func)
        if self.level != pgtrigger.Statement or sql.count(self.ATTACH) != 1 or sql.count(self.JOIN) != 1:
            raise ImproperlyConfigured(
                f"{model.__name__}: pghistory's statement-level trigger SQL changed; review _StatementTrigger")
        if "_pgh_attached_context.value" in sql:
            raise ImproperlyConfigured(f"{model.__name__}: the event's context must be a JSON column")
        return pgtrigger.Func(sql.replace(self.ATTACH, "").replace(self.JOIN, ";"))


class _StatementLevel:
    """A tracker whose trigger fires once per statement and records every row the statement
    changed from its transition table (`new_values` / `old_values`), in one INSERT … SELECT:
    a 20,000-row import chunk or a bulk owner change costs one trigger call, not one per row.
    Same rows, same columns, same context, same "only when a tracked field changed" rule as
    pghistory's row-level trigger (the condition becomes a join of old and new rows on the key).
    """

    def add_event_trigger(self, event_model):
        pgtrigger.register(
            _StatementTrigger(
                event_model=event_model,
                label=self.label,
                name=self.trigger_name,
                row=self.row,
                operation=self.operation,
                condition=self.condition,
                level=pgtrigger.Statement,
            )
        )(event_model.pgh_tracked_model)


class StatementInsertEvent(_StatementLevel, pghistory.InsertEvent):
    pass


class StatementUpdateEvent(_StatementLevel, pghistory.UpdateEvent):
    pass


class StatementDeleteEvent(_StatementLevel, pghistory.DeleteEvent):
    pass


def track(*, exclude: Iterable[str] = ()):
    """Class decorator: record every insert, update and delete of a tenant model.

    `exclude` names fields not worth keeping; secret-looking fields and `updated_at` are left out
    whatever it says. The event model is `<Model>Event` in the model's own app.
    """

    def decorate(model: type[models.Model]) -> type[models.Model]:
        names = [f.name for f in model._meta.concrete_fields]
        if "tenant" not in names:
            raise ImproperlyConfigured(f"track({model.__name__}): only tenant models are tracked here")
        # generated columns (the *_key sort and search keys) follow their source field: no news
        generated = {f.name for f in model._meta.concrete_fields if getattr(f, "generated", False)}
        left_out = set(exclude) | set(ALWAYS_EXCLUDED) | generated | {n for n in names if is_secret_field(n)}
        if "tenant" in left_out:
            raise ImproperlyConfigured(f"track({model.__name__}): the event needs the tenant (RLS)")
        return pghistory.track(
            StatementInsertEvent(),
            StatementUpdateEvent(),
            StatementDeleteEvent(),
            exclude=sorted(n for n in names if n in left_out),
            model_name=f"{model.__name__}Event",
            meta={"verbose_name": f"{model._meta.verbose_name} history event"},
        )(model)

    return decorate


def event_model_of(model) -> type[TenantEvent] | None:
    return getattr(model._meta.concrete_model, "pgh_event_models", {}).get("update")


# --- Context: who, through what ---------------------------------------------------------------


def actor_metadata(membership) -> dict[str, Any]:
    """Who, as stored with each change: ids to link, name and email as they were then."""
    if membership is None:
        return {"user": None, "email": "", "name": "", "membership": None}
    user = membership.user
    return {
        "user": str(user.pk),
        "email": user.email,
        "name": user.display_name,
        "membership": str(membership.pk),
        "tenant": str(membership.tenant_id),
    }


@contextmanager
def history_source(source: str, *, actor=None, **metadata) -> Iterator[dict]:
    """Record changes made in the block as made through `source` (and by `actor`, a Membership).

    Nests: inside a request, `history_source("import", file=name)` keeps the request's user and
    marks the import's changes; on leaving, the outer context is back as it was. (pghistory's
    own nesting merges and never restores, so a nested job would mislabel the rest of a request.)
    """
    if source not in SOURCES:
        raise ValueError(f"unknown history source {source!r}; one of {SOURCES}")
    with pghistory.context() as ctx:
        saved = dict(ctx.metadata)
        ctx.metadata.update(source=source, **metadata)
        if actor is not None:
            ctx.metadata.update(actor_metadata(actor))
        try:
            yield ctx.metadata
        finally:
            ctx.metadata.clear()
            ctx.metadata.update(saved)


def job_context(task_name: str, *, task_id: str | None = None, actor=None):
    """Changes made by a background job (crm.audit.signals enters it for every Celery task)."""
    return history_source("job", actor=actor, task=task_name, task_id=task_id)


def command_context(command: str, *, actor=None):
    """Changes made by a management command: `with command_context("seed_demo"): ...`."""
    return history_source("command", actor=actor, command=command)


# --- Reading a record's history ---------------------------------------------------------------


def hidden_fields(actor, model) -> set[str]:
    """Fields of `model` that `actor` may not see, left out of the history shown to them (old and
    new values alike): field-level security (crm.access.fields.hidden) for the model's object in
    crm.access.registry, derived fields included (a hidden website hides the domain too); hidden
    custom fields as `cf_<name>` (their values are taken out of the `custom` column's changes).
    Every history view, page or API, goes through here.
    """
    from crm.access import fields as fls
    from crm.access import registry

    entry = registry.for_model(model)
    if entry is None or actor is None:
        return set()
    return set(fls.hidden(actor, entry.key))


# How a referenced record is named in a change; others use str().
RELATED_LABELS: dict[str, tuple[tuple[str, ...], Any]] = {
    "tenancy.membership": (("user",), lambda m: m.user.display_name),
    "tenancy.user": ((), lambda u: u.display_name),
}
UNAVAILABLE = "(unavailable)"

VERBS = {"insert": "created", "update": "changed", "delete": "deleted"}
NO_PERSON = {"job": "A background job", "command": "A command", "import": "An import", "system": "The system"}


@dataclass(frozen=True)
class FieldChange:
    field: str
    label: str
    before: Any
    after: Any
    before_display: str
    after_display: str
    before_known: bool = True


@dataclass(frozen=True)
class HistoryEntry:
    id: str
    action: str  # created | changed | deleted
    at: dt.datetime
    source: str  # one of SOURCES, or "system" when no context was recorded
    actor_name: str
    actor_email: str
    actor_user_id: str | None
    actor_membership_id: str | None
    object_label: str
    changes: list[FieldChange] = field(default_factory=list)
    method: str = ""
    url: str = ""
    task: str = ""

    @property
    def who(self) -> str:
        """The name a page shows: the person, or what made the change when no person did."""
        return self.actor_name or self.actor_email or NO_PERSON.get(self.source, "Someone")

    @property
    def actor_initials(self) -> str:
        parts = (self.actor_name or self.actor_email or "?").replace("@", " ").replace(".", " ").split()
        return "".join(p[0] for p in parts[:2]).upper() or "?"


def encode_cursor(at: dt.datetime, pgh_id) -> str:
    return base64.urlsafe_b64encode(f"{at.isoformat()}|{pgh_id}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[dt.datetime, str]:
    try:
        at, pgh_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|", 1)
        return dt.datetime.fromisoformat(at), str(uuid.UUID(pgh_id))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError("invalid history cursor") from exc


def _shown_fields(event_model, model, actor, hidden: set[str] | None = None) -> list[models.Field]:
    hidden = (hidden_fields(actor, model) if hidden is None else hidden) | NOT_SHOWN
    tracked = {f.name for f in model._meta.concrete_fields}
    return [
        f for f in event_model._meta.concrete_fields
        if f.name in tracked and f.name not in hidden and not f.name.startswith("pgh_")
    ]


def _related_labels(rows, fields, actor) -> dict[tuple[type, Any], str]:
    """Names of every record the rows point at: one query per referenced model, not per row."""
    from crm.access.policy import visible

    wanted: dict[type, set] = defaultdict(set)
    for f in fields:
        if f.is_relation:
            for row in rows:
                value = getattr(row, f.attname)
                if value is not None:
                    wanted[f.related_model].add(value)
    labels: dict[tuple[type, Any], str] = {}
    for related, ids in wanted.items():
        select, name = RELATED_LABELS.get(related._meta.label_lower, ((), str))
        qs = related._base_manager.filter(pk__in=ids).select_related(*select)
        if any(f.name == "tenant" for f in related._meta.concrete_fields):
            qs = visible(qs, actor, "read")
        for obj in qs:
            labels[(related, obj.pk)] = name(obj)
    return labels


def _display(f: models.Field, value, labels) -> str:
    if value is None or value == "":
        return ""
    if f.is_relation:
        return labels.get((f.related_model, value), UNAVAILABLE)
    if f.flatchoices:
        return str(dict(f.flatchoices).get(value, value))
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, dt.datetime):
        return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")
    if isinstance(value, dt.date):
        return formats.date_format(value, "DATE_FORMAT")
    return str(value)


@dataclass(frozen=True)
class HistoryPage:
    entries: list[HistoryEntry]
    next_cursor: str | None  # pass as `before` for the older entries; None on the last page


def history_for(obj, *, actor, limit: int = 50, before: str | None = None) -> list[HistoryEntry]:
    """The record's history, newest first, as `actor` may see it: who, when, through what, and
    each field's change from → to (labels and choice names, referenced records by name)."""
    return history_page(obj, actor=actor, limit=limit, before=before).entries


def history_page(obj, *, actor, limit: int = 50, before: str | None = None) -> HistoryPage:
    """One page of history_for(), with the cursor of the next (older) page.

    Queries: one for the events, plus one per model the shown fields reference, however long the
    history. `before` is a page's `next_cursor`.
    """
    from crm.access.policy import require

    model = obj._meta.concrete_model
    event_model = event_model_of(model)
    if event_model is None:
        raise ImproperlyConfigured(f"{model._meta.label} is not tracked (crm.audit.history.track)")
    require(actor, "read", obj)
    if obj.tenant_id != actor.tenant_id:  # require() says so today; history never crosses tenants
        raise PermissionDenied("This record belongs to another company.")

    qs = event_model.objects.for_tenant(actor.tenant_id).filter(pgh_obj_id=obj.pk)
    if before:
        at, pgh_id = decode_cursor(before)
        qs = qs.filter(models.Q(pgh_created_at__lt=at) | models.Q(pgh_created_at=at, pgh_id__lt=pgh_id))
    # one more than shown: the oldest shown change needs the state before it
    rows = list(qs.order_by("-pgh_created_at", "-pgh_id")[: limit + 1])
    page, has_more = rows[:limit], len(rows) > limit
    from crm.access.fields import custom_names

    hidden = hidden_fields(actor, model)
    fields = _shown_fields(event_model, model, actor, hidden)
    custom_hidden = custom_names(hidden)
    labels = _related_labels(rows, fields, actor)
    object_label = str(model._meta.verbose_name)

    entries = []
    for i, row in enumerate(page):
        previous = rows[i + 1] if i + 1 < len(rows) else None
        changes = [] if row.pgh_label == "delete" else _changes(row, previous, fields, labels, custom_hidden)
        if row.pgh_label == "update" and not changes:
            continue  # only fields this actor may not see changed
        context = row.pgh_context or {}
        # a person acting from another of their companies (accepting an invitation) is named,
        # but the ids of that other company's membership are not shown here
        own = context.get("tenant") in (None, str(obj.tenant_id))
        entries.append(HistoryEntry(
            id=str(row.pgh_id),
            action=VERBS.get(row.pgh_label, row.pgh_label),
            at=row.pgh_created_at,
            source=context.get("source") or "system",
            actor_name=context.get("name") or context.get("email") or "",
            actor_email=context.get("email") or "",
            actor_user_id=context.get("user"),
            actor_membership_id=context.get("membership") if own else None,
            object_label=object_label,
            changes=changes,
            method=context.get("method", ""),
            url=context.get("url", ""),
            task=context.get("task", ""),
        ))
    next_cursor = encode_cursor(page[-1].pgh_created_at, page[-1].pgh_id) if has_more else None
    return HistoryPage(entries=entries, next_cursor=next_cursor)


def _is_unset(f: models.Field, value) -> bool:
    """Empty (None, "", {}, []) or the field's plain default (False, "normal"...)."""
    if value is None or value == "" or (isinstance(value, (dict, list)) and not value):
        return True
    return f.has_default() and not callable(f.default) and value == f.default


def _without(value, names: frozenset):
    """A custom-values dict without the hidden custom fields' values."""
    if not names or not isinstance(value, dict):
        return value
    return {k: v for k, v in value.items() if k not in names}


def _changes(row, previous, fields, labels, custom_hidden: frozenset = frozenset()) -> list[FieldChange]:
    changes = []
    for f in fields:
        after = getattr(row, f.attname)
        if f.name == "custom":
            after = _without(after, custom_hidden)
        if row.pgh_label == "insert":
            if _is_unset(f, after):
                continue  # a new record's empty and default fields are no news
            before, known = None, True
        elif previous is not None:
            before, known = getattr(previous, f.attname), True
            if f.name == "custom":
                before = _without(before, custom_hidden)
            if before == after:
                continue
        else:  # the record predates its history: what it was is not known
            before, known = None, False
        changes.append(FieldChange(
            field=f.name, label=capfirst(str(f.verbose_name)), before=before, after=after,
            before_display=_display(f, before, labels), after_display=_display(f, after, labels),
            before_known=known,
        ))
    return changes
