"""Pages for contacts and activities, and the htmx partials of timelines and tasks. Thin: parse,
call one selector or service, render. A record the person may not see is a 404, never a 403."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import Account
from crm.access import fields as fls
from crm.access import policy as access
from crm.audit.history import history_page
from crm.customfields import display as custom_display
from crm.customfields import services as customfields
from crm.lists.services import remember
from crm.lists.views import list_page
from crm.tenancy.views import member_required
from crm.web.forms import apply_service_errors, safe_next

from . import gdpr, selectors, services
from .forms import (
    QUICK_KINDS,
    ActivityForm,
    CommentForm,
    ConsentForm,
    ContactForm,
    QuickActivityForm,
    activity_kwargs,
    writable,
)
from .models import Activity, Channel, Consent

CONSENT_TONES = {"granted": "green", "denied": "red", "withdrawn": "amber", "unknown": "gray"}
QUICK_FIELDS = {
    Activity.Kind.CALL: ("subject", "direction", "duration_minutes", "outcome", "body"),
    Activity.Kind.TASK: ("subject", "due_at", "priority", "remind_at", "body"),
    Activity.Kind.NOTE: ("subject", "body"),
}




# --- contacts -----------------------------------------------------------------------------------

@member_required
@require_http_methods(["GET"])
def contact_list(request):
    """The contacts list (crm/lists; columns and filters registered in contacts/lists.py)."""
    return list_page(request, "contacts", "contacts/contact_list.html")


@member_required
@require_http_methods(["GET", "POST"])
def contact_create(request):
    actor = request.membership
    initial = {"account": request.GET.get("account", "")}
    form = ContactForm(request.POST or None, actor=actor, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            contact = services.contact_create(actor=actor, **form.service_kwargs())
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, f"{contact.full_name} added.")
            return redirect("contact_detail", pk=contact.pk)
    return render(request, "contacts/contact_form.html", {"form": form, "contact": None})


@member_required
@require_http_methods(["GET", "POST"])
def contact_edit(request, pk):
    actor = request.membership
    contact = selectors.contact_get(actor=actor, pk=pk)
    # seen but not editable: a 403 that says why (a record one cannot see was a 404 above)
    access.require(actor, "edit", contact)
    if contact.erased_at is not None:
        messages.error(request, "This contact was erased (GDPR) and cannot be edited.")
        return redirect("contact_detail", pk=contact.pk)
    form = ContactForm(request.POST or None, actor=actor, contact=contact)
    if request.method == "POST" and form.is_valid():
        try:
            services.contact_update(actor=actor, contact=contact, **form.service_kwargs())
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, f"{contact.full_name} saved.")
            return redirect("contact_detail", pk=contact.pk)
    return render(request, "contacts/contact_form.html", {"form": form, "contact": contact})


def _consents(contact) -> list[dict]:
    by_channel = {c.channel: c for c in contact.consents.all()}
    out = []
    for value, label in Channel.choices:
        consent = by_channel.get(value)
        status = consent.status if consent else Consent.Status.UNKNOWN
        out.append({"channel": value, "label": label, "consent": consent, "status": status,
                    "status_label": Consent.Status(status).label, "tone": CONSENT_TONES[status]})
    return out


@member_required
@require_http_methods(["GET"])
def contact_detail(request, pk):
    """The contact page: a fixed number of queries however many activities, emails or changes."""
    actor = request.membership
    contact = selectors.contact_get(actor=actor, pk=pk)
    remember(request, "contacts", contact)
    try:
        history = history_page(contact, actor=actor, limit=20, before=request.GET.get("before") or None)
    except ValueError:
        history = history_page(contact, actor=actor, limit=20)
    page = selectors.contact_timeline(actor=actor, contact=contact, kind=request.GET.get("kind", ""))
    visibility = fls.Visibility(actor, "contacts")
    return render(request, "contacts/contact_detail.html", {
        "contact": contact,
        "fls": visibility,
        "custom_rows": [row for row in custom_display.rows(customfields.specs(actor.tenant_id, "contacts"),
                                                           contact.custom)
                        if row["name"] not in visibility.custom_hidden],
        "consents": _consents(contact),
        "consent_form": ConsentForm(),
        "can_edit": access.can(actor, "edit", contact) and contact.erased_at is None,
        "can_delete": access.can(actor, "delete", contact),
        "can_export": gdpr.can_export(actor, contact),
        "can_erase": gdpr.can_erase(actor, contact),
        "history": history.entries,
        "older_url": f"?before={history.next_cursor}" if history.next_cursor else None,
        **_timeline_context(request, page, scope="contact", record=contact),
    })


@member_required
@require_POST
def contact_consent(request, pk):
    actor = request.membership
    contact = selectors.contact_get(actor=actor, pk=pk)
    form = ConsentForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a channel and a status.")
    else:
        try:
            services.consent_record(actor=actor, contact=contact, **form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, "Consent recorded.")
    return redirect("contact_detail", pk=contact.pk)


# --- timelines (the account 360° panel and the contact page) ------------------------------------

def _timeline_record(request, scope: str, record_id):
    actor = request.membership
    if scope == "contact":
        return selectors.contact_get(actor=actor, pk=record_id)
    account_id = selectors._uuid(record_id)
    account = access.visible(Account.objects.for_tenant(actor.tenant_id), actor, "read").filter(
        pk=account_id).first() if account_id else None
    if account is None:
        raise Http404
    return account


def _timeline_context(request, page, *, scope: str, record, form=None) -> dict:
    base = reverse(f"{scope}_timeline", args=[record.pk])
    tabs = [{"label": "All", "kind": "", "url": base, "active": not page.kind}] + [
        {"label": label + "s", "kind": value, "url": f"{base}?kind={value}", "active": page.kind == value}
        for value, label in Activity.Kind.choices
    ]
    return {
        "timeline": page,
        "timeline_scope": scope,
        "timeline_id": f"timeline-{scope}-{record.pk}",
        "timeline_url": base,
        "timeline_log_url": reverse(f"{scope}_quick_log", args=[record.pk]),
        "timeline_more_url": f"{base}?{urlencode({'kind': page.kind, 'before': page.next_cursor})}"
        if page.next_cursor else None,
        "timeline_tabs": tabs,
        # an erased person gets no new activities (the service refuses them too)
        "quick_forms": [] if getattr(record, "erased_at", None) else _quick_forms(request.membership, form),
        # someone above others in the role hierarchy (or who sees everything) may comment; the
        # service decides per activity
        "can_comment": services.may_comment(request.membership),
        "comment_form": CommentForm(),
    }


def _quick_forms(actor, bound=None) -> list[dict]:
    """One small form per quick action; the one that failed comes back open, with its errors.
    Fields the person may not see or set (field-level security) are left out."""
    failed = bound.data.get("kind") if bound is not None else None
    out = []
    for kind, label in QUICK_KINDS:
        form = bound if kind == failed else QuickActivityForm(initial={"kind": kind}, auto_id=f"id_{kind}_%s",
                                                              actor=actor)
        shown = tuple(name for name in QUICK_FIELDS[kind] if name in form.fields and not form.fields[name].disabled)
        out.append({"kind": kind, "label": label, "form": form, "fields": shown, "open": kind == failed})
    return out


def account_panel_context(request, account) -> dict:
    """The 360° page's "Activity" panel (accounts/panels.py): the first page of the timeline."""
    page = selectors.account_timeline(actor=request.membership, account=account)
    return _timeline_context(request, page, scope="account", record=account)


def _timeline(request, scope: str, record_id):
    record = _timeline_record(request, scope, record_id)
    page = selectors.timeline(actor=request.membership, **{scope: record}, kind=request.GET.get("kind", ""),
                              before=request.GET.get("before") or None)
    context = _timeline_context(request, page, scope=scope, record=record)
    template = "contacts/partials/timeline_items.html" if request.GET.get("before") \
        else "contacts/partials/timeline.html"
    return render(request, template, context)


@member_required
@require_http_methods(["GET"])
def account_timeline(request, account_id):
    return _timeline(request, "account", account_id)


@member_required
@require_http_methods(["GET"])
def contact_timeline(request, contact_id):
    return _timeline(request, "contact", contact_id)


def _quick_log(request, scope: str, record_id):
    actor = request.membership
    record = _timeline_record(request, scope, record_id)
    form = QuickActivityForm(request.POST, actor=actor)
    links = {"account": record} if scope == "account" else {"contact": record}
    created = False
    if form.is_valid():
        kind = form.cleaned_data["kind"]
        try:
            if kind == Activity.Kind.TASK:
                services.task_create(actor=actor, **links, **activity_kwargs(kind, writable(form)))
            else:
                services.activity_log(actor=actor, **links, **activity_kwargs(kind, writable(form)))
            created = True
        except ValidationError as exc:
            apply_service_errors(form, exc)
    page = selectors.timeline(actor=actor, **links)
    context = _timeline_context(request, page, scope=scope, record=record, form=None if created else form)
    if not request.htmx:
        if created:
            messages.success(request, "Saved.")
        else:
            messages.error(request, "Not saved: " + "; ".join(e for errs in form.errors.values() for e in errs))
        return redirect(safe_next(request, reverse(f"{scope}_detail", args=[record.pk])))
    response = render(request, "contacts/partials/timeline.html", context)
    if created:
        response["HX-Trigger"] = '{"toast": {"message": "Saved", "level": "success"}}'
    return response


@member_required
@require_POST
def account_quick_log(request, account_id):
    return _quick_log(request, "account", account_id)


@member_required
@require_POST
def contact_quick_log(request, contact_id):
    return _quick_log(request, "contact", contact_id)


# --- activities ---------------------------------------------------------------------------------

@member_required
@require_http_methods(["GET"])
def activity_list(request):
    """The activities list (crm/lists; registered in contacts/lists.py), newest first."""
    return list_page(request, "activities", "contacts/activity_list.html")


@member_required
@require_http_methods(["GET", "POST"])
def activity_create(request):
    actor = request.membership
    form = ActivityForm(request.POST or None, actor=actor,
                        initial={"kind": request.GET.get("kind", "call"), "account": request.GET.get("account", "")})
    if request.method == "POST" and form.is_valid():
        kind = form.cleaned_data["kind"]
        account = form.cleaned_data.get("account") or None
        try:
            if kind == Activity.Kind.TASK:
                services.task_create(actor=actor, account=account, **activity_kwargs(kind, writable(form)))
            else:
                services.activity_log(actor=actor, account=account, **activity_kwargs(kind, writable(form)))
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, "Saved.")
            return redirect(safe_next(request, reverse("activity_list")))
    return render(request, "contacts/activity_form.html", {"form": form})


@member_required
@require_http_methods(["GET"])
def activity_week(request):
    actor = request.membership
    try:
        start = date.fromisoformat(request.GET.get("start", ""))
    except ValueError:
        start = timezone.localdate()
    start = selectors.week_start(start)
    days = selectors.week(actor, start)
    return render(request, "contacts/activity_week.html", {
        "days": days, "start": start, "end": days[-1].day,
        "previous_url": f"?start={(start - timedelta(days=7)).isoformat()}",
        "next_url": f"?start={(start + timedelta(days=7)).isoformat()}",
        "this_week_url": reverse("activity_week"),
    })


@member_required
@require_POST
def task_complete(request, pk):
    """One click (or `x` on a focused task): done. Completing a done task again changes nothing."""
    actor = request.membership
    task = selectors.activity_get(actor=actor, pk=pk)
    try:
        task = services.task_complete(actor=actor, task=task)
    except ValidationError as exc:
        # a task one sees but may not change is the service's PermissionDenied: a 403 with why
        return HttpResponseBadRequest(" ".join(exc.messages))
    if request.htmx:
        if request.POST.get("as") == "timeline":
            task = selectors.activity_get(actor=actor, pk=pk)
            response = render(request, "contacts/partials/timeline_item.html", {
                "activity": task, "can_comment": False, "comment_form": CommentForm()})
        else:
            response = render(request, "contacts/partials/task.html", {"task": task})
        response["HX-Trigger"] = '{"toast": {"message": "Task done", "level": "success"}}'
        return response
    messages.success(request, f"Done: {task.subject}")
    return redirect(safe_next(request, reverse("home")))


@member_required
@require_POST
def activity_comment(request, pk):
    """A manager's comment on their rep's activity (the rep sees it on their home page)."""
    actor = request.membership
    activity = selectors.activity_get(actor=actor, pk=pk)
    form = CommentForm(request.POST)
    error = None
    if form.is_valid():
        try:
            services.activity_comment_add(actor=actor, activity=activity, body=form.cleaned_data["body"])
        except PermissionDenied as exc:
            error = str(exc)
        except ValidationError as exc:
            error = " ".join(exc.messages)
    else:
        error = "Write a comment."
    if request.htmx:
        activity = selectors.activity_get(actor=actor, pk=pk)
        response = render(request, "contacts/partials/timeline_item.html", {
            "activity": activity, "can_comment": True, "comment_form": CommentForm(),
            "comment_error": error,
        })
        if not error:
            response["HX-Trigger"] = '{"toast": {"message": "Comment added", "level": "success"}}'
        return response
    (messages.error if error else messages.success)(request, error or "Comment added.")
    return redirect(safe_next(request, reverse("activity_list")))


@member_required
@require_POST
def comments_mark_read(request):
    services.activity_comments_mark_read(actor=request.membership)
    if request.htmx:
        return HttpResponse("")
    return redirect("home")
