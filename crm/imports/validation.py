"""Checking every row of a file, in plain Python, in batches.

For each batch of rows (BATCH), phase 1 parses every mapped cell (one small function per column,
chosen once: no per-row dispatch on field kinds) and notes duplicates within the file; phase 2
resolves what needs the database for the whole batch at once: owners (one query per job, members
are few), accounts and contacts referred to (one query per batch, through policy.visible: a
record the user cannot see is "unknown", exactly as if it did not exist) and existing duplicates
(one query per batch, `= ANY` on indexed columns: leakproof, so indexed under RLS). No serializer,
no full_clean, no query per row.

The result of each row is either a list of `(column, message)` errors or the values to store;
`Validator.run()` writes the valid rows to a spool file in PostgreSQL's COPY text format (read by
writing.py), the filterable custom values to a second spool, and the rejected rows to the error
CSV (the original cells plus "Line" and "Errors" columns: fix and re-import it).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import Q
from django.utils import timezone
from django_countries import countries

from crm.access import policy
from crm.customfields import values as cv
from crm.customfields.models import FieldType
from crm.tenancy.ids import new_id
from crm.tenancy.models import Membership
from crm.tenancy.search import normalise_text

from . import reading
from .models import MAX_STORED_ERRORS, DuplicatePolicy
from .objects import Field, Importer

BATCH = 5000
PREVIEW_ROWS = 20
CUSTOM_PREFIX = "custom."
_DATE_SPEC = cv.Spec(None, "date", "Date", FieldType.DATE, False, None, ())
_NUMBER_SPEC = cv.Spec(None, "number", "Number", FieldType.NUMBER, False, None, ())
_FLAG_SPEC = cv.Spec(None, "flag", "Flag", FieldType.CHECKBOX, False, None, ())
DATETIME_FORMATS = ("%d.%m.%Y %H:%M", "%d/%m/%Y %H:%M", "%d.%m.%Y %H:%M:%S", "%d/%m/%Y %H:%M:%S")
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_text(value) -> str:
    """One value in PostgreSQL's COPY text format."""
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        return value.translate(_COPY_ESCAPES).replace("\x00", "")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False).translate(_COPY_ESCAPES)
    return str(value)


# --- cell parsers: value -> stored value, or ValueError(message) -----------------------------


def _text(f: Field) -> Callable:
    limit = f.max_length

    def parse(raw):
        text = reading.cell_text(raw).replace("\x00", "")
        if limit and len(text) > limit:
            raise ValueError(f"Too long: at most {limit:,} characters (this has {len(text):,}).")
        return text
    return parse


def _email(raw):
    email = reading.cell_text(raw).lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ValueError(f"“{reading.cell_text(raw)}” is not an email address.") from None
    return email


def _choice(f: Field) -> Callable:
    index = {}
    for value, label in f.choices:
        index[value.casefold()] = value
        index[label.casefold()] = value
    shown = ", ".join(label for _, label in f.choices[:12]) + (" …" if len(f.choices) > 12 else "")

    def parse(raw):
        text = reading.cell_text(raw)
        found = index.get(text.casefold())
        if found is None:
            raise ValueError(f"“{text}” is not one of the choices for {f.label} ({shown}).")
        return found
    return parse


def _date(raw):
    return cv.coerce(_DATE_SPEC, raw)  # the one date rule (ISO fast path included)


def _datetime(raw):
    if isinstance(raw, dt.datetime):
        value = raw
    elif isinstance(raw, dt.date):
        value = dt.datetime.combine(raw, dt.time())
    else:
        text = reading.cell_text(raw)
        try:
            value = dt.datetime.fromisoformat(text)
        except ValueError:
            value = None
            for fmt in DATETIME_FORMATS:
                try:
                    value = dt.datetime.strptime(text, fmt)
                    break
                except ValueError:
                    continue
            if value is None:
                try:
                    value = dt.datetime.combine(dt.date.fromisoformat(cv.coerce(_DATE_SPEC, text)), dt.time())
                except ValueError:
                    raise ValueError(f"“{text}” is not a date and time: use YYYY-MM-DD HH:MM, "
                                     "e.g. 2026-03-31 14:30.") from None
    if timezone.is_naive(value):
        value = timezone.make_aware(value, timezone.get_default_timezone())
    return value.isoformat()


def _int(raw):
    value = cv.coerce(_NUMBER_SPEC, raw)
    if not isinstance(value, int) or value < 0 or value > 9_000_000_000_000_000:
        raise ValueError(f"“{reading.cell_text(raw)}” is not a whole number of 0 or more.")
    return value


def _bool(raw):
    return cv.coerce(_FLAG_SPEC, raw)


_COUNTRY_INDEX: dict[str, str] = {}


def _country(raw):
    if not _COUNTRY_INDEX:
        for code, name in countries:
            _COUNTRY_INDEX[code.casefold()] = code
            _COUNTRY_INDEX[str(name).casefold()] = code
        for alias, code in (("uk", "GB"), ("usa", "US"), ("united states of america", "US"), ("deutschland", "DE")):
            _COUNTRY_INDEX[alias] = code
    text = reading.cell_text(raw)
    code = _COUNTRY_INDEX.get(text.casefold())
    if code is None:
        raise ValueError(f"“{text}” is not a country: use its name or two-letter code (DE, FR, US…).")
    return code


def _currency(raw):
    text = reading.cell_text(raw).upper()
    if len(text) != 3 or not text.isalpha():
        raise ValueError(f"“{reading.cell_text(raw)}” is not a currency code: use three letters, e.g. EUR.")
    return text


def _website(raw):
    from accounts.services import normalise_website

    try:
        return normalise_website(reading.cell_text(raw))
    except ValidationError:
        raise ValueError(f"“{reading.cell_text(raw)}” is not a web address: use the form example.com.") from None


def _phone(raw, region):
    result = _phone_cached(reading.cell_text(raw), region or None)
    if isinstance(result, ValueError):
        raise result
    return result


@functools.lru_cache(maxsize=65536)  # a company's switchboard number repeats on many rows
def _phone_cached(text: str, region):
    # the contacts' own normalisation (phonenumbers, E.164)
    from contacts.services import normalise_phone

    try:
        return normalise_phone(text, region)
    except ValidationError as exc:
        return ValueError(exc.messages[0])


# --- the validator --------------------------------------------------------------------------


@dataclass
class Row:
    line: int
    cells: list
    values: dict = field(default_factory=dict)  # column -> stored value
    custom: dict = field(default_factory=dict)
    errors: list = field(default_factory=list)  # (column header, message)
    refs: dict = field(default_factory=dict)  # field key -> (column header, raw reference)
    action: str = "create"
    record_id: object = None
    match: tuple = ()  # the keys that find an existing record


@dataclass
class Outcome:
    rows: int = 0
    valid: int = 0
    invalid: int = 0
    to_create: int = 0
    to_update: int = 0
    to_skip: int = 0
    error_count: int = 0
    errors: list = field(default_factory=list)
    preview: list = field(default_factory=list)


class Validator:
    def __init__(self, *, actor: Membership, importer: Importer, specs: list, header: list[str],
                 mapping: list[str], duplicates: str = DuplicatePolicy.SKIP):
        self.actor = actor
        self.importer = importer
        self.specs = {f"{CUSTOM_PREFIX}{s.name}": s for s in specs}
        self.header = header
        self.mapping = mapping
        self.duplicates = duplicates
        self.tenant_id = actor.tenant_id
        self.seen: dict[str, int] = {}  # in-file duplicate keys -> first line
        self.columns = []  # (index, header, key, parse)
        self.mapped_keys = set()
        for index, key in enumerate(mapping):
            if not key:
                continue
            label = header[index] if index < len(header) and header[index] else f"Column {index + 1}"
            self.columns.append((index, label, key, self._parser(key)))
            self.mapped_keys.add(key)
        self.column_of = {key: label for _, label, key, _ in self.columns}
        self.position = {label: index for index, label, _, _ in reversed(self.columns)}
        self._owners = None
        self._editable_owner_ids = None
        self.now = timezone.now().isoformat()

    # parsers chosen once per column
    def _parser(self, key: str) -> Callable | None:
        if key in self.specs:
            spec = self.specs[key]
            return lambda raw: cv.coerce(spec, raw)
        f = self.importer.field(key)
        if f is None:
            raise KeyError(key)
        return {
            "text": lambda: _text(f), "email": lambda: _email, "choice": lambda: _choice(f),
            "date": lambda: _date, "datetime": lambda: _datetime, "int": lambda: _int, "bool": lambda: _bool,
            "country": lambda: _country, "currency": lambda: _currency, "website": lambda: _website,
            "phone": lambda: None, "owner": lambda: None, "account": lambda: None, "contact": lambda: None,
        }[f.kind]()

    # --- database facts, loaded once --------------------------------------------------------

    def owners(self) -> dict:
        """email -> (membership id, may the actor assign it)."""
        if self._owners is None:
            members = Membership.objects.for_tenant(self.tenant_id).filter(is_active=True).values_list("id", "user__email")
            anyone = self.importer.may_assign_anyone(self.actor)
            team = set(policy.subordinate_ids(self.actor))
            self._owners = {email.lower(): (pk, anyone or pk in team) for pk, email in members}
        return self._owners

    def editable_owner_ids(self) -> set | None:
        """Owners whose records the actor may edit (None: all, for admins)."""
        if policy.sees_all(self.actor):
            return None
        if self._editable_owner_ids is None:
            self._editable_owner_ids = set(policy.subordinate_ids(self.actor))
        return self._editable_owner_ids

    # --- phase 1: cells ---------------------------------------------------------------------

    def parse(self, line: int, cells: list) -> Row:
        row = Row(line, cells)
        errors, values, custom = row.errors, row.values, row.custom
        phone = None
        for index, label, key, parse in self.columns:
            raw = cells[index] if index < len(cells) else None
            if reading.is_blank(raw):
                continue
            if parse is None:  # references and phones: after the row's other cells
                if key == "phone":
                    phone = (label, raw)
                else:
                    row.refs[key] = (label, reading.cell_text(raw))
                continue
            try:
                value = parse(raw)
            except ValueError as exc:
                errors.append((label, str(exc)))
                continue
            if key in self.specs:
                if value is not None:
                    custom[self.specs[key].name] = value
            elif key == "website":
                values["website"], values["domain"] = value
            else:
                values[key] = value
        if phone is not None:
            region = values.get("billing_country") or values.get("mailing_country")
            try:
                values["phone"] = _phone(phone[1], region)
            except ValueError as exc:
                errors.append((phone[0], str(exc)))
        self._required(row)
        self._in_file_duplicates(row)
        return row

    def _required(self, row: Row) -> None:
        failed = {label for label, _ in row.errors}
        for f in self.importer.fields:
            if f.required and not row.values.get(f.key) and f.key not in row.refs:
                label = self.column_of.get(f.key, f.label)
                if label not in failed:
                    row.errors.append((label, f"{f.label} is required: this cell is empty."))
        for key, spec in self.specs.items():
            if spec.name in row.custom:
                continue
            label = self.column_of.get(key, spec.label)
            if spec.default is not None:
                try:
                    default = cv.coerce(spec, spec.default)
                except ValueError:
                    default = None
                if default is not None:
                    row.custom[spec.name] = default
                    continue
            if spec.required and label not in failed:
                row.errors.append((label, f"{spec.label} is required: this cell is empty."))
        if self.importer.key == "activities":
            # as contacts.services.activity_log does: logged activities are done and happened now
            kind = row.values.get("kind")
            if kind and "status" not in row.values:
                row.values["status"] = "open" if kind in ("task", "meeting") else "done"
            if kind and kind != "task" and "occurred_at" not in row.values:
                row.values["occurred_at"] = self.now
            if kind and kind not in ("meeting", "task") and not ({"account", "contact"} & set(row.refs)):
                row.errors.append((self.column_of.get("account", "Account"),
                                   "Say which account or contact this was with (an account name or a contact's email)."))
            if row.values.get("ends_at") and row.values.get("occurred_at") and row.values["ends_at"] < row.values["occurred_at"]:
                row.errors.append((self.column_of["ends_at"], "It cannot end before it starts."))

    def _in_file_duplicates(self, row: Row) -> None:
        keys = []
        if self.importer.match == "email" and row.values.get("email"):
            keys.append(("email", row.values["email"], self.column_of.get("email")))
        elif self.importer.match == "domain_or_name":
            if row.values.get("domain"):
                keys.append(("domain", row.values["domain"], self.column_of.get("website")))
            if row.values.get("name"):
                keys.append(("name", normalise_text(row.values["name"]), self.column_of.get("name")))
        row.match = tuple((kind, value) for kind, value, _ in keys)
        for kind, value, label in keys:
            first = self.seen.get(f"{kind}:{value}")
            if first is not None:
                what = {"email": "email address", "domain": "website", "name": "account name"}[kind]
                row.errors.append((label, f"Duplicate in this file: line {first} has the same {what}."))
                return
        if not row.errors:
            for kind, value, _ in keys:
                self.seen[f"{kind}:{value}"] = row.line

    # --- phase 2: the batch's references and existing records -------------------------------

    def resolve(self, batch: list[Row]) -> None:
        owners = self.owners() if any("owner" in r.refs for r in batch) else {}
        account_refs = {r.refs[k][1] for r in batch for k in ("account", "parent") if k in r.refs}
        contact_refs = {r.refs["contact"][1] for r in batch if "contact" in r.refs}
        accounts = self._accounts(account_refs) if account_refs else {}
        contacts = self._contacts(contact_refs) if contact_refs else {}
        for row in batch:
            for key, (label, raw) in row.refs.items():
                if key == "owner":
                    found = owners.get(raw.lower())
                    if found is None:
                        row.errors.append((label, f"Unknown owner: nobody in your company has the email “{raw}”."))
                    elif not found[1]:
                        row.errors.append((label, f"You cannot give records to {raw}: choose yourself or someone "
                                                  "in your team."))
                    else:
                        row.values["owner"] = found[0]
                elif key in ("account", "parent"):
                    found = accounts.get(_ref_key(raw))
                    if found is None:
                        row.errors.append((label, f"Unknown account: no account “{raw}” that you can see "
                                                  "(use its exact name, website or id)."))
                    elif found == "ambiguous":
                        row.errors.append((label, f"Several accounts are called “{raw}”: use the website or id."))
                    else:
                        row.values[key] = found
                elif key == "contact":
                    found = contacts.get(_ref_key(raw))
                    if found is None:
                        row.errors.append((label, f"Unknown contact: no contact “{raw}” that you can see "
                                                  "(use the email or id)."))
                    else:
                        row.values["contact"] = found[0]
                        if "account" not in row.values and found[1]:
                            row.values["account"] = found[1]
        if self.importer.match:
            self._existing(batch)

    def _accounts(self, refs: set[str]) -> dict:
        from accounts.models import Account

        ids, domains, names = [], [], []
        for raw in refs:
            if _is_uuid(raw):
                ids.append(raw)
            names.append(normalise_text(raw))
            if "." in raw and " " not in raw.strip():
                try:
                    domains.append(_website(raw)[1])
                except ValueError:
                    pass
        qs = policy.visible(Account.objects.for_tenant(self.tenant_id), self.actor, "read")
        condition = Q(name_key__in=names)
        if domains:
            condition |= Q(domain__in=domains)
        if ids:
            condition |= Q(id__in=ids)
        found: dict = {}
        by_domain, by_name = {}, {}
        for pk, domain, name_key in qs.filter(condition).values_list("id", "domain", "name_key"):
            found[f"id:{pk}"] = pk
            if domain:
                by_domain[domain] = pk if by_domain.get(domain) in (None, pk) else "ambiguous"
            by_name[name_key] = pk if by_name.get(name_key) in (None, pk) else "ambiguous"
        result = {}
        for raw in refs:
            key = _ref_key(raw)
            if _is_uuid(raw) and f"id:{uuid.UUID(raw)}" in found:
                result[key] = found[f"id:{uuid.UUID(raw)}"]
                continue
            domain = None
            if "." in raw and " " not in raw.strip():
                try:
                    domain = _website(raw)[1]
                except ValueError:
                    domain = None
            hit = by_domain.get(domain) if domain else None
            result[key] = hit if hit is not None else by_name.get(normalise_text(raw))
        return result

    def _contacts(self, refs: set[str]) -> dict:
        from contacts.models import Contact

        ids = [r for r in refs if _is_uuid(r)]
        emails = [r.lower() for r in refs if "@" in r]
        qs = policy.visible(Contact.objects.for_tenant(self.tenant_id), self.actor, "read")
        condition = Q(email__in=emails)
        if ids:
            condition |= Q(id__in=ids)
        by_email, by_id = {}, {}
        for pk, email, account_id in qs.filter(condition).order_by("id").values_list("id", "email", "account_id"):
            by_email.setdefault(email, (pk, account_id))
            by_id[str(pk)] = (pk, account_id)
        return {_ref_key(r): by_id.get(str(uuid.UUID(r))) if _is_uuid(r) else by_email.get(r.lower()) for r in refs}

    def _existing(self, batch: list[Row]) -> None:
        candidates = [r for r in batch if not r.errors and r.match]
        if not candidates:
            return
        found = self._matches({(kind, value) for r in candidates for kind, value in r.match})
        editable = self.editable_owner_ids()
        for row in candidates:
            hit = next((found[k] for k in row.match if k in found), None)
            if hit is None:
                continue
            record_id, owner_id = hit
            if self.duplicates == DuplicatePolicy.SKIP:
                row.action, row.record_id = "skip", record_id
            elif self.duplicates == DuplicatePolicy.UPDATE:
                if editable is not None and owner_id not in editable:
                    kind = row.match[0][0]
                    label = self.column_of.get("email" if kind == "email" else ("website" if kind == "domain" else "name"))
                    row.errors.append((label, f"A {self.importer.singular} with this "
                                              f"{'email address' if kind == 'email' else kind} already exists and "
                                              "belongs to someone whose records you may not change."))
                else:
                    row.action, row.record_id = "update", record_id

    def _matches(self, keys: set) -> dict:
        """(kind, value) -> (record id, owner id) of the existing record, oldest first."""
        found: dict = {}
        if self.importer.match == "email":
            from django.db import connection

            # one array parameter, `= ANY`: leakproof on text, an index scan of (tenant_id, email)
            emails = [v for _, v in keys]
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT email, id, owner_id FROM contacts_contact WHERE tenant_id = %s "
                    "AND email = ANY(%s::text[]) ORDER BY id", [self.tenant_id, emails])
                rows = cursor.fetchall()
                # other (non-primary) addresses: two index lookups rather than a join the planner
                # may misjudge on a freshly loaded tenant
                cursor.execute("SELECT email, contact_id FROM contacts_contactemail WHERE tenant_id = %s "
                               "AND email = ANY(%s::text[]) ORDER BY contact_id", [self.tenant_id, emails])
                secondary = cursor.fetchall()
                if secondary:
                    cursor.execute("SELECT id, owner_id FROM contacts_contact WHERE tenant_id = %s "
                                   "AND id = ANY(%s::uuid[])", [self.tenant_id, [str(pk) for _, pk in secondary]])
                    owners = dict(cursor.fetchall())
                    rows += [(email, pk, owners[pk]) for email, pk in secondary if pk in owners]
            for email, pk, owner_id in rows:
                found.setdefault(("email", email), (pk, owner_id))
        else:
            from accounts.models import Account

            domains = [v for k, v in keys if k == "domain"]
            names = [v for k, v in keys if k == "name"]
            qs = Account.objects.for_tenant(self.tenant_id).filter(Q(domain__in=domains) | Q(name_key__in=names))
            for pk, domain, name_key, owner_id in qs.order_by("id").values_list("id", "domain", "name_key", "owner_id"):
                if domain:
                    found.setdefault(("domain", domain), (pk, owner_id))
                found.setdefault(("name", name_key), (pk, owner_id))
        return found

    # --- the whole file ---------------------------------------------------------------------

    def run(self, rows: Iterable[tuple[int, list]], *, directory: Path, write_spool: bool = True,
            progress: Callable[[int], None] | None = None, in_tenant: Callable | None = None) -> Outcome:
        """Check every row after the header; write spool files and the error CSV into `directory`.
        `in_tenant()` is a context manager factory that wraps each batch's queries (a short
        transaction in the tenant); `progress(rows_done)` is called after each batch."""
        from contextlib import nullcontext

        outcome = Outcome()
        columns = self.stage_columns()
        spool = open(directory / "records.copy", "w", encoding="utf-8") if write_spool else None
        values_spool = open(directory / "values.copy", "w", encoding="utf-8") if write_spool else None
        rejected = open(directory / "errors.csv", "w", encoding="utf-8-sig", newline="")
        import csv

        rejected_writer = csv.writer(rejected)
        rejected_writer.writerow(["Line", "Errors", *self.header])
        try:
            batch: list[Row] = []
            for line, cells in rows:
                if line == 1:
                    continue
                if not cells or all(reading.is_blank(c) for c in cells):
                    continue
                batch.append(self.parse(line, cells))
                if len(batch) >= BATCH:
                    self._finish(batch, outcome, columns, spool, values_spool, rejected_writer, in_tenant or nullcontext)
                    batch = []
                    if progress:
                        progress(outcome.rows)
            if batch:
                self._finish(batch, outcome, columns, spool, values_spool, rejected_writer, in_tenant or nullcontext)
                if progress:
                    progress(outcome.rows)
        finally:
            for fh in (spool, values_spool, rejected):
                if fh is not None:
                    fh.close()
        return outcome

    def _finish(self, batch, outcome, columns, spool, values_spool, rejected_writer, in_tenant) -> None:
        with in_tenant():
            self.resolve(batch)
        creating_owner = self.actor.pk
        for row in batch:
            outcome.rows += 1
            if len(outcome.preview) < PREVIEW_ROWS:
                outcome.preview.append(self._preview(row))
            if row.errors:
                row.errors.sort(key=lambda e: self.position.get(e[0], len(self.header)))  # left to right
                outcome.invalid += 1
                outcome.error_count += len(row.errors)
                for label, message in row.errors:
                    if len(outcome.errors) < MAX_STORED_ERRORS:
                        outcome.errors.append({"line": row.line, "column": label, "message": message})
                rejected_writer.writerow([row.line, "; ".join(f"{label}: {message}" for label, message in row.errors),
                                          *[reading.cell_text(c) for c in row.cells]])
                continue
            outcome.valid += 1
            if row.action == "skip":
                outcome.to_skip += 1
                continue
            if row.action == "update":
                outcome.to_update += 1
            else:
                outcome.to_create += 1
                row.record_id = new_id()
                row.values.setdefault("owner", creating_owner)
            if spool is None:
                continue
            values = row.values
            spool.write("\t".join([str(row.line), row.action, str(row.record_id),
                                   *[copy_text(values.get(c)) for c in columns],
                                   copy_text(row.custom)]) + "\n")
            for name, value in row.custom.items():
                spec = self.specs.get(f"{CUSTOM_PREFIX}{name}")
                if spec is None:
                    continue
                for index_row in cv.index_rows(spec, value):
                    values_spool.write("\t".join([
                        str(row.record_id), str(spec.id), copy_text(index_row.get("text_key")),
                        copy_text(index_row.get("number")), copy_text(index_row.get("date")),
                        copy_text(index_row.get("flag")),
                    ]) + "\n")

    def _preview(self, row: Row) -> dict:
        by_label = {}
        for label, message in row.errors:
            by_label.setdefault(label, message)
        cells = []
        for index, label, _key, _parse in self.columns:
            raw = row.cells[index] if index < len(row.cells) else None
            cells.append({"value": reading.cell_text(raw), "error": by_label.get(label, "")})
        return {"line": row.line, "cells": cells, "action": "error" if row.errors else row.action,
                "errors": [{"column": c, "message": m} for c, m in row.errors]}

    def stage_columns(self) -> list[str]:
        """The record columns in the spool, after (line, action, id); `custom` comes last."""
        columns = [f.key for f in self.importer.fields]
        if self.importer.key == "accounts":
            columns.append("domain")
        return columns


def _is_uuid(value: str) -> bool:
    if len(value) not in (32, 36):
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _ref_key(raw: str) -> str:
    return raw.strip().casefold()
