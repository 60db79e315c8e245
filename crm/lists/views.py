"""The list pages of every registered object, and their actions: saved views, column choice, bulk
actions with undo, exports. Thin: parse, call one selector or service, render.

An app's list view is one line: `return list_page(request, "accounts", "accounts/list.html")`; its
template extends base.html with its own header and includes "lists/_list.html".
"""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST

from crm.tenancy.cache import tenant_cache
from crm.tenancy.models import Membership
from crm.tenancy.views import member_required
from crm.web.forms import safe_next

from . import exports, paging, registry, selectors, services
from .models import ExportJob
from .tasks import progress_key

SESSION_COLUMNS = "lists_columns"
SESSION_UNDO = "lists_undo"
PRIMARY_FILTERS = 3


def _definition(key: str) -> registry.ListDefinition:
    try:
        return registry.get(key)
    except KeyError:
        raise Http404 from None


def _qs(query: dict) -> str:
    return "?" + urlencode(query, doseq=True)


def _back(request, definition) -> str:
    return safe_next(request, reverse(definition.list_url_name))


def _pref_key(definition, view_id) -> str:
    """Column choices kept in the session: per list, and per saved view the person may not change
    (their own arrangement of a colleague's shared view)."""
    return f"{definition.key}:{view_id}" if view_id and view_id not in selectors.BUILTIN_VIEWS else definition.key


def state_for(request, definition, **kwargs) -> selectors.ListState:
    prefs = request.session.get(SESSION_COLUMNS, {})
    view_id = request.GET.get("view", "")
    return selectors.resolve(request.membership, definition, request.GET, session_columns=prefs.get(definition.key),
                             view_columns=prefs.get(_pref_key(definition, view_id)) if view_id else None, **kwargs)


def list_page(request, key: str, template: str, extra: dict | None = None):
    """A list page: the view picker, filter bar, columns, keyset page, count, bulk actions, export."""
    definition = _definition(key)
    actor = request.membership
    state = state_for(request, definition)
    qs = selectors.rows_queryset(state)
    page = paging.keyset_page(qs, state.sort, after=request.GET.get("after", ""), before=request.GET.get("before", ""),
                              last=bool(request.GET.get("last")))
    ctx = selectors.prepare(state, page.rows)
    rows = [{"obj": obj, "pk": obj.pk, "title": definition.title_of(obj),
             "cells": [{"html": c.render(obj, ctx), "numeric": c.numeric} for c in state.columns]}
            for obj in page.rows]
    # one page that is both first and last: its rows are the exact count, no query needed
    count = paging.Count(len(page.rows), False) if page.first and page.last else count_of(state, qs)
    base = state.query()
    allowed = registry.actions_for(actor, definition)
    views = selectors.views_for(actor=actor, object_key=definition.key)
    shown = {c.key for c in state.columns}
    menu = [*state.columns, *[c for c in selectors.all_columns(definition, state.specs)
                              if c.key not in shown and registry.column_visible(actor, definition, c)]]
    undo = request.session.get(SESSION_UNDO)
    if undo and undo.get("object") == definition.key:
        del request.session[SESSION_UNDO]  # offered once, on the list it was deleted from
    else:
        undo = None
    context = {
        "definition": definition,
        "state": state,
        "form": state.form,
        # the first filters in the bar, the others (and custom fields) behind "More filters"
        "filter_fields": [_field(state.form[name], definition, state) for name in list(state.form.fields)[:PRIMARY_FILTERS]],
        "more_filter_fields": [_field(state.form[name], definition, state)
                               for name in list(state.form.fields)[PRIMARY_FILTERS:]],
        "more_active": sum(1 for name in list(state.form.fields)[PRIMARY_FILTERS:] if name in state.params)
        + sum(1 for name in state.params if name.startswith("cf_")),
        "custom_filters": _custom_filters(state),
        "errors": state.errors,
        "page": page,
        "rows": rows,
        "columns": state.columns,
        "count": count,
        "filtered": state.filtered,
        "query": urlencode(state.query(), doseq=True),
        "filter_query": urlencode(state.params, doseq=True),
        "sorts": [{"sort": s, "url": _qs({**base, "sort": [s.key]}), "active": s.key == state.sort.key}
                  for s in definition.sorts if registry.sort_visible(actor, definition, s)],
        "column_sort_urls": {c.key: _qs({**base, "sort": [c.sort]}) for c in state.columns if c.sort},
        "first_url": _qs(base) if not page.first else None,
        "prev_url": _qs({**base, "before": [page.prev_cursor]}) if page.prev_cursor else None,
        "next_url": _qs({**base, "after": [page.next_cursor]}) if page.next_cursor else None,
        "last_url": _qs({**base, "last": ["1"]}) if not page.last else None,
        "builtin_views": [{"key": k, "label": selectors.builtin_label(definition, k),
                           "url": _qs({"view": [k]} if k != "all" else {}),
                           "active": state.view is None and state.builtin == k} for k in selectors.builtin_views(definition)],
        "saved_views": [{"view": v, "url": _qs({**v.params, "view": [str(v.pk)], "sort": [v.sort or ""]}),
                         "active": state.view is not None and state.view.pk == v.pk,
                         "mine": v.owner_id == actor.pk} for v in views],
        "active_view": state.view,
        "can_change_view": state.view is not None and selectors.can_change_view(actor, state.view),
        "column_menu": [{"column": c, "checked": c.key in shown, "first": c.key == definition.columns[0].key}
                        for c in menu],
        "bulk_actions": allowed,
        # the action controls come (htmx) when the first row is ticked: a page that nobody
        # selects on renders none of them, and none grows with the team
        "bulk_actions_url": reverse("list_bulk_actions", args=[definition.key]) if allowed else "",
        "back": request.get_full_path(),
        "export_csv_url": reverse("list_export", args=[definition.key]) + _qs({**base, "format": ["csv"]}),
        "export_xlsx_url": reverse("list_export", args=[definition.key]) + _qs({**base, "format": ["xlsx"]}),
        "undo": undo,
        "new_url": reverse(definition.new_url_name) if definition.new_url_name else "",
        # the page's records under the object's own name too ("accounts", "contacts", …)
        definition.key: page.rows,
        **(extra or {}),
    }
    return render(request, template, context)


def count_of(state, qs, cap: int | None = None) -> paging.Count:
    """The list's count: of a cheaper query with the same rows when the definition has one."""
    cheaper = state.definition.count_rows(state) if state.definition.count_rows else None
    if cheaper is None:
        return paging.count(qs, cap)
    return paging.count(cheaper, cap, estimate_from=qs)


def _options(choices, selected) -> str:
    """<option>s made in Python: a company's members or the world's countries are hundreds of
    options, which Django's widget templates render at ~50 µs each (tens of ms per page)."""
    selected = str(selected or "")
    return mark_safe("".join(  # noqa: S308 (every value and label is escaped here)
        f'<option value="{escape(str(value))}"{" selected" if str(value) == selected else ""}>{escape(str(label))}</option>'
        for value, label in choices))


# a choice filter with more options than this is a typeahead (countries), not a <select>
PICKER_MIN_CHOICES = 40


def _picker_filter(definition, name: str):
    """The filter behind form field `name` if it is picked by typeahead: people, long lists."""
    f = next((f for f in definition.filters if f.key == name), None)
    if f is None:
        return None
    if f.kind == "member":
        return f
    if f.kind == "choice" and callable(f.choices):  # static tuples are short (types, ratings)
        return f
    return None


def picker_html(*, url: str, name: str, input_id: str, value: str = "", label: str = "", placeholder: str = "",
                sr_label: str = "") -> str:
    """A typeahead (templates/components/picker.html, static/js/picker.js): type, arrow keys, Enter.
    The chosen value goes in a hidden input named `name`; the options come from `url?q=`."""
    return render_to_string("components/picker.html", {
        "url": url, "name": name, "id": input_id, "value": value, "label": label, "placeholder": placeholder,
        "sr_label": sr_label,
    })


def _field(bound, definition=None, state=None) -> dict:
    """A filter field for the bar: a typeahead for people and long lists, a select made by
    _options, any other field by its widget."""
    field = bound.field
    picked = _picker_filter(definition, bound.name) if definition is not None else None
    if picked is not None and (picked.kind == "member" or len(field.choices) > PICKER_MIN_CHOICES):
        value = str(bound.value() or "")
        if picked.kind == "member":
            person = state.ctx["members"].get(_uuid_or_none(value)) if value else None
            label = person["name"] if person else ""
        else:
            label = dict(field.choices).get(value, "") if value else ""
        html = picker_html(url=reverse("list_pick", args=[definition.key, picked.key]), name=bound.html_name,
                           input_id=bound.id_for_label, value=value if label else "", label=label,
                           placeholder="Anyone" if picked.kind == "member" else f"Any {picked.label.lower()}")
        return {"label": bound.label, "id": bound.id_for_label, "html": html, "invalid": bool(bound.errors)}
    if isinstance(field, forms.ChoiceField):
        html = format_html('<select name="{}" id="{}">{}</select>', bound.html_name, bound.id_for_label,
                           _options(field.choices, bound.value()))
    else:
        html = str(bound)
    return {"label": bound.label, "id": bound.id_for_label, "html": html, "invalid": bool(bound.errors)}


def _custom_filters(state) -> list[dict]:
    """The custom fields as filter inputs: one per field (two for ranges), with their values."""
    from crm.customfields.models import FieldType
    from crm.customfields.selectors import CHOICES, RANGED

    out = []
    params = state.params
    for spec in state.specs:
        name = f"cf_{spec.name}"
        item = {"spec": spec, "name": name, "value": (params.get(name) or [""])[0],
                "error": state.errors.get(name)}
        if spec.type in RANGED:
            item["kind"] = "range"
            item["input"] = "date" if spec.type == FieldType.DATE else "number"
            item["gte"] = (params.get(f"{name}__gte") or [""])[0]
            item["lte"] = (params.get(f"{name}__lte") or [""])[0]
            item["error"] = state.errors.get(f"{name}__gte") or state.errors.get(f"{name}__lte")
        elif spec.type in CHOICES:
            item["kind"] = "choice"
            item["options"] = spec.options
        elif spec.type == FieldType.CHECKBOX:
            item["kind"] = "bool"
        else:
            item["kind"] = "text"
        out.append(item)
    return out


# --- columns and saved views ------------------------------------------------------------------


@member_required
@require_POST
def columns_save(request, key):
    """The column menu: the ticked columns, in the order they were arranged. Kept for the person
    (session) and, when they are on a view they may change, on the view."""
    definition = _definition(key)
    actor = request.membership
    chosen = [c for c in request.POST.getlist("columns") if c]
    state = selectors.resolve(actor, definition, {}, columns=chosen)
    keys = [c.key for c in state.columns]
    prefs = request.session.get(SESSION_COLUMNS, {})
    view_id = request.POST.get("view", "")
    if view_id and view_id not in selectors.BUILTIN_VIEWS:
        view = selectors.view_get(actor=actor, pk=view_id, object_key=definition.key)
        if selectors.can_change_view(actor, view):
            services.view_update(actor=actor, view=view, columns=keys)
        else:
            prefs[_pref_key(definition, str(view.pk))] = keys
    else:
        prefs[definition.key] = keys
    request.session[SESSION_COLUMNS] = prefs
    messages.success(request, "Columns saved.")
    return redirect(_back(request, definition))


def _params_of(query: str) -> dict:
    from django.http import QueryDict

    qd = QueryDict(query or "")
    return {k: qd.getlist(k) for k in qd if k not in selectors.CONTROL_PARAMS}


@member_required
@require_POST
def view_create(request, key):
    definition = _definition(key)
    actor = request.membership
    state = selectors.resolve(actor, definition, _params_of(request.POST.get("query", "")),
                              session_columns=request.session.get(SESSION_COLUMNS, {}).get(definition.key))
    from django.http import QueryDict

    sort = QueryDict(request.POST.get("query", "")).get("sort", "")
    try:
        view = services.view_create(actor=actor, object=definition.key, name=request.POST.get("name", ""),
                                    params=state.params, columns=[c.key for c in state.columns], sort=sort,
                                    shared=bool(request.POST.get("shared")))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(_back(request, definition))
    messages.success(request, f"View “{view.name}” saved{' and shared with the team' if view.shared else ''}.")
    return redirect(reverse(definition.list_url_name) + _qs({**view.params, "view": [str(view.pk)]}))


@member_required
@require_POST
def view_update(request, pk):
    actor = request.membership
    view = selectors.view_get(actor=actor, pk=pk)
    definition = _definition(view.object)
    if not selectors.can_change_view(actor, view):
        raise Http404
    from django.http import QueryDict

    query = request.POST.get("query", "")
    params = _params_of(query)
    state = selectors.resolve(actor, definition, params, columns=view.columns or None)
    try:
        services.view_update(actor=actor, view=view, params=state.params,
                             sort=QueryDict(query).get("sort", view.sort),
                             name=request.POST.get("name") or None,
                             shared=bool(request.POST.get("shared")) if "shared_given" in request.POST else None)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"View “{view.name}” updated.")
    return redirect(reverse(definition.list_url_name) + _qs({**view.params, "view": [str(view.pk)]}))


@member_required
@require_POST
def view_delete(request, pk):
    actor = request.membership
    view = selectors.view_get(actor=actor, pk=pk)
    definition = _definition(view.object)
    try:
        services.view_delete(actor=actor, view=view)
    except PermissionDenied:
        raise Http404 from None
    messages.success(request, f"View “{view.name}” deleted.")
    return redirect(definition.list_url_name)


# --- typeaheads --------------------------------------------------------------------------------


@member_required
@require_GET
def pick(request, key, filter_key):
    """The options of a typeahead filter (or the bulk owner target): at most PICK_LIMIT matching
    `?q=`, as JSON [{value, label, detail}]. People: the members the person may filter by."""
    definition = _definition(key)
    actor = request.membership
    f = _picker_filter(definition, filter_key)
    if f is None or not registry.filter_visible(actor, definition, f):
        raise Http404
    text = request.GET.get("q", "")[:100]
    if f.kind == "member":
        rows = selectors.member_matches(actor, text)
    else:
        rows = selectors.choice_matches(f.choices(actor, {}), text)
    return JsonResponse({"results": [{"value": v, "label": label, "detail": detail} for v, label, detail in rows]})


@member_required
@require_GET
def bulk_actions(request, key):
    """The bulk action controls of a list (htmx, fetched when the first row is ticked)."""
    definition = _definition(key)
    actor = request.membership
    allowed = registry.actions_for(actor, definition)
    if not allowed:
        raise Http404
    owner = next((f for f in definition.filters if f.kind == "member"), None)
    return render(request, "lists/partials/bulk_actions.html", {
        "definition": definition,
        "bulk_keys": {a.key for a in allowed},
        "owner_picker": picker_html(url=reverse("list_pick", args=[definition.key, owner.key]), name="owner",
                                    input_id="bulk_owner", placeholder="New owner…",
                                    sr_label=f"New owner for the selected {definition.label.lower()}")
        if owner is not None and any(a.key == "owner" for a in allowed) else "",
        "merge_max": MERGE_MAX,
    })


# --- bulk actions -----------------------------------------------------------------------------


@member_required
@require_POST
def bulk(request, key):
    """One form on the list posts here with `action` = owner | tag | complete | delete."""
    definition = _definition(key)
    actor = request.membership
    action = request.POST.get("action", "")
    allowed = {a.key: a for a in definition.bulk_actions if a.allowed(actor)}
    back = _back(request, definition)
    if action not in allowed:
        raise Http404
    blocked = registry.action_blocked(actor, definition, allowed[action])
    if blocked:  # field-level security: say why, change nothing
        messages.error(request, blocked)
        return redirect(back)
    ids = request.POST.getlist("ids")
    if not ids:
        messages.error(request, f"Select the {definition.label.lower()} first (tick their boxes, or press x on a row).")
        return redirect(back)
    if action == "delete":
        return _delete_confirm(request, definition, ids, back)
    if action == "merge":
        return _merge_selected(request, definition, ids, back)
    try:
        if action == "owner":
            owner = Membership.objects.for_tenant(actor.tenant).filter(pk=_uuid_or_none(request.POST.get("owner")),
                                                                       is_active=True).select_related("user").first()
            if owner is None:
                messages.error(request, "Choose who gets the selected records.")
                return redirect(back)
            result = services.bulk_change_owner(actor=actor, object=definition.key, ids=ids, owner=owner)
            messages.success(request, result.message(f"now owned by {owner.user.full_name or owner.user.email}",
                                                     definition.singular))
        elif action == "complete":
            result = services.bulk_complete_tasks(actor=actor, object=definition.key, ids=ids)
            text = f"{result.changed} task{'s' if result.changed != 1 else ''} marked done."
            if result.skipped:
                text += f" {result.skipped} skipped: not open tasks you may change."
            messages.success(request, text)
        elif action == "tag":
            result = services.bulk_add_tag(actor=actor, object=definition.key, ids=ids,
                                           name=request.POST.get("tag", ""))
            messages.success(request, result.message(f"tagged “{request.POST.get('tag', '').strip()}”",
                                                     definition.singular))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect(back)


MERGE_MIN, MERGE_MAX = 2, 3


def _merge_selected(request, definition, ids, back):
    """"Merge…": two or three records the person may edit go to the merge page of crm/dedup (the
    one the duplicates queue opens), which shows them side by side; anything else is explained."""
    ids = list(dict.fromkeys(ids))
    if not MERGE_MIN <= len(ids) <= MERGE_MAX:
        messages.error(request, f"Merge works on {MERGE_MIN} or {MERGE_MAX} {definition.label.lower()} at a time: "
                                f"select {MERGE_MIN} or {MERGE_MAX} (you selected {len(ids)}).")
        return redirect(back)
    mergeable, refused = selectors.mergeable(actor=request.membership, definition=definition, ids=ids)
    if refused:
        messages.error(request, f"Only records you may edit can be merged: you may not change {refused} of the "
                                f"{len(ids)} selected {definition.label.lower()}.")
        return redirect(back)
    return redirect(reverse("dedup_merge") + _qs({"object": [definition.key], "ids": [str(pk) for pk in mergeable]}))


def _uuid_or_none(value):
    import uuid

    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _delete_confirm(request, definition, ids, back):
    """Say how many and which before deleting; the records the person may not delete are named
    as skipped."""
    actor = request.membership
    rows, skipped = services.deletable(actor=actor, object=definition.key, ids=ids)
    if request.POST.get("confirm") == "yes":
        result = services.bulk_delete(actor=actor, object=definition.key, ids=[r.pk for r in rows])
        result.skipped += skipped
        if result.batch is not None:
            request.session[SESSION_UNDO] = {"id": str(result.batch.pk), "object": definition.key,
                                             "summary": result.batch.summary, "count": result.batch.count}
        messages.success(request, result.message("deleted", definition.singular) +
                         (" You can undo this for an hour." if result.batch else ""))
        return redirect(back)
    return render(request, "lists/delete_confirm.html", {
        "definition": definition, "rows": [definition.title_of(r) for r in rows], "ids": [r.pk for r in rows],
        "skipped": skipped, "back": back, "count": len(rows), "page_title": f"Delete {definition.label.lower()}?",
    })


@member_required
def undo(request, pk):
    """The short-lived undo link: GET shows what would come back, POST restores it."""
    actor = request.membership
    batch = services.trash_get(actor=actor, pk=pk)
    definition = _definition(batch.object)
    if request.method == "POST":
        try:
            with transaction.atomic():
                count = services.bulk_undo(actor=actor, batch=batch)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        except IntegrityError:
            messages.error(request, "These records cannot come back: something with the same name was made since.")
        else:
            messages.success(request, f"{count} {definition.singular}{'s' if count != 1 else ''} restored.")
        return redirect(definition.list_url_name)
    return render(request, "lists/undo.html", {"batch": batch, "definition": definition,
                                               "expired": batch.expires_at <= timezone.now()})


# --- exports ----------------------------------------------------------------------------------


@member_required
@require_GET
def export(request, key):
    """The list as it is shown (filters, columns, sort) as CSV or XLSX: at once when small, else
    as a job the person follows to a download link."""
    definition = _definition(key)
    actor = request.membership
    fmt = request.GET.get("format", "csv")
    if fmt not in ("csv", "xlsx"):
        fmt = "csv"
    state = state_for(request, definition)
    if state.errors:
        messages.error(request, "Fix the filters before exporting: " + " ".join(state.errors.values()))
        return redirect(reverse(definition.list_url_name) + _qs(state.query()))
    total = count_of(state, selectors.rows_queryset(state), cap=exports.DIRECT_LIMIT)
    if total.estimated:
        job = services.export_create(actor=actor, object=definition.key, format=fmt, params=state.params,
                                     columns=[c.key for c in state.columns], sort=state.sort.key,
                                     rows_total=total.value)
        messages.success(request, "The export runs in the background: this page shows when it is ready.")
        return redirect("export_job", pk=job.pk)
    name = exports.file_name(state, fmt)
    if fmt == "xlsx":
        response = HttpResponse(exports.xlsx_bytes(state), content_type=exports.CONTENT_TYPES["xlsx"])
    else:
        # made inside the request (its transaction is where the tenant and RLS apply; a streamed
        # body would be read after it ends): at most DIRECT_LIMIT rows, a few hundred kB
        response = HttpResponse(b"".join(exports.csv_stream(state)), content_type=exports.CONTENT_TYPES["csv"])
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@member_required
def export_job(request, pk):
    job = services.export_get(actor=request.membership, pk=pk)
    done = job.rows_done if job.status == ExportJob.Status.DONE else (tenant_cache.get(progress_key(job.pk)) or 0)
    context = {"job": job, "done": done, "definition": _definition(job.object),
               "expired": job.expires_at is not None and job.expires_at <= timezone.now(),
               "running": job.status in (ExportJob.Status.QUEUED, ExportJob.Status.RUNNING),
               "page_title": f"Export of {_definition(job.object).label.lower()}"}
    if request.headers.get("HX-Request"):
        return render(request, "lists/partials/export_status.html", context)
    return render(request, "lists/export_job.html", context)


@member_required
def export_download(request, pk):
    job = services.export_get(actor=request.membership, pk=pk)
    if job.status != ExportJob.Status.DONE or not job.file_name or job.expires_at <= timezone.now():
        raise Http404
    store = exports.storage()
    if not store.exists(job.file_name):
        raise Http404
    name = f"{job.object}-{timezone.localtime(job.finished_at).date().isoformat()}.{job.format}"
    return FileResponse(store.open(job.file_name, "rb"), as_attachment=True, filename=name,
                        content_type=exports.CONTENT_TYPES[job.format])
