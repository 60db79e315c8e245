"""Pages: the duplicates queue, the merge page, undo, "not a duplicate", the record panels.

Thin: parse, call one selector or service, render. A record the person cannot see is a 404 (we
do not confirm it exists); one they see but may not merge is a 403 with the reason.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm.access import policy
from crm.tenancy.views import member_required
from crm.web.forms import safe_next

from . import fields as merge_fields
from . import selectors, services
from .models import RULES, ObjectType, Rule

OBJECT_LABELS = {ObjectType.CONTACTS: "Contacts", ObjectType.ACCOUNTS: "Accounts"}
RULE_TONES = {Rule.SAME_EMAIL: "red", Rule.SAME_PHONE: "amber", Rule.SAME_DOMAIN: "amber", Rule.SIMILAR_NAME: "blue"}


def detail_url(object_label: str, pk) -> str:
    return reverse("contact_detail" if object_label == ObjectType.CONTACTS else "account_detail", args=[pk])


def _object(value: str | None) -> str:
    return value if value in OBJECT_LABELS else ObjectType.CONTACTS




def record_name(record) -> str:
    return getattr(record, "full_name", None) or str(record)


@member_required
@require_GET
def queue(request):
    actor = request.membership
    object_label = _object(request.GET.get("object"))
    rule = request.GET.get("rule", "")
    if rule not in RULES[object_label]:
        rule = ""
    page = selectors.queue_page(actor=actor, object_label=object_label, rule=rule, after=request.GET.get("after", ""))
    counts = selectors.queue_counts(actor=actor)
    is_admin = policy.can(actor, "administer")
    # field-level security: "what matched" and the accounts' domain only when the person may see them
    detail_of = selectors.pair_details(actor, object_label)
    show_domain = "domain" not in merge_fields.restricted(actor, object_label)[0]
    tabs = [{"label": label, "url": "?" + urlencode({"object": o}), "active": o == object_label,
             "count": counts[o]} for o, label in OBJECT_LABELS.items()]
    return render(request, "dedup/queue.html", {
        "object": object_label,
        "object_label": OBJECT_LABELS[object_label],
        "tabs": tabs,
        "rule": rule,
        "rules": [(r, Rule(r).label) for r in RULES[object_label]],
        "show_domain": show_domain,
        "rows": [{"row": r, "tone": RULE_TONES.get(r.candidate.rule, "gray"),
                  "detail": detail_of(r.candidate.rule, r.candidate.detail),
                  "a_url": detail_url(object_label, r.a.pk), "b_url": detail_url(object_label, r.b.pk),
                  "a_name": record_name(r.a), "b_name": record_name(r.b),
                  "merge_url": reverse("dedup_merge") + "?" + urlencode(
                      {"object": object_label, "ids": [r.a.pk, r.b.pk]}, doseq=True)} for r in page.rows],
        "next_url": "?" + urlencode({"object": object_label, "rule": rule, "after": page.next_cursor})
        if page.next_cursor else None,
        "is_admin": is_admin,
        "scan": selectors.last_scan(actor=actor) if is_admin else None,
        "back": request.get_full_path(),
    })


@member_required
@require_POST
def scan_now(request):
    try:
        services.scan_request(actor=request.membership)
    except PermissionDenied:
        raise Http404 from None
    messages.info(request, "Scanning the whole company for duplicates. The queue fills in as it finishes.")
    return redirect(safe_next(request, reverse("dedup_queue")))


@member_required
@require_GET
def scan_status(request):
    """The admin's progress line, polled by htmx while a scan is queued or running."""
    if not policy.can(request.membership, "administer"):
        raise Http404
    return render(request, "dedup/partials/scan_status.html", {"scan": selectors.last_scan(actor=request.membership)})


@member_required
@require_POST
def dismiss(request):
    object_label = _object(request.POST.get("object"))
    try:
        services.pair_dismiss(actor=request.membership, object_label=object_label, record_ids=request.POST.getlist("ids"))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Marked as not a duplicate. They will not be suggested again.")
    return redirect(safe_next(request, reverse("dedup_queue") + f"?object={object_label}"))


def _choices(post) -> dict:
    return {k[2:]: v for k, v in post.items() if k.startswith("f:") and v}


@member_required
@require_http_methods(["GET", "POST"])
def merge(request):
    actor = request.membership
    data = request.POST if request.method == "POST" else request.GET
    object_label = data.get("object")
    if object_label not in OBJECT_LABELS:
        raise Http404
    try:
        ids = services.parse_ids(data.getlist("ids"), "ids")
    except ValidationError:
        raise Http404 from None
    ids = list(dict.fromkeys(ids))
    if not 2 <= len(ids) <= services.MAX_RECORDS:
        messages.error(request, f"Choose two or three records to merge (you chose {len(ids)}).")
        return redirect(reverse("dedup_queue") + f"?object={object_label}")
    master_id = data.get("master") or str(ids[0])
    if master_id not in {str(i) for i in ids}:
        raise Http404
    error = None
    if request.method == "POST":
        try:
            record = services.records_merge(
                actor=actor, object_label=object_label, master=master_id,
                losers=[i for i in ids if str(i) != master_id], fields=_choices(request.POST),
            )
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            n = len(record.loser_ids)
            messages.success(request, f"Merged {n + 1} records. Their history and related records are on this one; "
                                      "you can undo the merge under Merge history.")
            return redirect(detail_url(object_label, record.master_id))
    preview = selectors.merge_preview(actor=actor, object_label=object_label, ids=ids, master_id=master_id,
                                      choices=_choices(request.POST) if request.method == "POST" else None)
    columns = []
    for record in preview.records:
        columns.append({
            "record": record, "name": record_name(record), "url": detail_url(object_label, record.pk),
            "is_master": record.pk == preview.master.pk,
            "master_url": "?" + urlencode({"object": object_label, "ids": [str(i) for i in ids],
                                           "master": str(record.pk)}, doseq=True),
        })
    return render(request, "dedup/merge.html", {
        "object": object_label,
        "object_label": OBJECT_LABELS[object_label],
        "preview": preview,
        "columns": columns,
        "ids": [str(i) for i in ids],
        "master_id": str(preview.master.pk),
        "differing": [r for r in preview.rows if r.differs],
        "same": [r for r in preview.rows if not r.differs and not all(v["empty"] for v in r.values)],
        "error": error,
        "back_url": reverse("dedup_queue") + f"?object={object_label}",
    }, status=400 if error else 200)


@member_required
@require_POST
def undo(request, pk):
    actor = request.membership
    merge_record = selectors.merge_get(actor=actor, pk=pk)
    fallback = detail_url(merge_record.object, merge_record.master_id)
    try:
        services.merge_undo(actor=actor, merge=merge_record)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Merge undone: {merge_record.loser_names} restored.")
    return redirect(safe_next(request, fallback))


def panel_context(request, object_label: str, record) -> dict:
    """What the "Possible duplicates" and "Merge history" panels show for one record."""
    actor = request.membership
    duplicates = selectors.record_duplicates(actor=actor, object_label=object_label, record=record)
    rows = []
    for d in duplicates:
        other = d["record"]
        rows.append({
            "record": other, "name": record_name(other), "url": detail_url(object_label, other.pk),
            "pair": d["pair"], "detail": d["detail"], "rule_label": Rule(d["pair"].rule).label, "tone": RULE_TONES.get(d["pair"].rule, "gray"),
            "merge_url": reverse("dedup_merge") + "?" + urlencode(
                {"object": object_label, "ids": [str(record.pk), str(other.pk)]}, doseq=True),
        })
    return {
        "dedup_object": object_label,
        "dedup_record": record,
        "dedup_rows": rows,
        "dedup_merge_all_url": reverse("dedup_merge") + "?" + urlencode(
            {"object": object_label, "ids": [str(record.pk)] + [str(r["record"].pk) for r in rows[:2]]}, doseq=True)
        if len(rows) >= 2 else None,
        "dedup_history": selectors.merge_history(actor=actor, object_label=object_label, master_id=record.pk),
        "dedup_next": detail_url(object_label, record.pk),
    }


@member_required
@require_GET
def record_panel(request, object_label, pk):
    """The panels of one record as an htmx fragment (the contact page loads it after itself)."""
    if object_label not in OBJECT_LABELS:
        raise Http404
    record = services.load_records(actor=request.membership, object_label=object_label,
                                   ids=services.parse_ids([pk], "id"))[0]
    template = "dedup/partials/record_card.html" if request.GET.get("card") else "dedup/partials/record_panels.html"
    return render(request, template, panel_context(request, object_label, record))


def account_panel(request, account) -> dict:
    """The account 360° page's side panel (registered in apps.py)."""
    return panel_context(request, ObjectType.ACCOUNTS, account)

