"""Pages of customer accounts: the list, create/edit, the 360° page. Thin: parse, call one
selector or service, render. An account the person may not see is a 404 (never a 403: we do not
confirm that it exists)."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from crm.access import policy
from crm.audit.history import history_page
from crm.tenancy.models import Role
from crm.tenancy.views import member_required

from . import panels, selectors, services
from .forms import AccountFilterForm, AccountForm, BulkOwnerForm

TYPE_TONES = {"customer": "green", "prospect": "blue", "partner": "accent", "competitor": "red", "other": "gray"}
RATING_TONES = {"hot": "red", "warm": "amber", "cold": "blue"}


def _can_bulk(actor) -> bool:
    return actor.role in (Role.MANAGER, Role.ADMIN)


@member_required
def account_list(request):
    actor = request.membership
    form = AccountFilterForm(request.GET or None, actor=actor)
    qs = selectors.account_list(actor=actor, filters=form.filters())
    sort = request.GET.get("sort") or "name"
    page = selectors.keyset_page(qs.prefetch_related("owner__user"), sort=sort, after=request.GET.get("after", ""),
                                 before=request.GET.get("before", ""))
    kept = {k: v for k, v in request.GET.items() if k in form.fields and v}

    def link(**extra):
        return "?" + urlencode({**kept, **extra})

    return render(request, "accounts/list.html", {
        "form": form,
        "page": page,
        "rows": [{"account": a, "type_tone": TYPE_TONES.get(a.type, "gray"),
                  "rating_tone": RATING_TONES.get(a.rating, "gray")} for a in page.rows],
        "count": selectors.counted(qs),
        "filtered": bool(kept.keys() - {"sort"}),
        "next_url": link(after=page.next_cursor) if page.next_cursor else None,
        "prev_url": link(before=page.prev_cursor) if page.prev_cursor else None,
        "sort_name_url": "?" + urlencode({**kept, "sort": "name"}),
        "sort_updated_url": "?" + urlencode({**kept, "sort": "updated"}),
        "can_bulk": _can_bulk(actor),
        "bulk_form": BulkOwnerForm(actor=actor, auto_id="bulk_%s") if _can_bulk(actor) else None,
        "back": request.get_full_path(),
    })


@member_required
@require_POST
def account_bulk_owner(request):
    actor = request.membership
    if not _can_bulk(actor):
        raise Http404
    form = BulkOwnerForm(request.POST, actor=actor)
    ids = request.POST.getlist("ids")
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}) or not back.startswith("/"):
        back = reverse("account_list")
    if not ids:
        messages.error(request, "Select the accounts to hand over first.")
        return redirect(back)
    if not form.is_valid():
        messages.error(request, "Choose who gets the selected accounts.")
        return redirect(back)
    try:
        valid_ids = [i for i in ids if _is_uuid(i)]
        changed = services.accounts_change_owner(actor=actor, ids=valid_ids, owner=form.cleaned_data["owner"])
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(back)
    owner = form.cleaned_data["owner"]
    messages.success(request, f"{changed} account{'s' if changed != 1 else ''} now owned by "
                              f"{owner.user.full_name or owner.user.email}.")
    return redirect(back)


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


@member_required
@require_http_methods(["GET", "POST"])
def account_create(request):
    actor = request.membership
    initial = {}
    parent_id = request.GET.get("parent")
    if parent_id:
        try:
            initial["parent_name"] = selectors.account_get(actor=actor, id=parent_id).name
        except Http404:
            pass
    form = AccountForm(request.POST or None, actor=actor, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            account = services.account_create(actor=actor, **form.service_fields())
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, f"{account.name} created.")
            return redirect("account_detail", pk=account.pk)
    return render(request, "accounts/form.html", {"form": form, "account": None})


@member_required
@require_http_methods(["GET", "POST"])
def account_edit(request, pk):
    actor = request.membership
    account = selectors.account_get(actor=actor, id=pk)
    if not policy.can(actor, "edit", account):
        raise Http404
    initial = {name: getattr(account, name) for name in AccountForm.base_fields if hasattr(account, name)}
    initial["parent_name"] = account.parent.name if account.parent else ""
    initial["tags"] = ", ".join(t.name for t in selectors.account_tags(account))
    form = AccountForm(request.POST or None, actor=actor, account=account, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.account_update(actor=actor, account=account, **form.service_fields())
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, "Changes saved.")
            return redirect("account_detail", pk=account.pk)
    return render(request, "accounts/form.html", {"form": form, "account": account})


@member_required
@require_POST
def account_delete(request, pk):
    actor = request.membership
    account = selectors.account_get(actor=actor, id=pk)
    try:
        services.account_delete(actor=actor, account=account)
    except PermissionDenied:
        raise Http404 from None
    messages.success(request, f"{account.name} deleted.")
    return redirect("account_list")


@member_required
def account_detail(request, pk):
    """The 360° page: a bounded number of queries whatever the amount of data."""
    actor = request.membership
    account = selectors.account_get(actor=actor, id=pk)
    contacts = selectors.account_contacts(actor=actor, account=account)
    try:
        history = history_page(account, actor=actor, limit=20, before=request.GET.get("before") or None)
    except ValueError:
        history = history_page(account, actor=actor, limit=20)
    tree = selectors.account_tree(actor=actor, account=account)
    registered = [
        {"panel": p["panel"], "html": render_to_string(p["panel"].template, {**p["context"], "account": account},
                                                       request=request)}
        for p in panels.panels_for(request, account)
    ]
    return render(request, "accounts/detail.html", {
        "account": account,
        "type_tone": TYPE_TONES.get(account.type, "gray"),
        "rating_tone": RATING_TONES.get(account.rating, "gray"),
        "tags": selectors.account_tags(account),
        "tree": tree,
        "tree_lines": _tree_lines(tree),
        "contacts": contacts[: selectors.CONTACTS_SHOWN],
        "more_contacts": len(contacts) > selectors.CONTACTS_SHOWN,
        "history": history.entries,
        "older_url": f"?before={history.next_cursor}" if history.next_cursor else None,
        "main_panels": [p for p in registered if p["panel"].column != "side"],
        "side_panels": [p for p in registered if p["panel"].column == "side"],
        "can_edit": policy.can(actor, "edit", account),
    })


def _tree_lines(tree) -> list[dict]:
    """The hierarchy as indented lines: ancestors from the root, this account, its subtree."""
    def prefix(depth: int) -> str:
        return "\u00a0\u00a0" * max(depth - 1, 0) + ("└\u00a0" if depth else "")

    lines = [{"account": a, "prefix": prefix(i), "current": False} for i, a in enumerate(tree.ancestors)]
    base = len(tree.ancestors)
    lines.append({"account": None, "prefix": prefix(base), "current": True})
    lines += [{"account": n.account, "prefix": prefix(base + n.depth), "current": False} for n in tree.nodes]
    return lines
