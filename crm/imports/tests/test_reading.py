"""Files as people have them: encodings, delimiters, quoted line breaks, Excel workbooks."""

import pytest

from contacts.models import Contact

from .conftest import csv_file, xlsx_file


def names(acme, in_tenant):
    with in_tenant(acme):
        return sorted(Contact.objects.for_tenant(acme.tenant).values_list("last_name", flat=True))


@pytest.mark.parametrize(("encoding", "expected"), [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"),
                                                    ("cp1252", "cp1252"), ("latin-1", "cp1252")])
def test_utf8_with_or_without_bom_and_latin1_are_read(acme, run_import, in_tenant, encoding, expected):
    job = run_import(acme.rep, "contacts", csv_file("Vorname,Nachname\nJürgen,Müller\nSøren,Ærø\n", encoding=encoding))
    assert job.status == "done", job.errors
    assert job.encoding == expected
    assert job.mapping == ["first_name", "last_name"]  # the BOM does not hide the first header
    assert names(acme, in_tenant) == ["Müller", "Ærø"]


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_the_delimiter_is_detected(acme, run_import, in_tenant, delimiter):
    text = "\n".join(delimiter.join(r) for r in [["First name", "Last name", "City"], ["Ann", "Ek", "Oslo"],
                                                 ["Bo", "Ry", "Bergen"]]) + "\n"
    job = run_import(acme.rep, "contacts", csv_file(text))
    assert job.delimiter == delimiter
    assert job.status == "done"
    assert names(acme, in_tenant) == ["Ek", "Ry"]


def test_a_quoted_line_break_stays_in_its_cell_and_lines_count_as_a_spreadsheet_shows_them(acme, run_import, in_tenant):
    text = ('Last name,Mailing street,Email\n'
            'Ek,"Storgata 1\nBakgården",ek@x.example\n'
            'Ry,Main St,not-an-email\n')
    job = run_import(acme.rep, "contacts", csv_file(text), mode="dry_run")
    # the second record starts on physical line 4, but it is row 3 in a spreadsheet
    assert job.errors == [{"line": 3, "column": "Email", "message": "“not-an-email” is not an email address."}]
    job = run_import(acme.rep, "contacts", csv_file(text), mode="valid_rows")
    with in_tenant(acme):
        assert Contact.objects.for_tenant(acme.tenant).get(last_name="Ek").mailing_street == "Storgata 1\nBakgården"


def test_an_excel_workbook_is_imported_with_dates_and_numbers_as_cells(acme, run_import, in_tenant):
    import datetime as dt

    upload = xlsx_file([["Last name", "Birthday", "Phone"], ["Ek", dt.datetime(1990, 5, 17), "+4722123456"],
                        ["Ry", "31.12.1985", None], [None, None, None], ["", "", "bad"]])
    job = run_import(acme.rep, "contacts", upload, mode="valid_rows")
    assert job.file_format == "xlsx"
    assert job.status == "done"
    assert job.created == 2
    assert [(e["line"], e["column"]) for e in job.errors] == [(5, "Last name"), (5, "Phone")]
    with in_tenant(acme):
        assert str(Contact.objects.for_tenant(acme.tenant).get(last_name="Ek").birthday) == "1990-05-17"
        assert str(Contact.objects.for_tenant(acme.tenant).get(last_name="Ry").birthday) == "1985-12-31"


def test_an_empty_or_unreadable_file_is_refused_with_a_message(acme, in_tenant):
    from django.core.exceptions import ValidationError

    from crm.imports import services

    with in_tenant(acme), pytest.raises(ValidationError) as exc:
        services.job_create(actor=acme.rep, object="contacts", upload=csv_file(""))
    assert "empty" in exc.value.message_dict["file"][0]
    with in_tenant(acme), pytest.raises(ValidationError) as exc:
        services.job_create(actor=acme.rep, object="contacts", upload=csv_file("PK\x03\x04garbage", name="x.xlsx"))
    assert "cannot be read" in exc.value.message_dict["file"][0]
