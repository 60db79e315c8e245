"""A large file's check uses helper processes for the cells (validation.ParseHelpers): the outcome,
the error list and the files must be exactly those of a check in one process, whatever happens to
a helper; and the shortcuts for phones and emails must agree with the full rules."""

import dataclasses
import os
import random

import phonenumbers
import pytest
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from contacts.models import Contact
from contacts.services import normalise_phone
from crm.customfields import services as customfields
from crm.imports import objects, reading, validation
from crm.imports.services import auto_mapping
from crm.tenancy.context import tenant_context

HEADER = "First name,Last name,Email,Phone,Country,Owner,Segment,Birthday,Notes"


def a_file_with_bad_rows(path, acme) -> None:
    rnd = random.Random(7)
    lines = [HEADER]
    for i in range(400):
        phone = rnd.choice([f"+49 30 {1000000 + i}", f"+44 20 7{1000000 + i}", f"030 {2000000 + i}", "+49 30 1",
                            "12", "+4930 123", f"+33 1 4{1000000 + i}"])
        country = rnd.choice(["DE", "Germany", "FR", "", "Narnia"])
        owner = rnd.choice(["rep@acme.example", "", "rep@acme.example", "nobody@nowhere.example"])
        email = rnd.choice([f"p{i}@x.example", f"P{i}@X.example", f"p{i}@", f"p{i % 50}@x.example", ""])
        segment = rnd.choice(["SMB", "smb ", "Enterprise", "Huge", ""])
        birthday = rnd.choice(["1990-01-31", "31.01.1990", "31/31/1990", ""])
        last = rnd.choice([f"Last{i}", f"Last{i}", ""])
        notes = rnd.choice(["", '"two\nlines"', '"a, comma"', "tab\there"])
        lines.append(",".join(["Ann", last, email, phone, country, owner, segment, birthday, notes]))
        if i % 97 == 0:
            lines.append("")  # an empty row: skipped, still counted as a line
    lines.append("Ann,Existing,seen@x.example,,,,,,")  # matches a contact the rep can see: skipped
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def check(acme, path, directory, **run_options):
    importer = objects.get("contacts")
    with tenant_context(acme.tenant):
        specs = customfields.specs(acme.tenant, importer.key)
        header = reading.header_of(path, fmt="csv", encoding="utf-8", delimiter=",")
        mapping = auto_mapping(acme.tenant.pk, importer, header)
    mapping[header.index("Notes")] = "department"
    validator = validation.Validator(actor=acme.rep, importer=importer, specs=specs, header=header,
                                     mapping=mapping, duplicates="skip")
    directory.mkdir()
    outcome = validator.run(reading.rows(path, fmt="csv"), directory=directory,
                            in_tenant=lambda: tenant_context(acme.tenant), **run_options)
    return outcome, directory


def files_of(directory) -> dict:
    """The check's files, with the new records' random ids masked."""
    records = [line.split("\t") for line in (directory / "records.copy").read_text().splitlines()]
    for fields in records:
        if fields[1] == "create":
            fields[2] = "<new id>"
    values = [line.split("\t")[1:] for line in (directory / "values.copy").read_text().splitlines()]
    return {"records": records, "values": values, "errors.csv": (directory / "errors.csv").read_bytes()}


@pytest.fixture
def contacts_file(acme, tmp_path, monkeypatch):
    with tenant_context(acme.tenant):
        customfields.field_create(actor=acme.admin, object="contacts", label="Segment", type="picklist",
                                  options=["SMB", "Mid-market", "Enterprise"])
        Contact.objects.create(tenant=acme.tenant, owner=acme.rep, last_name="Seen", email="seen@x.example")
    monkeypatch.setattr(validation, "BATCH", 40)  # 401 rows: eleven batches, ten of them through helpers
    path = tmp_path / "contacts.csv"
    a_file_with_bad_rows(path, acme)
    return path


def test_a_check_with_helper_processes_gives_exactly_the_outcome_and_files_of_one_process(
        acme, contacts_file, tmp_path, monkeypatch):
    alone, alone_dir = check(acme, contacts_file, tmp_path / "alone", processes=1)

    sent = []
    submit = validation.ParseHelpers.submit
    monkeypatch.setattr(validation.ParseHelpers, "submit", lambda self, chunk: sent.append(len(chunk)) or submit(self, chunk))
    pooled, pooled_dir = check(acme, contacts_file, tmp_path / "pooled", processes=3, pool_min_rows=40)

    assert sum(sent) == alone.rows - 40  # the helpers parsed every batch after the first
    assert alone.invalid > 50 and alone.to_skip == 1 and alone.valid > 50  # a file worth comparing
    assert {e["column"] for e in alone.errors} >= {"Email", "Phone", "Owner", "Segment", "Birthday", "Last name",
                                                   "Country"}
    assert dataclasses.asdict(pooled) == dataclasses.asdict(alone)  # counts, errors with line and column, preview
    assert files_of(pooled_dir) == files_of(alone_dir)
    with tenant_context(acme.tenant):  # the helpers ended without touching this process's connection
        assert Contact.objects.for_tenant(acme.tenant).filter(email="seen@x.example").count() == 1


def test_a_helper_that_dies_changes_nothing_in_the_outcome(acme, contacts_file, tmp_path, monkeypatch):
    alone, alone_dir = check(acme, contacts_file, tmp_path / "alone", processes=1)

    checker = os.getpid()
    parse_cells = validation.Validator.parse_cells

    def dies_at_line_200(self, line, cells):
        if line == 200 and os.getpid() != checker:
            os._exit(9)  # a helper killed mid-batch (out of memory, a signal)
        return parse_cells(self, line, cells)

    monkeypatch.setattr(validation.Validator, "parse_cells", dies_at_line_200)
    pooled, pooled_dir = check(acme, contacts_file, tmp_path / "pooled", processes=2, pool_min_rows=40)

    assert dataclasses.asdict(pooled) == dataclasses.asdict(alone)
    assert files_of(pooled_dir) == files_of(alone_dir)


def test_a_small_file_is_checked_in_one_process(acme, contacts_file, tmp_path, monkeypatch):
    started = []
    monkeypatch.setattr(validation.ParseHelpers, "start", classmethod(lambda cls, *a: started.append(a)))
    outcome, _ = check(acme, contacts_file, tmp_path / "small", processes=2)  # 400 rows < POOL_MIN_ROWS
    assert outcome.rows == 401 and started == []


# --- the shortcuts agree with the full rules ----------------------------------------------------


def full_rule(text, region):
    try:
        return normalise_phone(text, region)
    except ValidationError as exc:
        return ValueError(exc.messages[0])


def phone_texts():
    """Every region's example numbers written as people write them, and near misses of each."""
    rnd = random.Random(3)
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE,
                     phonenumbers.PhoneNumberType.TOLL_FREE, phonenumbers.PhoneNumberType.VOIP):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
            spaced = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
            yield e164, region
            yield spaced, None
            digits = e164[1:]
            yield f"+{digits[:-1]}", region  # a digit short
            yield f"+{digits}{rnd.randint(0, 9)}", None  # a digit too many
            yield f"+{digits[:2]} 0{digits[2:]}", region  # a national prefix after the country code
    yield from (("+1", None), ("+12", "DE"), ("+999 1234567", None), ("+49 30 12345678901234567890", "DE"))


def test_the_phone_shortcut_gives_what_normalise_phone_gives():
    shortcut_taken = 0
    for text, region in phone_texts():
        fast = validation._phone_international(text, region)
        if fast is None:
            continue
        shortcut_taken += 1
        expected = full_rule(text, region)
        assert type(fast) is type(expected) and str(fast) == str(expected), (text, region)
    assert shortcut_taken > 1000
    assert validation._phone_international("+49 30 1234567", "DE") == "+49301234567"
    assert validation._phone_international("030 1234567", "DE") is None  # no country code: the full path


@pytest.mark.parametrize("email", [
    "ann@example.com", "a.b+c@sub.example.co.uk", "x@localhost", "ann@[127.0.0.1]", "ann@-bad.example",
    "ann@example", "ann@ex_ample.com", '"quoted name"@example.com', "ann..b@example.com", "ann@example.com.",
    "ä@example.com", "ann@exämple.com", "@example.com", "ann@", "a" * 64 + "@" + "b" * 250 + ".com", "ann@@x.com",
])
def test_the_email_shortcut_accepts_exactly_what_django_accepts(email):
    try:
        validate_email(email)
        django_says = email
    except ValidationError:
        django_says = None
    try:
        ours = validation._email(email)
    except ValueError:
        ours = None
    assert ours == django_says
