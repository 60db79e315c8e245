"""Pages that take a person out of the CRM, or hand their data over: delete (a confirmation that
says what goes with the contact), the GDPR export (a JSON download) and erasure (a confirmation
that asks why). Split from views.py by use case. A contact the person may not act on is a 404,
never a 403 (nothing is confirmed about records one cannot use)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from crm.access import policy as access
from crm.tenancy.views import member_required
from crm.web.forms import apply_service_errors

from . import gdpr, selectors, services
from .models import Activity, Attendee, Contact


class EraseForm(forms.Form):
    reason = forms.CharField(
        max_length=500, widget=forms.Textarea(attrs={"rows": 3}), label="Why is this person erased?",
        help_text="Kept in the security log with your name, e.g. “Erasure request by email of 3 May, ticket "
                  "4711”. Do not repeat their name or address here.",
    )
    confirm = forms.BooleanField(label="I understand this cannot be undone.")


def _delete_consequences(actor, contact: Contact) -> dict:
    """What deleting the contact takes with it (cascades) and what it leaves (set to no contact).
    Activities and reporting contacts are counted as the actor sees them (the engine): a count of
    records one cannot see would tell that they exist."""
    tenant_id = contact.tenant_id
    return {
        "emails": len(contact.emails.all()),
        "phones": len(contact.phones.all()),
        "consents": len(contact.consents.all()),
        "relations": len(contact.account_relations.all()),
        "activities": access.visible(Activity.objects.for_tenant(tenant_id).filter(contact_id=contact.pk),
                                     actor).count(),
        "meetings": access.visible(Activity.objects.for_tenant(tenant_id).filter(id__in=list(
            Attendee.objects.for_tenant(tenant_id).filter(contact_id=contact.pk).values_list("activity_id", flat=True))),
            actor).count(),
        "reports": access.visible(Contact.objects.for_tenant(tenant_id).filter(reports_to_id=contact.pk),
                                  actor).count(),
    }


@member_required
@require_http_methods(["GET", "POST"])
def contact_delete(request, pk):
    actor = request.membership
    contact = selectors.contact_get(actor=actor, pk=pk)
    access.require(actor, "delete", contact)  # seen but not deletable: 403 with the reason
    if request.method == "POST":
        name = contact.full_name
        services.contact_delete(actor=actor, contact=contact)
        messages.success(request, f"{name} deleted.")
        return redirect("contact_list")
    return render(request, "contacts/contact_delete.html", {
        "contact": contact, "goes": _delete_consequences(request.membership, contact),
    })


@member_required
@require_http_methods(["GET"])
def contact_export(request, pk):
    """The GDPR export as a file download (admins; managers for their team's contacts)."""
    actor = request.membership
    contact = selectors.contact_get(actor=actor, pk=pk)
    if not gdpr.can_export(actor, contact):
        raise PermissionDenied("Exporting a person's data is for admins and for managers of the contact's owner.")
    data = gdpr.contact_export(actor=actor, contact=contact, request=request)
    response = HttpResponse(gdpr.export_json(data), content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{gdpr.export_filename(contact)}"'
    response["Cache-Control"] = "no-store"
    return response


@member_required
@require_http_methods(["GET", "POST"])
def contact_erase(request, pk):
    actor = request.membership
    contact = selectors.contact_get(actor=actor, pk=pk)
    if not gdpr.can_erase(actor, contact):
        raise PermissionDenied("This contact has already been erased." if contact.erased_at else
                               "Erasing a person's data is for someone who administers the company.")
    form = EraseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            gdpr.contact_erase(actor=actor, contact=contact, reason=form.cleaned_data["reason"], request=request)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, "The contact was erased. The reason is in the security log.")
            return redirect("contact_detail", pk=contact.pk)
    return render(request, "contacts/contact_erase.html", {
        "contact": contact, "form": form, "own_activities": len(gdpr.own_activity_ids(contact)),
    })
