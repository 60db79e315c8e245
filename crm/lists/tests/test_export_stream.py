"""The export's read path (one server-side cursor read ahead by a thread): the same cells as the
list's own model rows, whatever the chunk size; errors reach the caller and the job says it failed."""

from __future__ import annotations

import io
import threading
from decimal import Decimal

import pytest
from django.db import DatabaseError, transaction
from django.http import QueryDict

from crm.lists import exports, registry, selectors
from crm.lists.models import ExportJob
from crm.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db

EVERY_COLUMN = ["name", "type", "industry", "status", "country", "city", "rating", "owner", "phone", "website",
                "employees", "annual_revenue", "tags", "created", "updated", "cf_region", "cf_budget", "cf_code"]


@pytest.fixture
def book(acme, custom_fields, make_account):
    from accounts import services

    made = [
        make_account(name="=HYPERLINK(\"x\")", employees=12, annual_revenue=Decimal("1234.50"), billing_country="DE",
                     billing_city="Köln", phone="+4930123456", custom={"region": "EMEA", "budget": -3}),
        make_account(name="Ärzte & Söhne", type="partner", rating="hot", custom={"code": "@sum"}),
        make_account(name="Colleague's", owner=acme.rep2, industry="retail"),
        *[make_account(name=f"Filler {i}", website=f"https://f{i}.example") for i in range(4)],
    ]
    with tenant_context(acme.tenant):
        services.account_set_tags(actor=acme.admin, account=made[1], names=["VIP", "Fair"])
    return made


def state_of(company, person, columns=EVERY_COLUMN):
    return selectors.resolve(person, registry.get("accounts"), QueryDict(), columns=columns)


def model_cells(state) -> list[list]:
    """What the list page's own model rows give for the same columns: the reference."""
    objs = list(selectors.rows_queryset(state).order_by(*state.sort.fields))
    selectors.prepare(state, objs)
    return [[exports.csv_cell(c.value(obj, state.ctx)) for c in state.columns] for obj in objs]


def test_the_export_has_the_cells_of_the_lists_own_rows_whatever_the_chunk_size(acme, book, monkeypatch):
    with tenant_context(acme.tenant):
        state = state_of(acme, acme.admin)
        expected = model_cells(state)
        assert len(expected) == len(book) and len(state.columns) == len(EVERY_COLUMN)
        files = {}
        for size in (2, 3, 5_000):
            monkeypatch.setattr(exports, "BATCH", size)
            format_chunk = exports.formatter(state, exports.csv_cell)
            assert [row for chunk, ctx in exports.rows(state) for row in format_chunk(chunk, ctx)] == expected
            target = io.BytesIO()
            assert exports.write_csv(state, target) == len(book)
            files[size] = target.getvalue()
    assert files[2] == files[3] == files[5_000]
    assert files[2].startswith(b"\xef\xbb\xbfName,Type,")


def test_an_export_reads_only_the_companys_rows_under_rls(acme, globex, book, make_account):
    make_account(company=globex, name="Globex secret")
    with tenant_context(globex.tenant):
        state = state_of(globex, globex.admin, ["name"])
        format_chunk = exports.formatter(state, exports.csv_cell)
        assert [r for chunk, ctx in exports.rows(state) for r in format_chunk(chunk, ctx)] == [["Globex secret"]]


def fail_on_the_first_fetch(monkeypatch):
    """The export's query, replaced by one that fails while rows are being fetched (not declared)."""
    monkeypatch.setattr(exports, "_query", lambda state: (
        "SELECT (1 / (g - 1))::text AS id FROM generate_series(1, 10) g", (), None, {}, exports.row_class(["id"])))


def test_a_database_error_while_reading_reaches_the_caller_and_the_reader_stops(acme, book, monkeypatch):
    fail_on_the_first_fetch(monkeypatch)
    with tenant_context(acme.tenant):
        state = state_of(acme, acme.admin)
        with pytest.raises(DatabaseError, match="division by zero"), transaction.atomic():
            list(exports.rows(state))
    assert not [t for t in threading.enumerate() if t.name == "export-reader"]


def test_a_job_whose_read_fails_is_marked_failed(acme, book, monkeypatch, tmp_path, settings):
    from crm.lists import services
    from crm.lists.tasks import run_export

    settings.CRM_EXPORT_DIR = str(tmp_path)
    with tenant_context(acme.tenant):
        job = services.export_create(actor=acme.admin, object="accounts", format="csv")
    fail_on_the_first_fetch(monkeypatch)
    run_export(tenant_id=str(acme.tenant.pk), job_id=str(job.pk))
    with tenant_context(acme.tenant):
        job.refresh_from_db()
    assert job.status == ExportJob.Status.FAILED and job.error == "The export failed: DataError."
