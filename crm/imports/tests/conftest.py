"""Helpers for import tests: files made in memory, and a job taken through its steps the way the
Celery tasks do (services.job_validate / job_run), in the test's transaction."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from crm.tenancy.context import tenant_context


def csv_file(text: str, *, encoding: str = "utf-8", name: str = "people.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")


def xlsx_file(rows: list[list], *, name: str = "people.xlsx") -> SimpleUploadedFile:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return SimpleUploadedFile(name, out.getvalue(),
                              content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@pytest.fixture
def run_import():
    """run_import(actor, object, upload, mode=…, duplicates=…, mapping=…) -> the job after its check
    and (unless a dry run) its write."""
    from crm.imports import services
    from crm.imports.models import ImportJob

    def run(actor, object, upload, *, mode="all_or_nothing", duplicates="skip", mapping=None):
        with tenant_context(actor.tenant):
            job = services.job_create(actor=actor, object=object, upload=upload, duplicates=duplicates, mode=mode,
                                      mapping=mapping)
        services.job_validate(job_id=job.pk, tenant=actor.tenant)
        if mode != "dry_run":
            services.job_run(job_id=job.pk, tenant=actor.tenant)
        with tenant_context(actor.tenant):
            return ImportJob.objects.for_tenant(actor.tenant).get(pk=job.pk)

    return run


@pytest.fixture
def in_tenant():
    return lambda company: tenant_context(company.tenant)
