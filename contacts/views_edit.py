"""Editing an activity on its own page: its text, timing and, for a meeting, who attends.
Split from views.py by use case. An activity one may not edit is a 404."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from crm.access import policy as access
from crm.tenancy.views import member_required
from crm.web.forms import apply_service_errors, safe_next

from . import selectors, services
from .forms import ActivityForm, writable
from .models import Activity

# what each kind's page may change (activity_update checks it again)
KIND_FIELDS = {
    Activity.Kind.CALL: ("occurred_at", "direction", "duration_minutes", "outcome"),
    Activity.Kind.MEETING: ("occurred_at", "ends_at", "location"),
    Activity.Kind.TASK: ("due_at", "priority", "remind_at"),
    Activity.Kind.NOTE: ("occurred_at",),
    Activity.Kind.EMAIL: ("occurred_at",),
    Activity.Kind.VISIT: ("occurred_at", "location"),
}
TEXT = {"subject", "body", "direction", "outcome", "location", "priority"}




@member_required
@require_http_methods(["GET", "POST"])
def activity_edit(request, pk):
    actor = request.membership
    activity = selectors.activity_get(actor=actor, pk=pk)
    access.require(actor, "edit", activity)  # seen but not editable: 403 with the reason
    names = ("subject", "body", *KIND_FIELDS[activity.kind])
    initial = {"kind": activity.kind, "account": str(activity.account_id or ""),
               **{name: getattr(activity, name) for name in names}}
    form = ActivityForm(request.POST or None, actor=actor, activity=activity, initial=initial)
    form.fields["kind"].disabled = True
    form.fields["account"].disabled = True
    if request.method == "POST" and form.is_valid():
        data = writable(form)  # hidden and read-only fields (field-level security) keep their values
        fields = {name: (data.get(name) or "") if name in TEXT else data.get(name) for name in names if name in data}
        if activity.kind == Activity.Kind.TASK and "priority" in fields:
            fields["priority"] = fields["priority"] or Activity.Priority.NORMAL
        try:
            with transaction.atomic():
                services.activity_update(actor=actor, activity=activity, **fields)
                if activity.kind == Activity.Kind.MEETING:
                    services.meeting_attendees_set(actor=actor, activity=activity, attendees=data.get("attendees"),
                                                   attendee_contacts=data.get("attendee_contacts"))
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, "Saved.")
            return redirect(safe_next(request, reverse("activity_list")))
    return render(request, "contacts/activity_form.html", {"form": form, "activity": activity,
                                                           "next": safe_next(request, "")})
