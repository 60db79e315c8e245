"""An import's files (upload, spools, error CSV) are removed a week after it ended; the job and its
first errors stay, and the error download says the file has expired."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from crm.imports import reading, services, tasks
from crm.imports.models import ImportJob

from .conftest import csv_file

BAD = "Last name,Email\nA,a@x.example\nB,b@\n"


@pytest.fixture(autouse=True)
def imports_root(settings, tmp_path):
    settings.IMPORTS_ROOT = str(tmp_path / "imports")
    return tmp_path / "imports"


def ended_days_ago(acme, in_tenant, job, days):
    with in_tenant(acme):
        ImportJob.objects.for_tenant(acme.tenant).filter(pk=job.pk).update(
            finished_at=timezone.now() - dt.timedelta(days=days), validated_at=timezone.now() - dt.timedelta(days=days))
        return ImportJob.objects.for_tenant(acme.tenant).get(pk=job.pk)


def test_files_of_imports_that_ended_a_week_ago_are_removed_and_the_jobs_stay(
        acme, globex, run_import, in_tenant, api, imports_root):
    old = ended_days_ago(acme, in_tenant, run_import(acme.rep, "contacts", csv_file(BAD)), 8)
    recent = ended_days_ago(acme, in_tenant, run_import(acme.rep, "contacts", csv_file(BAD)), 6)
    checked = ended_days_ago(globex, in_tenant, run_import(globex.rep, "contacts", csv_file(BAD), mode="dry_run"), 8)
    folder = reading.job_dir(acme.tenant.pk, old.pk, create=False)
    assert (folder / "errors.csv").exists() and (folder / "upload.csv").exists()

    assert tasks.purge_import_files() == 2  # the old one and the other company's old dry run

    assert not folder.exists()
    assert not reading.job_dir(globex.tenant.pk, checked.pk, create=False).exists()
    assert (reading.job_dir(acme.tenant.pk, recent.pk, create=False) / "errors.csv").exists()
    with in_tenant(acme):
        kept = ImportJob.objects.for_tenant(acme.tenant).get(pk=old.pk)
    assert (kept.status, kept.invalid, kept.errors[0]["line"]) == ("failed", 1, 3)
    assert tasks.purge_import_files() == 0  # nothing left to do

    response = api.as_(acme.rep).get(f"/api/v1/imports/{old.pk}/errors.csv")
    assert response.status_code == 410
    assert "the error file has expired" in response.json()["detail"]
    assert not folder.exists()  # asking did not bring the folder back
    assert api.as_(acme.rep).get(f"/api/v1/imports/{recent.pk}/errors.csv").status_code == 200


def test_the_error_page_download_says_it_expired(acme, run_import, in_tenant, client_as):
    old = ended_days_ago(acme, in_tenant, run_import(acme.rep, "contacts", csv_file(BAD)), 8)
    tasks.purge_import_files()
    response = client_as(acme.rep).get(f"/imports/{old.pk}/errors.csv")
    assert response.status_code == 410
    assert "the error file has expired" in response.content.decode()


def test_an_expired_checked_import_cannot_be_run_and_says_to_upload_again(acme, run_import, in_tenant):
    checked = ended_days_ago(acme, in_tenant, run_import(acme.rep, "contacts", csv_file(BAD), mode="dry_run"), 8)
    tasks.purge_import_files()
    with in_tenant(acme), pytest.raises(ValidationError) as refused:
        services.job_start(actor=acme.rep, job=checked, mode="valid_rows")
    assert "upload the file again" in refused.value.message_dict["file"][0]


def test_a_running_import_and_a_fresh_upload_are_never_purged(acme, in_tenant, imports_root):
    with in_tenant(acme):
        job = services.job_create(actor=acme.rep, object="contacts", upload=csv_file(BAD))
        ImportJob.objects.for_tenant(acme.tenant).filter(pk=job.pk).update(
            status="running", updated_at=timezone.now() - dt.timedelta(days=30))
    orphan = imports_root / str(acme.tenant.pk) / "01234567-89ab-7def-8123-456789abcdef"  # its job not saved yet
    orphan.mkdir(parents=True)
    assert tasks.purge_import_files() == 0
    assert reading.upload_path(job).exists() and orphan.exists()
