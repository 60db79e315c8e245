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
import gc
import json
import logging
import os
import pickle
import queue
import re
import signal
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, validate_email
from django.db.models import Q
from django.utils import timezone
from django_countries import countries
from phonenumbers import phonenumberutil as pnu
from phonenumbers.phonemetadata import PhoneMetadata
from uuid_utils import uuid7

from crm.access import fields as fls
from crm.access import policy
from crm.customfields import values as cv
from crm.customfields.models import FieldType
from crm.tenancy.models import Membership
from crm.tenancy.search import normalise_text

from . import reading
from .models import MAX_STORED_ERRORS, DuplicatePolicy
from .objects import Field, Importer, guard_mapping

logger = logging.getLogger(__name__)
BATCH = 5000
PREVIEW_ROWS = 20
_VALUE_COLUMNS = ("text_key", "number", "date", "flag")  # values.copy after (record id, field id)
POOL_MIN_ROWS = 20_000
HELPER_QUEUE = 4  # batches sent to each helper and not collected yet (parsing, waiting, done)  # below this a file is parsed in one process: forking costs more than it saves
CUSTOM_PREFIX = "custom."
_DATE_SPEC = cv.Spec(None, "date", "Date", FieldType.DATE, False, None, ())
_NUMBER_SPEC = cv.Spec(None, "number", "Number", FieldType.NUMBER, False, None, ())
_FLAG_SPEC = cv.Spec(None, "flag", "Flag", FieldType.CHECKBOX, False, None, ())
DATETIME_FORMATS = ("%d.%m.%Y %H:%M", "%d/%m/%Y %H:%M", "%d.%m.%Y %H:%M:%S", "%d/%m/%Y %H:%M:%S")
_json = json.JSONEncoder(ensure_ascii=False).encode  # json.dumps(…, ensure_ascii=False) without a new encoder per call
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
        if "\\" not in value and value.isprintable():  # no tab, newline, CR, NUL or backslash: as is
            return value
        return value.translate(_COPY_ESCAPES).replace("\x00", "")
    if isinstance(value, dict | list):
        return _json(value).translate(_COPY_ESCAPES)
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


# Django's own email patterns, compiled once here: Django's are lazy objects whose every use goes
# through a proxy (~15 % of a contact row's check). An address both match is one Django accepts;
# anything else gets Django's full verdict, so the result is the same.
_EMAIL_USER = re.compile(EmailValidator.user_regex.pattern, EmailValidator.user_regex.flags)
_EMAIL_DOMAIN = re.compile(EmailValidator.domain_regex.pattern, EmailValidator.domain_regex.flags)


def _email(raw):
    email = reading.cell_text(raw).lower()
    if len(email) <= 320 and "@" in email:
        user, domain = email.rsplit("@", 1)
        if _EMAIL_USER.match(user) and _EMAIL_DOMAIN.match(domain):
            return email
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

    result = _phone_international(text, region)
    if result is not None:
        return result
    try:
        return normalise_phone(text, region)
    except ValidationError as exc:
        return ValueError(exc.messages[0])


# phonenumbers compiles its metadata's patterns on every use unless told to keep them (its own
# switch, process-wide, bounded by the metadata): a quarter of the validity check's cost
phonenumbers.enable_pattern_cache()
_INTERNATIONAL = re.compile(r"\+[1-9][0-9]*(?: [0-9]+)*")
_NATIONAL_PREFIX: dict = {}  # a region's national_prefix_for_parsing -> compiled


def _phone_international(text: str, region):
    """normalise_phone(text, region) for the common "+49 30 1234567" (a plus, the country code and
    digits, single spaces between groups), without phonenumbers.parse: half of that function's cost
    is finding out what kind of input it has. What parse would do with such a text is done here
    step by step (its steps: plus sign, country code, national prefix, lengths, leading zeros) and
    the validity check, the E.164 text and the messages are phonenumbers' and normalise_phone's.
    Anything this does not cover exactly (no country code, a national prefix after it, lengths
    parse rejects) returns None: the caller takes the full path. tests/test_parse_helpers.py compares both
    on many numbers."""
    if len(text) > 250 or not _INTERNATIONAL.fullmatch(text):
        return None
    digits = text[1:].replace(" ", "")
    country_code = 0
    for size in (1, 2, 3):
        if size <= len(digits) and int(digits[:size]) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            country_code, national = int(digits[:size]), digits[size:]
            break
    if not country_code or len(digits) <= 2 or not 2 <= len(national) <= 17:
        return None
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(
        country_code, phonenumbers.region_code_for_country_code(country_code))
    if metadata is None:
        return None
    prefix = metadata.national_prefix_for_parsing
    if prefix:
        if prefix not in _NATIONAL_PREFIX:
            _NATIONAL_PREFIX[prefix] = pnu.re_compile(prefix)
        prefix = _NATIONAL_PREFIX[prefix]
    else:
        prefix = None
    if prefix is not None and prefix.match(national):  # parse may strip it: its own rules decide
        return None
    number = phonenumbers.PhoneNumber(country_code=country_code, national_number=int(national))
    pnu._set_italian_leading_zeros_for_phone_number(national, number)
    if not phonenumbers.is_valid_number(number):
        return ValueError(f"{text} is not a valid phone number{f' in {region}' if region else ''}.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


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
        # field-level security: no column may go to a field the actor may not set (the guard of
        # the bulk write, see objects.guard_mapping); raises ValidationError on `mapping`
        guard_mapping(actor, importer, header, mapping)
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
        self._required_fields = [f for f in importer.fields if f.required]
        # each custom field's default, coerced once (a default that no longer fits is no default)
        self._spec_defaults = []
        for key, spec in self.specs.items():
            default = None
            if spec.default is not None:
                try:
                    default = cv.coerce(spec, spec.default)
                except ValueError:
                    default = None
            self._spec_defaults.append((spec, self.column_of.get(key, spec.label), default))
        self._owners = None
        self.now = timezone.now().isoformat()

    # parsers chosen once per column
    def _parser(self, key: str) -> Callable | None:
        if key in self.specs:
            spec = self.specs[key]
            if spec.type == FieldType.PICKLIST:
                options = spec.option_index  # a property that builds its dict on every use: once here

                def pick(raw):
                    found = options.get(raw.strip().casefold()) if isinstance(raw, str) else None
                    return found if found is not None else cv.coerce(spec, raw)  # misses: its message
                return pick
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

    def editable_ids(self, ids) -> set:
        """Of these records (which the actor sees), the ones they may edit: the visibility
        engine's answer for "edit" (ownership, the hierarchy, read/write shares, rules and teams,
        modify all), by key."""
        ids = list(ids)
        if not ids:
            return set()
        qs = self.importer.model.objects.for_tenant(self.tenant_id).filter(id__in=ids)
        return set(policy.visible(qs, self.actor, "edit").values_list("id", flat=True))

    # --- phase 1: cells ---------------------------------------------------------------------

    def parse(self, line: int, cells: list) -> Row:
        row = self.parse_cells(line, cells)
        self._in_file_duplicates(row)
        return row

    def parse_cells(self, line: int, cells: list) -> Row:
        """The row's own checks: no database, no state shared between rows (a helper process may
        run it, see ParseHelpers); duplicates within the file are the caller's next step."""
        row = Row(line, cells)
        errors, values, custom = row.errors, row.values, row.custom
        phone = None
        width = len(cells)
        for index, label, key, parse in self.columns:
            raw = cells[index] if index < width else None
            if raw is None or (isinstance(raw, str) and (not raw or raw.isspace())):  # reading.is_blank
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
        return row

    def _required(self, row: Row) -> None:
        failed = {label for label, _ in row.errors}
        for f in self._required_fields:
            if not row.values.get(f.key) and f.key not in row.refs:
                label = self.column_of.get(f.key, f.label)
                if label not in failed:
                    row.errors.append((label, f"{f.label} is required: this cell is empty."))
        for spec, label, default in self._spec_defaults:
            if spec.name in row.custom:
                continue
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
        # one string per key, not a tuple: a million of them are ~50 MB smaller
        seen_keys = [f"{kind}:{value}" for kind, value, _ in keys]
        for key, (kind, _value, label) in zip(seen_keys, keys, strict=True):
            first = self.seen.get(key)
            if first is not None:
                what = {"email": "email address", "domain": "website", "name": "account name"}[kind]
                row.errors.append((label, f"Duplicate in this file: line {first} has the same {what}."))
                return
        if not row.errors:
            for key in seen_keys:
                self.seen[key] = row.line

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
                                                  + ("(use the id: emails are hidden from you)." if "@" in raw and
                                                     "email" in fls.hidden(self.actor, "contacts")
                                                     else "(use the email or id).")))
                    else:
                        row.values["contact"] = found[0]
                        if "account" not in row.values and found[1]:
                            row.values["account"] = found[1]
        if self.importer.match:
            self._existing(batch)

    def _accounts(self, refs: set[str]) -> dict:
        from accounts.models import Account

        ids, domains, names = [], [], []
        # a website domain hidden from the actor is no way to find an account (it would tell them
        # which account has it): such a reference is then looked up by name only
        by_website = "domain" not in fls.hidden(self.actor, "accounts")
        for raw in refs:
            if _is_uuid(raw):
                ids.append(raw)
            names.append(normalise_text(raw))
            if by_website and "." in raw and " " not in raw.strip():
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
            if by_website and "." in raw and " " not in raw.strip():
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
        # an email hidden from the actor finds no contact (no oracle): use the contact's id then
        by_email = "email" not in fls.hidden(self.actor, "contacts")
        emails = [r.lower() for r in refs if "@" in r] if by_email else []
        qs = policy.visible(Contact.objects.for_tenant(self.tenant_id), self.actor, "read")
        condition = Q(email__in=emails)
        if ids:
            condition |= Q(id__in=ids)
        by_email_found, by_id = {}, {}
        for pk, email, account_id in qs.filter(condition).order_by("id").values_list("id", "email", "account_id"):
            if by_email:
                by_email_found.setdefault(email, (pk, account_id))
            by_id[str(pk)] = (pk, account_id)
        return {_ref_key(r): by_id.get(str(uuid.UUID(r))) if _is_uuid(r) else by_email_found.get(r.lower())
                for r in refs}

    def _existing(self, batch: list[Row]) -> None:
        candidates = [r for r in batch if not r.errors and r.match]
        if not candidates:
            return
        found = self._matches({(kind, value) for r in candidates for kind, value in r.match})
        editable = self.editable_ids(found.values()) if self.duplicates == DuplicatePolicy.UPDATE else set()
        for row in candidates:
            record_id = next((found[k] for k in row.match if k in found), None)
            if record_id is None:
                continue
            if self.duplicates == DuplicatePolicy.SKIP:
                row.action, row.record_id = "skip", record_id
            elif self.duplicates == DuplicatePolicy.UPDATE:
                if record_id not in editable:
                    kind = row.match[0][0]
                    label = self.column_of.get("email" if kind == "email" else ("website" if kind == "domain" else "name"))
                    row.errors.append((label, f"A {self.importer.singular} with this "
                                              f"{'email address' if kind == 'email' else kind} already exists and "
                                              "belongs to someone whose records you may not change."))
                else:
                    row.action, row.record_id = "update", record_id

    def _matches(self, keys: set) -> dict:
        """(kind, value) -> id of the existing record the actor can see, oldest first.

        Only records the actor can see (the visibility engine, as every list) count as
        duplicates. A record they cannot see is treated as no match, so the row creates a new
        record, whatever the duplicate policy: skipping it, updating it or refusing the row
        ("belongs to someone else") would each tell them that a colleague's private contact with
        this email exists, which nothing else lets them learn — creating a contact by hand does
        not refuse an email that exists (no uniqueness on emails or domains), and neither does
        this. The cost: a second record beside the hidden one, which the duplicate scan
        (crm.dedup) shows to whoever sees both. A record they see but may not edit (a read-only
        share, a public read-only default) is refused in "update" mode: that reveals nothing
        they could not see."""
        found: dict = {}
        if self.importer.match == "email":
            from contacts.models import Contact, ContactEmail

            # `email IN (…)`: leakproof on text, an index scan of (tenant_id, email); the engine's
            # condition then checks the few rows it finds
            emails = [v for _, v in keys]
            contacts = policy.visible(Contact.objects.for_tenant(self.tenant_id), self.actor, "read")
            rows = list(contacts.filter(email__in=emails).order_by("id").values_list("email", "id"))
            # other (non-primary) addresses: two index lookups rather than a join the planner
            # may misjudge on a freshly loaded tenant
            secondary = list(ContactEmail.objects.for_tenant(self.tenant_id).filter(email__in=emails)
                             .order_by("contact_id").values_list("email", "contact_id"))
            if secondary:
                seen = set(contacts.filter(id__in=[pk for _, pk in secondary]).values_list("id", flat=True))
                rows += [(email, pk) for email, pk in secondary if pk in seen]
            for email, pk in rows:
                found.setdefault(("email", email), pk)
        else:
            from accounts.models import Account

            domains = [v for k, v in keys if k == "domain"]
            names = [v for k, v in keys if k == "name"]
            qs = policy.visible(Account.objects.for_tenant(self.tenant_id), self.actor, "read")
            qs = qs.filter(Q(domain__in=domains) | Q(name_key__in=names))
            for pk, domain, name_key in qs.order_by("id").values_list("id", "domain", "name_key"):
                if domain:
                    found.setdefault(("domain", domain), pk)
                found.setdefault(("name", name_key), pk)
        return found

    # --- the whole file ---------------------------------------------------------------------

    def run(self, rows: Iterable[tuple[int, list]], *, directory: Path, write_spool: bool = True,
            progress: Callable[[int], None] | None = None, in_tenant: Callable | None = None,
            processes: int | None = None, pool_min_rows: int = POOL_MIN_ROWS) -> Outcome:
        """Check every row after the header; write spool files and the error CSV into `directory`.
        `in_tenant()` is a context manager factory that wraps each batch's queries (a short
        transaction in the tenant); `progress(rows_done)` is called after each batch.

        Past `pool_min_rows` rows, with `processes` > 1 (default: check_processes()), the cells of
        later batches are parsed by `processes - 1` helper processes (ParseHelpers) while this
        process resolves and writes the batches before them, in the file's order; with 1, or on a
        system that cannot fork, everything is parsed here. Either way the outcome and the files
        are the same."""
        from contextlib import nullcontext

        outcome = Outcome()
        columns = self.stage_columns()
        spool = open(directory / "records.copy", "w", encoding="utf-8") if write_spool else None
        values_spool = open(directory / "values.copy", "w", encoding="utf-8") if write_spool else None
        rejected = open(directory / "errors.csv", "w", encoding="utf-8-sig", newline="")
        import csv

        rejected_writer = csv.writer(rejected)
        rejected_writer.writerow(["Line", "Errors", *self.header])
        wanted = check_processes() if processes is None else processes
        helpers: ParseHelpers | None = None
        pending: deque = deque()  # (chunk, helpers, helper) sent to a helper, oldest first

        def finish(batch: list[Row]) -> None:
            self._finish(batch, outcome, columns, spool, values_spool, rejected_writer, in_tenant or nullcontext)
            if progress:
                progress(outcome.rows)
            gc.collect(1)  # this batch's garbage (an error's traceback cycle): the young generations only

        # No automatic collections while checking: each batch makes tens of thousands of dicts and
        # lists that live until it is written, so the collector kept running full collections
        # over the whole process (a third of the time spent unpickling a helper's batch, ~10 %
        # of the check in one process). Collected after each batch instead, so memory stays flat.
        collecting = gc.isenabled()
        gc.disable()
        try:
            read = 0
            for chunk in _chunks(rows):
                read += len(chunk)
                if helpers is None and wanted > 1 and read > pool_min_rows:
                    # started late on purpose: below ~20,000 rows forking costs more than it saves
                    helpers = ParseHelpers.start(self, wanted - 1)
                    wanted = 0  # one attempt: None means this process cannot fork here
                if helpers is None or helpers.broken:
                    while pending:
                        finish(self._collect(*pending.popleft()))
                    finish([self.parse(line, cells) for line, cells in chunk])
                    continue
                ready = self._collect(*pending.popleft()) if len(pending) >= helpers.count * HELPER_QUEUE else None
                pending.append((chunk, helpers, helpers.submit(chunk)))
                if ready is not None:
                    finish(ready)  # while the helpers parse the next batches
            while pending:
                finish(self._collect(*pending.popleft()))
        finally:
            if collecting:
                gc.enable()
            if helpers is not None:
                helpers.stop()
            for fh in (spool, values_spool, rejected):
                if fh is not None:
                    fh.close()
        return outcome

    def _collect(self, chunk: list, helpers: ParseHelpers, helper: int) -> list[Row]:
        """A batch back from its helper as rows, with this file's duplicates noted in order; if the
        helper failed, the batch is parsed here (which raises what the helper met, if anything)."""
        parsed = helpers.collect(helper)
        if parsed is None:
            return [self.parse(line, cells) for line, cells in chunk]
        batch = []
        for (line, cells), (values, custom, errors, refs) in zip(chunk, parsed, strict=True):
            row = Row(line, cells, values, custom, errors, refs)
            self._in_file_duplicates(row)
            batch.append(row)
        return batch

    def _finish(self, batch, outcome, columns, spool, values_spool, rejected_writer, in_tenant) -> None:
        with in_tenant():
            self.resolve(batch)
        creating_owner = self.actor.pk
        spec_ids = {spec.name: (spec, str(spec.id)) for spec in self.specs.values()}
        id_text: dict = {}
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
                # crm.tenancy.ids.new_id's UUIDv7, as text: uuid_utils' own object turns into text
                # ~7x faster than the stdlib UUID new_id() returns (1 µs vs 7 µs a row)
                row.record_id = str(uuid7())
                row.values.setdefault("owner", creating_owner)
            if spool is None:
                continue
            get = row.values.get
            record_id = str(row.record_id)
            line = [str(row.line), row.action, record_id]
            for column in columns:  # copy_text, with its two common cases first (empty, plain text)
                value = get(column)
                if value is None:
                    line.append("\\N")
                elif value.__class__ is str and "\\" not in value and value.isprintable():
                    line.append(value)
                elif value.__class__ is uuid.UUID:  # owners, accounts: a few, on many rows
                    text = id_text.get(value)
                    if text is None:
                        text = id_text[value] = str(value)
                    line.append(text)
                else:
                    line.append(copy_text(value))
            line.append(copy_text(row.custom))
            spool.write("\t".join(line) + "\n")
            for name, value in row.custom.items():
                spec, spec_id = spec_ids.get(name, (None, None))
                if spec is None:
                    continue
                for index_row in cv.index_rows(spec, value):
                    values_spool.write("\t".join([
                        record_id, spec_id, *[copy_text(index_row.get(c)) for c in _VALUE_COLUMNS]]) + "\n")

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


def _chunks(rows: Iterable[tuple[int, list]]) -> Iterator[list[tuple[int, list]]]:
    """The file's records after the header, without empty rows, BATCH at a time."""
    chunk: list = []
    for line, cells in rows:
        if line == 1:
            continue
        for cell in cells:  # skip empty rows (reading.is_blank); most rows' first cell says no
            if cell is not None and not (isinstance(cell, str) and (not cell or cell.isspace())):
                break
        else:
            continue
        chunk.append((line, cells))
        if len(chunk) >= BATCH:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def check_processes() -> int:
    """How many processes check a large file (this one and its parse helpers): the setting
    IMPORT_CHECK_PROCESSES, else one per core this process may use, at most 2. The parse is
    about half of a row's check; reading, queries and writing the files stay in this process,
    so one helper keeps two cores busy and a second one mostly adds a third process to share them."""
    from django.conf import settings

    configured = getattr(settings, "IMPORT_CHECK_PROCESSES", None)
    if configured is not None:
        return int(configured)
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return min(2, cores)


class ParseHelpers:
    """Helper processes that run `Validator.parse_cells` on batches of rows: a check of a large
    file uses both cores.

    Plain os.fork() and two pipes per helper, not multiprocessing or concurrent.futures: the check
    runs in a Celery prefork child, which billiard marks daemonic for the standard library as well,
    and there both refuse to start processes ("daemonic processes are not allowed to have
    children"; tried with `celery worker --pool prefork`). A fork works the same in the prefork and
    solo pools, under `make run`, in tests and in bench/imports.py.

    A helper is a copy of this process made after the validator was set up; it only parses (no
    database: its inherited connections refuse any query) and ends with os._exit(), so it never
    runs Django's or psycopg's cleanup on the connections (closing them would end the parent's
    sessions) and never flushes the parent's half-written spool files. Each helper has at most
    HELPER_QUEUE batches sent and not collected; its threads receive and send while it parses
    (so neither process blocks on a full pipe or waits for the other step by step), and the
    caller collects batches in the order it sent them: rows and errors keep the file's order,
    and memory stays at a few batches. A helper that dies or fails marks the helpers broken; the
    caller then parses its batch itself.
    """

    def __init__(self) -> None:
        self.pids: list[int] = []
        self.sends: list[Connection] = []
        self.receives: list[Connection] = []
        self.next = 0
        self.broken = False

    @property
    def count(self) -> int:
        return len(self.pids)

    @classmethod
    def start(cls, validator: Validator, count: int) -> ParseHelpers | None:
        """`count` helpers, or None when this process cannot fork (then: one process)."""
        helpers = cls()
        for _ in range(count):
            try:
                to_helper = os.pipe()
                from_helper = os.pipe()
            except OSError:
                break
            try:
                pid = os.fork()
            except OSError:
                for fd in (*to_helper, *from_helper):
                    os.close(fd)
                break
            if pid == 0:  # the helper
                code = 1
                try:
                    os.close(to_helper[1])
                    os.close(from_helper[0])
                    for conn in (*helpers.sends, *helpers.receives):  # its siblings' parent ends
                        conn.close()
                    code = _helper_main(validator, Connection(to_helper[0]), Connection(from_helper[1]))
                finally:
                    os._exit(code)
            os.close(to_helper[0])
            os.close(from_helper[1])
            helpers.pids.append(pid)
            helpers.sends.append(Connection(to_helper[1], readable=False))
            helpers.receives.append(Connection(from_helper[0], writable=False))
        if not helpers.pids:
            logger.info("Import check in one process: this process cannot fork.")
            return None
        logger.info("Import check: %d parse helper process(es) started (pids %s).", helpers.count,
                    ", ".join(map(str, helpers.pids)))
        return helpers

    def submit(self, chunk: list) -> int:
        """Send a batch to the next helper (round robin, so the oldest batch is the next one's); its number."""
        helper = self.next
        self.next = (self.next + 1) % self.count
        try:
            self.sends[helper].send(chunk)
        except OSError:
            self.broken = True
        return helper

    def collect(self, helper: int) -> list | None:
        """The helper's parsed batch: one (values, custom, errors, refs) per row; None if broken."""
        if self.broken:
            return None
        try:
            status, parsed = self.receives[helper].recv()
        except (EOFError, OSError):
            status, parsed = "died", None
        if status != "ok":
            self.broken = True
            return None
        return parsed

    def stop(self) -> None:
        for conn in (*self.sends, *self.receives):  # EOF: an idle helper leaves
            conn.close()
        for pid in self.pids:
            _reap(pid)


def _reap(pid: int, wait: float = 5.0) -> None:
    import time

    deadline = time.monotonic() + wait
    while True:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return
        if done:
            return
        if time.monotonic() > deadline:  # still parsing a batch nobody will read
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return
        time.sleep(0.01)


def _refuse_queries(*args, **kwargs):
    raise RuntimeError("An import's parse helper process may not use the database.")


def _helper_main(validator: Validator, receive: Connection, send: Connection) -> int:
    from django.db import connections

    for name in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT, signal.SIGUSR1):
        try:
            signal.signal(name, signal.SIG_DFL)  # not the Celery worker's handlers: just end
        except (ValueError, OSError):
            pass
    for conn in connections.all(initialized_only=True):
        conn.execute_wrappers.append(_refuse_queries)
    # A thread receives batches as soon as they are sent and another sends the results, so the
    # parsing never waits on a pipe and the caller never waits on a helper that is not parsing:
    # the two processes run decoupled by a few batches (in lockstep, every time the system
    # paused one of them the other waited too: on a busy machine the pair was slower than one).
    inbox: queue.SimpleQueue = queue.SimpleQueue()
    outbox: queue.SimpleQueue = queue.SimpleQueue()

    def receive_batches() -> None:
        while True:
            try:
                inbox.put(receive.recv_bytes())
            except (EOFError, OSError):
                inbox.put(None)
                return

    def send_results() -> None:
        while (data := outbox.get()) is not None:
            try:
                send.send_bytes(data)
            except OSError:  # the caller stopped
                return

    threading.Thread(target=receive_batches, daemon=True).start()
    sender = threading.Thread(target=send_results, daemon=True)
    sender.start()
    parse = validator.parse_cells
    while True:
        data = inbox.get()
        if data is None:
            outbox.put(None)
            sender.join()
            return 0
        try:
            parsed = []
            for line, cells in pickle.loads(data):
                row = parse(line, cells)
                parsed.append((row.values, row.custom, row.errors, row.refs))
            message = ("ok", parsed)
        except Exception as exc:  # the caller parses this batch itself and meets it there
            message = ("failed", repr(exc))
        outbox.put(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))
        gc.collect(1)  # collections are off here too (inherited from Validator.run)
