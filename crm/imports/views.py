"""Import pages: my imports, upload, mapping, the check's result (preview, errors), the run.

    /imports/                    the imports you may see, newest first
    /imports/new/?object=…       upload + duplicate policy
    /imports/<id>/mapping/       each column → a field or "ignore", with sample values
    /imports/<id>/               progress (htmx polls /progress/), then preview + errors, then result
    /imports/<id>/run/           POST: the real run (all or nothing / only the valid rows)
    /imports/<id>/errors.csv     the rejected rows with their messages
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_http_methods, require_POST

from crm.tenancy.views import member_required
from crm.web.forms import apply_service_errors

from . import objects, reading, selectors, services
from .api import errors_file_response
from .models import DuplicatePolicy, Mode


class UploadForm(forms.Form):
    object = forms.ChoiceField(label="What do you import?")
    file = forms.FileField(label="File", help_text="CSV or Excel (.xlsx). The first row names the columns.",
                           widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.xlsx,text/csv"}))
    duplicates = forms.ChoiceField(
        label="When a row matches an existing record", choices=DuplicatePolicy.choices, initial=DuplicatePolicy.SKIP,
        widget=forms.RadioSelect,
        help_text="Contacts match by email, accounts by website domain or name. You only update records you may edit.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["object"].choices = [(i.key, i.label) for i in objects.all_importers()]


def _job_or_404(request, pk):
    job = selectors.import_get(actor=request.membership, pk=pk)
    if job is None:
        raise Http404
    return job


@member_required
def import_list(request):
    jobs = list(selectors.import_list(actor=request.membership)[: selectors.LIST_LIMIT])
    labels = {i.key: i.label for i in objects.all_importers()}
    for job in jobs:
        job.object_label = labels.get(job.object, job.object)
    return render(request, "imports/list.html", {"jobs": jobs, "importers": objects.all_importers()})


@member_required
@require_http_methods(["GET", "POST"])
def import_new(request):
    initial = {"object": request.GET.get("object") or "contacts"}
    form = UploadForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            job = services.job_create(actor=request.membership, object=form.cleaned_data["object"],
                                      upload=form.cleaned_data["file"], duplicates=form.cleaned_data["duplicates"])
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            return redirect("import_mapping", pk=job.pk)
    return render(request, "imports/new.html", {"form": form})


@member_required
@require_http_methods(["GET", "POST"])
def import_mapping(request, pk):
    job = _job_or_404(request, pk)
    if job.created_by_id != request.membership.pk:
        raise PermissionDenied("Only the person who uploaded the file can map its columns.")
    importer = objects.get(job.object)
    # field-level security: no hidden or read-only field is offered; a column whose header names a
    # read-only one says why it is not imported
    choices = services.field_choices(job.tenant_id, importer, actor=request.membership)
    not_imported = services.read_only_columns(request.membership, importer, job.header)
    error = ""
    mapping = job.mapping
    duplicates = job.duplicates
    if request.method == "POST":
        mapping = [request.POST.get(f"column_{i}", "") for i in range(len(job.header))]
        duplicates = request.POST.get("duplicates", job.duplicates)
        try:
            services.job_set_mapping(actor=request.membership, job=job, mapping=mapping, duplicates=duplicates)
            services.job_start(actor=request.membership, job=job, mode=Mode.DRY_RUN)
        except ValidationError as exc:
            error = "; ".join(exc.messages)
        else:
            return redirect("import_detail", pk=job.pk)
    samples = reading.sample_rows(reading.upload_path(job), fmt=job.file_format, encoding=job.encoding or "utf-8",
                                  delimiter=job.delimiter or ",")
    columns = []
    for i, title in enumerate(job.header):
        columns.append({
            "index": i, "title": title or f"Column {i + 1}", "field": mapping[i] if i < len(mapping) else "",
            "samples": [s[i] for s in samples if i < len(s) and s[i]][:3],
            "not_imported": not_imported.get(i, ""),
        })
    return render(request, "imports/mapping.html", {
        "job": job, "importer": importer, "columns": columns, "choices": choices, "error": error,
        "remembered": services.remembered_mapping(job), "duplicates": duplicates,
        "duplicate_choices": DuplicatePolicy.choices,
    })


def _context(request, job):
    importer = objects.get(job.object)
    try:
        list_url = reverse(importer.list_url_name)
    except NoReverseMatch:
        list_url = ""
    mapped = [(job.header[i] or f"Column {i + 1}") for i, k in enumerate(job.mapping) if k]
    return {"job": job, "importer": importer, "list_url": list_url, "mapped_columns": mapped,
            "is_mine": job.created_by_id == request.membership.pk,
            "more_errors": max(0, job.error_count - len(job.errors))}


@member_required
def import_detail(request, pk):
    job = _job_or_404(request, pk)
    return render(request, "imports/detail.html", _context(request, job))


@member_required
def import_progress(request, pk):
    """The progress card, polled by htmx every second while the job runs; when it is over, the
    whole page reloads to show the result."""
    job = _job_or_404(request, pk)
    if not job.is_busy:
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    return render(request, "imports/_progress.html", _context(request, job))


@member_required
@require_POST
def import_run(request, pk):
    job = _job_or_404(request, pk)
    mode = request.POST.get("mode", Mode.ALL_OR_NOTHING)
    try:
        services.job_start(actor=request.membership, job=job, mode=mode, validate=False)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("import_detail", pk=job.pk)


@member_required
def import_errors_csv(request, pk):
    return errors_file_response(_job_or_404(request, pk))

