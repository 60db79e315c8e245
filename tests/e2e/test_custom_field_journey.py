"""An admin adds a custom field in the browser, and it shows up everywhere: the form (with its
help text), the record page, the API, the list (as a filter and a column), the export file and
the import's column mapping."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e]

SHOTS = "artifacts/screenshots"


def test_an_admin_adds_a_picklist_and_a_rep_uses_it(acme, sign_in, page, api):
    sign_in("admin@acme.example")
    page.goto("/settings/fields/?object=accounts")
    expect(page.get_by_role("heading", name="No custom fields yet")).to_be_visible()
    page.get_by_role("link", name="Add a field").click()
    page.get_by_label(re.compile(r"^Label")).fill("Segment")
    page.get_by_label(re.compile(r"^Type")).select_option(label="Picklist")
    page.get_by_label(re.compile(r"^Help text")).fill("Which sales segment the customer is in.")
    page.get_by_label(re.compile(r"^Choices")).fill("SMB\nMid-market\nEnterprise")
    page.get_by_role("button", name="Add field").click()
    page.wait_for_url(re.compile(r"/settings/fields/\?object=accounts$"))
    table = page.get_by_test_id("custom-field-table")
    expect(table).to_contain_text("Segment")
    expect(table).to_contain_text("segment")
    page.screenshot(path=f"{SHOTS}/custom-fields-settings.png", full_page=True)

    # the admin signs out; a rep uses the field on a new account
    page.context.clear_cookies()
    sign_in("rep@acme.example")
    page.goto("/accounts/new/")
    page.get_by_label(re.compile(r"^Name")).fill("Kestrel Optics GmbH")
    segment = page.get_by_label("Segment")
    expect(page.get_by_text("Which sales segment the customer is in.")).to_be_visible()
    segment.select_option(label="Enterprise")
    page.screenshot(path=f"{SHOTS}/custom-fields-form.png", full_page=True)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(re.compile(r"/accounts/[0-9a-f-]{36}/$"))
    facts = page.locator("dl.details").first
    expect(facts).to_contain_text("Segment")
    expect(facts).to_contain_text("Enterprise")
    pk = page.url.rstrip("/").rsplit("/", 1)[-1]

    # and through the API, by the same name
    body = api.as_(acme.rep).get(f"/api/v1/accounts/{pk}/").json()
    assert body["custom"] == {"segment": "Enterprise"}

    # the list: filter by it (in the URL, shareable) and show it as a column
    page.goto("/accounts/?cf_segment=Enterprise")
    expect(page.get_by_role("link", name="Kestrel Optics GmbH")).to_be_visible()
    page.get_by_role("button", name="Columns").click()
    dialog = page.get_by_role("dialog", name="Columns")
    dialog.get_by_label(re.compile(r"^Segment")).check()
    dialog.get_by_role("button", name="Show these columns").click()
    expect(page.get_by_role("columnheader", name="Segment")).to_be_visible()
    expect(page.get_by_role("cell", name="Enterprise")).to_be_visible()
    page.goto("/accounts/?cf_segment=SMB")
    expect(page.get_by_role("link", name="Kestrel Optics GmbH")).to_have_count(0)

    # the export of the filtered list has the column and the value
    page.goto("/accounts/?cf_segment=Enterprise")
    page.get_by_text("Export", exact=True).click()
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").click()
    lines = Path(download.value.path()).read_text(encoding="utf-8-sig").splitlines()
    assert "Segment" in lines[0].split(",")
    assert any("Kestrel Optics GmbH" in line and "Enterprise" in line for line in lines[1:])

    # an import maps a "Segment" column to the field by itself
    page.goto("/imports/new/?object=accounts")
    page.get_by_label("File").set_input_files(files=[{
        "name": "accounts.csv", "mimeType": "text/csv", "buffer": b"Name,Segment\nOsprey Ltd,SMB\n"}])
    page.get_by_role("button", name="Upload and map columns").click()
    expect(page.get_by_role("heading", name="Map the columns")).to_be_visible()
    expect(page.get_by_label("Segment", exact=True)).to_have_value("custom.segment")
