"""The contacts and activities lists in the list registry (crm/lists).

Filters compare stored columns inside (tenant_id, …) indexes (contacts' and activities' own, or
the ones crm/lists/migrations/0002 adds) or go through `id IN` indexed subqueries (an account
named exactly, custom fields). Activities list newest first on (tenant, -occurred_at, -id).
"""

from __future__ import annotations

import uuid

from django.urls import reverse
from django.utils.html import format_html

from accounts.models import Account
from crm.access import fields as fls
from crm.access import policy
from crm.lists.registry import BulkAction, Column, Filter, ListDefinition, Sort, choice, code, register
from crm.lists.selectors import country_choices, date_range_q
from crm.tenancy.search import key_value, prefix_q

from . import selectors
from .models import Activity, Contact

KIND_TONES = {"call": "blue", "meeting": "accent", "task": "amber", "note": "gray", "email": "blue", "visit": "green"}
STATUS_TONES = {"open": "amber", "done": "green", "cancelled": "gray"}


def _badge(text, tone):
    return format_html('<span class="badge badge-{}">{}</span>', tone, text)


def _owner(obj, ctx):
    return ctx["member_names"].get(str(obj.owner_id), "")


def _prepare_accounts(rows, ctx):
    """Names of the rows' accounts: one query (the name a contact's page shows too)."""
    ids = {str(r.account_id) for r in rows if r.account_id}
    known = ctx.setdefault("account_names", {})
    missing = ids - known.keys()
    if missing:
        known.update((str(pk), name) for pk, name in Account.objects.filter(
            tenant_id=ctx["actor"].tenant_id, id__in=list(missing)).values_list("id", "name"))


def _account(obj, ctx):
    return ctx.get("account_names", {}).get(str(obj.account_id), "") if obj.account_id else ""


def _account_html(obj, ctx):
    name = _account(obj, ctx)
    if not name:
        return format_html('<span class="muted">—</span>')
    return format_html('<a href="{}">{}</a>', reverse("account_detail", args=[obj.account_id]), name)


def _range(field_name):
    def apply(qs, value, actor):
        return qs.filter(date_range_q(field_name, *value))

    return apply


def _country_choices(actor, ctx):
    return country_choices()


def _can_bulk_owner(actor) -> bool:
    """Giving records to someone else is handing them over: the profile's "transfer records"
    permission (managers and admins by default), asked of crm.access rather than the role."""
    return policy.can(actor, "transfer_records")


# --- contacts ---------------------------------------------------------------------------------


def _contact_name(c) -> str:
    return f"{c.last_name}, {c.first_name}" if c.first_name else c.last_name


def _contact_html(c, ctx):
    url = reverse("contact_detail", args=[c.pk])
    badge = format_html(' <span class="badge badge-red">Do not contact</span>') if c.do_not_contact else ""
    # the title under the name is a field of its own: not shown when field-level security hides it
    shows_title = c.title and "title" not in fls.hidden(ctx.get("actor"), "contacts")
    sub = format_html('<span class="cell-sub">{}</span>', c.title) if shows_title else ""
    return format_html('<a href="{}" data-row-link>{}</a>{}{}', url, _contact_name(c), sub, badge)


def _contact_search(qs, value, actor):
    value = value.strip()
    if "@" in value:
        # an exact email: not for someone the email is hidden from (the match would reveal it)
        if "email" in fls.hidden(actor, "contacts"):
            return qs.none()
        return qs.filter(email=value.lower())
    return qs.filter(prefix_q("name_key", value))


def _contact_account(qs, value, actor):
    """An account by its id (links from an account's page) or its exact name, case-blind: the
    visible accounts of that name, as an indexed subquery (account_name_key_idx)."""
    try:
        return qs.filter(account_id=uuid.UUID(value.strip()))
    except ValueError:
        pass
    accounts = policy.visible(Account.objects.for_tenant(actor.tenant_id), actor, "read") \
        .filter(name_key=key_value(value)).values("id")
    return qs.filter(account_id__in=accounts)


def _forget_custom(tenant_id, ids):
    from crm.customfields import services as customfields

    customfields.forget_records(tenant_id, ids)


CONTACTS = register(ListDefinition(
    key="contacts", label="Contacts", singular="contact", model=Contact,
    queryset=lambda actor: selectors.contacts_visible(actor),
    detail_url=lambda c: reverse("contact_detail", args=[c.pk]),
    list_url_name="contact_list", new_url_name="contact_create", new_label="New contact",
    title=_contact_name,
    subtitle="The people at your customers: how to reach them and what they agreed to.",
    empty_text="Add the people you talk to at your accounts: their emails, phones and what they agreed to.",
    custom_object="contacts",
    sorts=[
        Sort("name", "Name", ("name_key", "id"), index="contact_name_key_idx"),
        Sort("updated", "Recently updated", ("updated_at", "id"), descending=True, index="contact_updated_idx"),
    ],
    columns=[
        Column("name", "Name", lambda c, ctx: _contact_name(c), fields=("first_name", "last_name", "title",
               "do_not_contact"), html=_contact_html, sort="name", default=True, field_name="last_name"),
        Column("title", "Title", lambda c, ctx: c.title, fields=("title",), field_name="title"),
        Column("account", "Account", _account, fields=("account_id",), html=_account_html, prepare=_prepare_accounts,
               default=True, field_name="account"),
        Column("email", "Email", lambda c, ctx: c.email, fields=("email",), default=True, field_name="email"),
        Column("phone", "Phone", lambda c, ctx: c.phone, fields=("phone",), default=True, field_name="phone"),
        Column("country", "Country", code("mailing_country"), fields=("mailing_country",),
               field_name="mailing_country"),
        Column("city", "City", lambda c, ctx: c.mailing_city, fields=("mailing_city",), field_name="mailing_city"),
        Column("language", "Language", lambda c, ctx: c.language, fields=("language",), field_name="language"),
        Column("do_not_contact", "Do not contact", lambda c, ctx: c.do_not_contact, fields=("do_not_contact",),
               field_name="do_not_contact"),
        Column("owner", "Owner", _owner, fields=("owner_id",), default=True, field_name="owner"),
        Column("created", "Created", lambda c, ctx: c.created_at, fields=("created_at",), field_name="created_at"),
        Column("updated", "Updated", lambda c, ctx: c.updated_at, fields=("updated_at",), sort="updated",
               field_name="updated_at"),
    ],
    filters=[
        Filter("q", "Search", "text", _contact_search, placeholder="Name or email", index="contact_name_key_idx"),
        Filter("account", "Account", "text", _contact_account, placeholder="Exact account name",
               index="contacts_contact_account_id_tidx", field_name="account"),
        Filter("owner", "Owner", "member", lambda qs, v, actor: qs.filter(owner_id=v), index="contact_owner_name_idx",
               field_name="owner"),
        Filter("country", "Country", "choice", lambda qs, v, actor: qs.filter(mailing_country=v.upper()),
               choices=_country_choices, index="lists_contact_country_idx", field_name="mailing_country"),
        Filter("language", "Language", "text", lambda qs, v, actor: qs.filter(language=v.strip()),
               placeholder="e.g. de", index="lists_contact_language_idx", field_name="language"),
        Filter("do_not_contact", "Do not contact", "bool",
               lambda qs, v, actor: qs.filter(do_not_contact=(v == "yes")), index="lists_contact_dnc_idx",
               field_name="do_not_contact"),
        Filter("created", "Created", "range", _range("created_at"), index="lists_contact_created_idx",
               field_name="created_at"),
        Filter("updated", "Updated", "range", _range("updated_at"), index="contact_updated_idx",
               field_name="updated_at"),
    ],
    bulk_actions=[
        BulkAction("owner", "Change owner", _can_bulk_owner),
        # two or three records the person may edit, to the merge page of crm/dedup
        BulkAction("merge", "Merge…", lambda actor: True),
        BulkAction("delete", "Delete", lambda actor: True),
    ],
    before_delete=_forget_custom,
))


# --- activities -------------------------------------------------------------------------------


def _subject_html(a, ctx):
    if a.account_id:
        url = reverse("account_detail", args=[a.account_id])
    elif a.contact_id:
        url = reverse("contact_detail", args=[a.contact_id])
    else:
        return format_html('<span tabindex="-1">{}</span>', a.subject)
    return format_html('<a href="{}" data-row-link>{}</a>', url, a.subject)


def _prepare_contacts(rows, ctx):
    ids = {str(r.contact_id) for r in rows if r.contact_id}
    known = ctx.setdefault("contact_names", {})
    missing = ids - known.keys()
    if missing:
        for pk, first, last in Contact.objects.filter(tenant_id=ctx["actor"].tenant_id, id__in=list(missing)) \
                .values_list("id", "first_name", "last_name"):
            known[str(pk)] = f"{first} {last}".strip()


def _contact(a, ctx):
    return ctx.get("contact_names", {}).get(str(a.contact_id), "") if a.contact_id else ""


ACTIVITIES = register(ListDefinition(
    key="activities", label="Activities", singular="activity", model=Activity,
    queryset=lambda actor: selectors.activities_visible(actor),
    detail_url=lambda a: reverse("account_detail", args=[a.account_id]) if a.account_id else "",
    list_url_name="activity_list", new_url_name="activity_create", new_label="Log an activity",
    title_field="subject",
    has_recent=False,  # activities have no page of their own to visit
    subtitle="Calls, meetings, tasks, notes, emails and visits, newest first.",
    empty_text="Log a call or a meeting, or add a task: it shows here, newest first.",
    custom_object="activities",
    # the one order the list has: no field_name, so it stays when occurred_at is hidden (the "When"
    # column and the date filter go; the order alone shows no value)
    sorts=[
        Sort("newest", "Newest", ("occurred_at", "id"), descending=True, index="lists_activity_time_idx"),
    ],
    columns=[
        Column("subject", "Subject", lambda a, ctx: a.subject, fields=("subject", "account_id", "contact_id"),
               html=_subject_html, default=True, field_name="subject"),
        Column("kind", "Kind", choice("kind", Activity.Kind), fields=("kind",), default=True, field_name="kind",
               html=lambda a, ctx: _badge(a.get_kind_display(), KIND_TONES.get(a.kind, "gray"))),
        Column("status", "Status", choice("status", Activity.Status), fields=("status",), default=True,
               field_name="status", html=lambda a, ctx: _badge(a.get_status_display(), STATUS_TONES.get(a.status, "gray"))),
        Column("priority", "Priority", choice("priority", Activity.Priority), fields=("priority",),
               field_name="priority"),
        Column("account", "Account", _account, fields=("account_id",), html=_account_html, prepare=_prepare_accounts,
               default=True, field_name="account"),
        Column("contact", "Contact", _contact, fields=("contact_id",), prepare=_prepare_contacts, field_name="contact"),
        Column("owner", "Owner", _owner, fields=("owner_id",), default=True, field_name="owner"),
        Column("occurred", "When", lambda a, ctx: a.occurred_at, fields=("occurred_at",), sort="newest", default=True,
               field_name="occurred_at"),
        Column("due", "Due", lambda a, ctx: a.due_at, fields=("due_at",), field_name="due_at"),
        Column("outcome", "Outcome", lambda a, ctx: a.outcome, fields=("outcome",), field_name="outcome"),
    ],
    filters=[
        Filter("kind", "Kind", "choice", lambda qs, v, actor: qs.filter(kind=v), choices=tuple(Activity.Kind.choices),
               index="lists_activity_kind_idx", field_name="kind"),
        Filter("status", "Status", "choice", lambda qs, v, actor: qs.filter(status=v),
               choices=tuple(Activity.Status.choices), index="lists_activity_status_idx", field_name="status"),
        Filter("owner", "Owner", "member", lambda qs, v, actor: qs.filter(owner_id=v), index="activity_owner_time_idx",
               field_name="owner"),
        Filter("due", "Due", "range", _range("due_at"), index="lists_activity_due_idx", field_name="due_at"),
        Filter("occurred", "Date", "range", _range("occurred_at"), index="lists_activity_time_idx",
               field_name="occurred_at"),
    ],
    bulk_actions=[
        BulkAction("owner", "Change owner", _can_bulk_owner),
        BulkAction("complete", "Mark done", lambda actor: True),
        BulkAction("delete", "Delete", lambda actor: True),
    ],
    before_delete=_forget_custom,
))
