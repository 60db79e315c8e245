"""The import pages: list, upload, mapping (remembered per layout), check result, run."""

from django.urls import reverse

from crm.imports.models import ImportJob, ImportMapping
from crm.tenancy.context import tenant_context

from .conftest import csv_file

TEXT = "Surname,Mail,Notes\nEk,ek@x.example,likes tea\nRy,ry@,\n"


def upload(client, text=TEXT, name="fair.csv"):
    return client.post(reverse("import_new"), {"object": "contacts", "file": csv_file(text, name=name),
                                               "duplicates": "skip"})


def jobs(acme):
    with tenant_context(acme.tenant):
        return list(ImportJob.objects.for_tenant(acme.tenant).order_by("created_at"))


def test_upload_leads_to_the_mapping_with_columns_guessed_and_samples_shown(client_as, acme):
    client = client_as(acme.rep)
    response = upload(client)
    [job] = jobs(acme)
    assert response.status_code == 302 and response["Location"] == reverse("import_mapping", args=[job.pk])
    assert job.mapping == ["last_name", "email", ""]
    page = client.get(response["Location"]).content.decode()
    assert "ek@x.example" in page and "likes tea" in page
    assert '<option value="email" selected>' in page


def test_the_mapping_is_remembered_for_the_next_file_with_the_same_columns(client_as, acme,
                                                                          django_capture_on_commit_callbacks):
    client = client_as(acme.rep)
    upload(client)
    [job] = jobs(acme)
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(reverse("import_mapping", args=[job.pk]),
                               {"column_0": "last_name", "column_1": "email", "column_2": "title",
                                "duplicates": "update"})
    assert response.status_code == 302
    assert len(callbacks) == 1  # the check is queued
    job = jobs(acme)[0]
    assert (job.status, job.duplicates) == ("validating", "update")
    with tenant_context(acme.tenant):
        assert ImportMapping.objects.for_tenant(acme.tenant).get().mapping == ["last_name", "email", "title"]
    upload(client, name="fair-2.csv")
    second = jobs(acme)[1]
    assert second.mapping == ["last_name", "email", "title"]
    assert "same columns as one you imported before" in client.get(
        reverse("import_mapping", args=[second.pk])).content.decode()


def test_a_mapping_without_a_required_field_is_refused_on_the_page(client_as, acme):
    client = client_as(acme.rep)
    upload(client)
    [job] = jobs(acme)
    response = client.post(reverse("import_mapping", args=[job.pk]), {"column_0": "", "column_1": "email"})
    assert response.status_code == 200
    assert "Choose a column for: Last name (required)." in response.content.decode()


def test_the_check_result_shows_counts_errors_and_preview(client_as, acme, run_import):
    job = run_import(acme.rep, "contacts", csv_file(TEXT), mode="dry_run")
    page = client_as(acme.rep).get(reverse("import_detail", args=[job.pk])).content.decode()
    assert "1 problem in 1 row" in page
    assert "“ry@” is not an email address." in page
    assert "Download errors as CSV" in page
    assert "Import only the 1 valid row" in page
    assert 'data-testid="import-preview"' in page


def test_an_all_or_nothing_run_of_a_file_with_errors_is_refused(client_as, acme, run_import):
    job = run_import(acme.rep, "contacts", csv_file(TEXT), mode="dry_run")
    client = client_as(acme.rep)
    response = client.post(reverse("import_run", args=[job.pk]), {"mode": "all_or_nothing"}, follow=True)
    assert "1 row has errors" in response.content.decode()
    assert jobs(acme)[0].status == "validated"


def test_a_running_job_shows_a_progress_bar_that_polls(client_as, acme, run_import):
    job = run_import(acme.rep, "contacts", csv_file(TEXT), mode="dry_run")
    with tenant_context(acme.tenant):
        ImportJob.objects.for_tenant(acme.tenant).filter(pk=job.pk).update(status="running", processed=1)
    client = client_as(acme.rep)
    page = client.get(reverse("import_detail", args=[job.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in page and "<progress" in page
    with tenant_context(acme.tenant):
        ImportJob.objects.for_tenant(acme.tenant).filter(pk=job.pk).update(status="done")
    done = client.get(reverse("import_progress", args=[job.pk]))
    assert done.status_code == 204 and done["HX-Refresh"] == "true"


def test_the_list_of_imports_runs_a_fixed_number_of_queries(client_as, acme, run_import,
                                                            django_assert_max_num_queries):
    for _ in range(12):
        run_import(acme.rep, "contacts", csv_file(TEXT), mode="dry_run")
    client = client_as(acme.rep)
    with django_assert_max_num_queries(15):
        page = client.get(reverse("import_list")).content.decode()
    assert page.count(">people.csv</a>") == 12


def test_the_import_list_uses_its_index(acme, in_tenant):
    from crm.imports import selectors
    from crm.tenancy.testing import assert_uses_index

    with in_tenant(acme):
        assert_uses_index(selectors.import_list(actor=acme.admin), "importjob_recent_idx", tenant=acme.tenant)


def test_another_companys_import_pages_are_not_found(client_as, acme, globex, run_import):
    job = run_import(acme.rep, "contacts", csv_file(TEXT), mode="dry_run")
    client = client_as(globex.admin)
    for name in ("import_detail", "import_mapping", "import_progress", "import_errors_csv"):
        assert client.get(reverse(name, args=[job.pk])).status_code == 404
    assert client.post(reverse("import_run", args=[job.pk]), {"mode": "valid_rows"}).status_code == 404
