"""Pages of customer accounts: the list, create/edit, the 360° page. Thin: parse, call one
selector or service, render. An account the person may not see is a 404 (we do not confirm that
it exists); an action they may not take on one they see is a 403 that says why."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_http_methods, require_POST

from crm.access import fields as field_security
from crm.access import policy
from crm.audit.history import history_page
from crm.customfields import display as custom_display
from crm.customfields import services as customfields
from crm.lists.services import remember
from crm.lists.views import list_page
from crm.tenancy.views import member_required

from . import panels, selectors, services
from .forms import AccountForm

TYPE_TONES = {"customer": "green", "prospect": "blue", "partner": "accent", "competitor": "red", "other": "gray"}
RATING_TONES = {"hot": "red", "warm": "amber", "cold": "blue"}


@member_required
def account_list(request):
    """The accounts list: views, filters (custom fields too), columns, bulk actions, export
    (crm/lists; the accounts' columns and filters are registered in accounts/lists.py)."""
    return list_page(request, "accounts", "accounts/list.html")


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
    policy.require(actor, "edit", account)  # seen but not editable: a 403 that says why
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
    services.account_delete(actor=actor, account=account)  # seen but not deletable: 403 with why
    messages.success(request, f"{account.name} deleted.")
    return redirect("account_list")


@member_required
def account_detail(request, pk):
    """The 360° page: a bounded number of queries whatever the amount of data."""
    actor = request.membership
    account = selectors.account_get(actor=actor, id=pk)
    remember(request, "accounts", account)
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
    fls = field_security.Visibility(actor, "accounts")
    custom_rows = [row for row in custom_display.rows(customfields.specs(actor.tenant_id, "accounts"), account.custom)
                   if row["name"] not in fls.custom_hidden]
    return render(request, "accounts/detail.html", {
        "account": account,
        # field-level security: what the person may see of the account (crm.access.fields)
        "fls": fls,
        "billing": _address(account, "billing", fls),
        "shipping": _address(account, "shipping", fls),
        "type_tone": TYPE_TONES.get(account.type, "gray"),
        "rating_tone": RATING_TONES.get(account.rating, "gray"),
        "tags": selectors.account_tags(account),
        "custom_rows": custom_rows,
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


ADDRESS_PARTS = ("street", "postal_code", "city", "region", "country")


def _address(account, prefix: str, fls) -> dict | None:
    """The parts of the billing or shipping address the person may see (None: all hidden)."""
    parts = {part: getattr(account, f"{prefix}_{part}") for part in ADDRESS_PARTS if fls[f"{prefix}_{part}"]}
    if not parts:
        return None
    parts["filled"] = any(parts.values())
    return parts


def _tree_lines(tree) -> list[dict]:
    """The hierarchy as indented lines: ancestors from the root, this account, its subtree."""
    def prefix(depth: int) -> str:
        return "\u00a0\u00a0" * max(depth - 1, 0) + ("└\u00a0" if depth else "")

    lines = [{"account": a, "prefix": prefix(i), "current": False} for i, a in enumerate(tree.ancestors)]
    base = len(tree.ancestors)
    lines.append({"account": None, "prefix": prefix(base), "current": True})
    lines += [{"account": n.account, "prefix": prefix(base + n.depth), "current": False} for n in tree.nodes]
    return lines
