"""The import journey in a real browser with a real Celery worker: an import with bad rows is
rejected with line-and-column errors and writes nothing. Screenshots: artifacts/screenshots/import-*.png."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from contacts.models import Contact
from crm.tenancy.context import tenant_context

pytestmark = [pytest.mark.e2e, pytest.mark.worker]
SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"

FILE = ("Vorname;Nachname;E-Mail;Owner;Birthday\n"
        "Jürgen;Müller;jm@nordwind.example;rep@acme.example;1980-04-01\n"
        "Anna;Berg;anna@;rep@acme.example;1990-05-17\n"
        "Bo;Lund;bo@lund.example;ceo@elsewhere.example;31/31/1990\n"
        "Nils;;nn@x.example;;\n").encode("cp1252")


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"import-{name}.png"), full_page=True)


def test_an_import_with_bad_rows_is_rejected_with_line_and_column_errors_and_writes_nothing(
        page, sign_in, acme, celery_worker):
    sign_in("rep@acme.example")
    page.goto("/imports/")
    shot(page, "list-empty")
    page.get_by_role("link", name="Import contacts").click()
    expect(page.get_by_role("heading", name="Import a file")).to_be_visible()
    page.get_by_label("File").set_input_files(files=[{"name": "fair.csv", "mimeType": "text/csv", "buffer": FILE}])
    shot(page, "upload")
    page.get_by_role("button", name="Upload and map columns").click()

    expect(page.get_by_role("heading", name="Map the columns")).to_be_visible()
    expect(page.get_by_label("E-Mail")).to_have_value("email")  # guessed from the header
    expect(page.get_by_label("Nachname")).to_have_value("last_name")
    page.get_by_label("Birthday").select_option("birthday")
    expect(page.get_by_text("jm@nordwind.example")).to_be_visible()  # Windows-1252 read right: Müller
    expect(page.get_by_text("Müller")).to_be_visible()
    shot(page, "mapping")
    page.get_by_role("button", name="Check every row").click()

    # the worker checks the file; the page polls and shows the result
    errors = page.get_by_test_id("import-errors")
    expect(errors).to_be_visible(timeout=30_000)
    shot(page, "checked")
    rows = errors.locator("tbody tr")
    expect(rows).to_have_count(4)
    expect(rows.nth(0)).to_have_text(re.compile(r"3\s*E-Mail\s*“anna@” is not an email address\."))
    expect(rows.nth(1)).to_have_text(re.compile(r"4\s*Owner\s*Unknown owner"))
    expect(rows.nth(2)).to_have_text(re.compile(r"4\s*Birthday\s*“31/31/1990” is not a date"))
    expect(rows.nth(3)).to_have_text(re.compile(r"5\s*Nachname\s*Last name is required"))
    expect(page.get_by_role("link", name="Download errors as CSV")).to_be_visible()

    # all or nothing: refused, nothing written
    page.get_by_role("button", name=re.compile(r"Import all 4 rows")).click()
    expect(page.get_by_text(re.compile(r"3 rows have errors: fix the file"))).to_be_visible()
    shot(page, "refused")
    with tenant_context(acme.tenant):
        assert Contact.objects.for_tenant(acme.tenant).count() == 0

    page.goto("/contacts/")
    expect(page.get_by_text("Müller")).to_have_count(0)
    expect(page.get_by_text("Berg")).to_have_count(0)


def test_the_valid_rows_are_imported_with_a_progress_bar_and_a_link_to_the_records(page, sign_in, acme, celery_worker):
    sign_in("rep@acme.example")
    page.goto("/imports/new/?object=contacts")
    page.get_by_label("File").set_input_files(files=[{"name": "fair.csv", "mimeType": "text/csv", "buffer": FILE}])
    page.get_by_role("button", name="Upload and map columns").click()
    page.get_by_role("button", name="Check every row").click()
    expect(page.get_by_test_id("import-errors")).to_be_visible(timeout=30_000)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Import only the 1 valid row", exact=True).click()
    expect(page.get_by_text(re.compile(r"1 contact created"))).to_be_visible(timeout=30_000)
    shot(page, "done")
    page.get_by_role("link", name="Open contacts").click()
    expect(page.get_by_text("Müller").first).to_be_visible()
