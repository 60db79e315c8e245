"""Admin → Hand over a book (task G): pick the leaver, the receivers and the options, see what would
move, confirm; a Celery job moves it (crm.access.tasks.transfer_book) and this page shows its
progress and result. Only for members with `transfer_records`; everybody else gets 404."""

from __future__ import annotations

import uuid

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from crm.tenancy.cache import tenant_cache
from crm.tenancy.models import Membership
from crm.web.forms import apply_service_errors

from . import tasks, transfer
from .views import _requires


def _label(m: Membership) -> str:
    name = m.user.full_name or m.user.email
    return name if m.is_active else f"{name} (inactive)"


class TransferForm(forms.Form):
    from_member = forms.ModelChoiceField(queryset=Membership.objects.none(), label="Whose records",
                                         empty_label="— choose the leaver —")
    to_members = forms.ModelMultipleChoiceField(queryset=Membership.objects.none(), label="Hand them to",
                                                widget=forms.CheckboxSelectMultiple,
                                                help_text="With several colleagues, accounts are split evenly "
                                                          "(by name); contacts and open activities follow their account.")
    keep_shares = forms.BooleanField(required=False, initial=True, label="Carry their manual shares over")
    keep_teams = forms.BooleanField(required=False, initial=True, label="Carry their places on account teams over")

    def __init__(self, *args, tenant_id, **kwargs):
        super().__init__(*args, **kwargs)
        members = Membership.objects.filter(tenant_id=tenant_id).select_related("user").order_by("user__email")
        self.fields["from_member"].queryset = members
        self.fields["from_member"].label_from_instance = _label
        self.fields["to_members"].queryset = members.filter(is_active=True)
        self.fields["to_members"].label_from_instance = _label


@_requires("transfer_records")
@require_http_methods(["GET", "POST"])
def transfer_page(request):
    actor = request.membership
    form = TransferForm(request.POST or None, tenant_id=actor.tenant_id)
    preview = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        receivers = list(data["to_members"])
        try:
            preview = transfer.transfer_preview(actor, data["from_member"], receivers)
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as exc:
            apply_service_errors(form, exc)
            preview = None
        if preview is not None and request.POST.get("confirm") == "1":
            job_id = str(uuid.uuid4())
            tenant_cache.set(transfer.progress_key(job_id), {"state": "queued", "percent": 0}, 3600)
            tasks.transfer_book.apply_async(kwargs={
                "tenant_id": str(actor.tenant_id), "actor_id": str(actor.pk), "from_id": str(data["from_member"].pk),
                "to_ids": [str(m.pk) for m in receivers], "keep_shares": data["keep_shares"],
                "keep_teams": data["keep_teams"]}, task_id=job_id)
            return redirect("access_transfer_job", job_id=job_id)
    rows = []
    if preview:
        rows = [(t.label, preview[t.key]) for t in transfer.transferables()]
        rows += [("Manual shares", preview["shares"]), ("Places on teams", preview["teams"])]
    return render(request, "access/transfer.html", {"form": form, "preview": preview, "rows": rows})


@_requires("transfer_records")
def transfer_job(request, job_id):
    state = tenant_cache.get(transfer.progress_key(str(job_id)))
    if state is None:
        raise Http404
    rows = []
    if state.get("counts"):
        labels = {t.key: t.label for t in transfer.transferables()} | {"shares": "Manual shares", "teams": "Places on teams"}
        rows = [(labels.get(k, k), v) for k, v in state["counts"].items()]
    template = "access/partials/transfer_progress.html" if request.headers.get("HX-Request") else "access/transfer_job.html"
    return render(request, template, {"job_id": job_id, "state": state, "rows": rows})
