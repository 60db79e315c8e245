"""Writes for contacts and activities: one function per use case, keyword-only, one transaction.

Contacts and activities are private by owner (crm/access): a rep edits what they own, a manager
what their team owns, an admin everything in the company. Field-level security: every write checks
`fields.guard` first, so a field the actor may not change (hidden or read only in their profile)
is refused whatever the path (page, API, import, bulk action); nothing is written then. Emails are stored lower-case, phones in
E.164 (`phonenumbers`); Contact.email/phone mirror the primary ones so lists read one row.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import phonenumbers
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Account
from crm.access import fields as fls
from crm.access import policy as access
from crm.customfields import services as customfields
from crm.tenancy.models import Membership

from .models import (
    AccountRelation,
    Activity,
    ActivityComment,
    Attendee,
    Channel,
    Consent,
    Contact,
    ContactEmail,
    ContactPhone,
)

CONTACT_FIELDS = {
    "salutation", "first_name", "last_name", "title", "department", "account", "reports_to",
    "mailing_street", "mailing_city", "mailing_postal_code", "mailing_region", "mailing_country",
    "preferred_channel", "language", "birthday", "do_not_contact", "custom",
}
LOGGED_KINDS = {Activity.Kind.CALL, Activity.Kind.NOTE, Activity.Kind.EMAIL, Activity.Kind.VISIT,
                Activity.Kind.MEETING}
MAX_HIERARCHY_DEPTH = 100


# --- resolving references the actor may use ---------------------------------------------------

def _visible_one(model, actor: Membership, value, field: str, message: str):
    """The record `value` (an instance or an id) if the actor may read it; else a field error.

    A record of another tenant, or one the actor may not see, gets the same answer as one that
    does not exist: nothing is confirmed."""
    if value in (None, ""):
        return None
    pk = getattr(value, "pk", value)
    try:
        found = access.visible(model.objects.all(), actor, "read").filter(pk=pk).first()
    except (ValidationError, ValueError):
        found = None
    if found is None:
        raise ValidationError({field: message})
    return found


def _account(actor, value, field="account"):
    return _visible_one(Account, actor, value, field, "Choose an account you can see.")


def _contact(actor, value, field="contact"):
    return _visible_one(Contact, actor, value, field, "Choose a contact you can see.")


def _owner(actor: Membership, value) -> Membership:
    """The owner of a new record: the actor, or someone in their team (managers), anyone (admins)."""
    if value in (None, ""):
        return actor
    pk = getattr(value, "pk", value)
    owner = Membership.objects.for_tenant(actor.tenant_id).filter(pk=pk, is_active=True).first() \
        if _is_uuid(pk) else None
    if owner is None or not (access.sees_all(actor) or owner.pk in access.subordinate_ids(actor)):
        raise ValidationError({"owner": "Choose yourself or someone in your team."})
    return owner


def _is_uuid(value) -> bool:
    import uuid

    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


# --- field-level security -----------------------------------------------------------------------

def _entries_now(contact: Contact, name: str) -> list:
    if contact.pk is None:
        return []
    if name == "emails":
        return sorted((e.email, e.label, e.is_primary) for e in contact.emails.all())
    return sorted((p.number, p.label, p.is_primary) for p in contact.phones.all())


def _guard_reach(actor: Membership, contact: Contact, emails: list | None, phones: list | None) -> None:
    """The contact's emails/phones follow contacts.email/contacts.phone: when those may not be
    changed, a new list must hold exactly what the contact has (normalised entries)."""
    blocked = fls.unwritable(actor, "contacts")
    errors = {}
    for name, entries, key in (("emails", emails, "email"), ("phones", phones, "number")):
        if entries is None or name not in blocked:
            continue
        given = sorted((e[key], e["label"], e["is_primary"]) for e in entries)
        if given != _entries_now(contact, name):
            errors[name] = fls.message("contacts", name, fls.access(actor, "contacts", name))
    if errors:
        raise ValidationError(errors)


# --- emails and phones --------------------------------------------------------------------------

def _entries(values, key: str) -> list[dict]:
    out = []
    for value in values or []:
        if isinstance(value, str):
            value = {key: value}
        if not isinstance(value, dict):
            raise ValidationError({f"{key}s": "Each entry needs a value."})
        out.append({key: str(value.get(key) or "").strip(), "label": str(value.get("label") or "")[:20],
                    "is_primary": bool(value.get("is_primary"))})
    return [e for e in out if e[key]]


def _one_primary(entries: list[dict], field: str) -> list[dict]:
    primaries = [e for e in entries if e["is_primary"]]
    if len(primaries) > 1:
        raise ValidationError({field: "Mark only one as primary."})
    if entries and not primaries:
        entries[0]["is_primary"] = True
    return entries


def normalise_emails(values) -> list[dict]:
    """Lower-cased, validated, de-duplicated emails with exactly one primary (the first by default)."""
    entries, seen, errors = [], set(), []
    for position, entry in enumerate(_entries(values, "email"), start=1):
        email = entry["email"].lower()
        try:
            validate_email(email)
        except ValidationError:
            errors.append(f"{entry['email']} is not a valid email address (entry {position}).")
            continue
        if email in seen:
            continue
        seen.add(email)
        entries.append({**entry, "email": email})
    if errors:
        raise ValidationError({"emails": errors})
    return _one_primary(entries, "emails")


def normalise_phone(number: str, region: str | None = None) -> str:
    """E.164 for `number`, read in `region` (an ISO country) when it has no +country code."""
    try:
        parsed = phonenumbers.parse(number, (region or None) and str(region).upper())
    except phonenumbers.NumberParseException:
        if not region and not number.strip().startswith("+"):
            raise ValidationError(
                f"{number}: start with + and the country code (e.g. +49 30 1234567), or set the mailing country."
            ) from None
        raise ValidationError(f"{number} is not a phone number.") from None
    if not phonenumbers.is_valid_number(parsed):
        raise ValidationError(f"{number} is not a valid phone number{f' in {region}' if region else ''}.")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalise_phones(values, region: str | None = None) -> list[dict]:
    entries, seen, errors = [], set(), []
    for entry in _entries(values, "number"):
        try:
            number = normalise_phone(entry["number"], region)
        except ValidationError as exc:
            errors.extend(exc.messages)
            continue
        if number in seen:
            continue
        seen.add(number)
        entries.append({**entry, "number": number})
    if errors:
        raise ValidationError({"phones": errors})
    return _one_primary(entries, "phones")


def _save_emails(contact: Contact, entries: list[dict]) -> None:
    contact.emails.all().delete()
    ContactEmail.objects.bulk_create([
        ContactEmail(tenant_id=contact.tenant_id, contact=contact, **e) for e in entries
    ])
    contact.email = next((e["email"] for e in entries if e["is_primary"]), "")


def _save_phones(contact: Contact, entries: list[dict]) -> None:
    contact.phones.all().delete()
    ContactPhone.objects.bulk_create([
        ContactPhone(tenant_id=contact.tenant_id, contact=contact, **e) for e in entries
    ])
    contact.phone = next((e["number"] for e in entries if e["is_primary"]), "")


def _check_reports_to(contact: Contact) -> None:
    """No contact reports to themselves, directly or through others."""
    seen = {contact.pk}
    current = contact.reports_to_id
    for _ in range(MAX_HIERARCHY_DEPTH):
        if current is None:
            return
        if current in seen:
            raise ValidationError({"reports_to": "This would make a reporting loop."})
        seen.add(current)
        current = Contact.objects.for_tenant(contact.tenant_id).filter(pk=current).values_list(
            "reports_to_id", flat=True).first()
    raise ValidationError({"reports_to": "The reporting line is too deep."})


def _apply_fields(actor: Membership, contact: Contact, fields: dict) -> None:
    unknown = set(fields) - CONTACT_FIELDS
    if unknown:
        raise ValidationError({name: "Unknown field." for name in sorted(unknown)})
    if "account" in fields:
        fields["account"] = _account(actor, fields["account"])
    if "reports_to" in fields:
        fields["reports_to"] = _contact(actor, fields["reports_to"], "reports_to")
    for name, value in fields.items():
        if value is None and name not in {"account", "reports_to", "birthday"}:
            value = {} if name == "custom" else ("" if name != "do_not_contact" else False)
        setattr(contact, name, value)


def _full_clean(obj, exclude=()) -> None:
    obj.full_clean(exclude=["tenant", *exclude], validate_constraints=False)


def _relations(actor: Membership, contact: Contact, relations) -> None:
    rows, seen = [], set()
    for position, relation in enumerate(relations or [], start=1):
        if not isinstance(relation, dict):
            raise ValidationError({"relations": f"Entry {position}: give an account and a role."})
        account = _account(actor, relation.get("account"), "relations")
        role = str(relation.get("role") or "").strip()[:80]
        if not role:
            raise ValidationError({"relations": f"Entry {position}: say what role they have there."})
        if (account.pk, role) in seen:
            continue
        seen.add((account.pk, role))
        rows.append(AccountRelation(tenant_id=contact.tenant_id, contact=contact, account=account, role=role))
    contact.account_relations.all().delete()
    AccountRelation.objects.bulk_create(rows)


def _refuse_erased(contact: Contact) -> None:
    """An erased contact (contacts/gdpr.py) is never edited back into a person."""
    if contact.erased_at is not None:
        raise ValidationError({"__all__": "This contact was erased (GDPR) and cannot be changed."})


@transaction.atomic
def contact_create(*, actor: Membership, emails=None, phones=None, relations=None, owner=None,
                   **fields) -> Contact:
    """A new contact owned by the actor (or, for managers, someone in their team)."""
    access.require(actor, "create", "contacts")
    fls.guard(actor, "contacts", fields)
    contact = Contact(tenant_id=actor.tenant_id, owner=_owner(actor, owner), created_by=actor, modified_by=actor)
    custom = fields.pop("custom", None)
    _apply_fields(actor, contact, fields)
    customfields.stage(contact, "contacts", custom, creating=True)
    email_entries = normalise_emails(emails)
    phone_entries = normalise_phones(phones, contact.mailing_country.code if contact.mailing_country else None)
    _guard_reach(actor, contact, email_entries if emails is not None else None,
                 phone_entries if phones is not None else None)
    contact.email = next((e["email"] for e in email_entries if e["is_primary"]), "")
    contact.phone = next((e["number"] for e in phone_entries if e["is_primary"]), "")
    _full_clean(contact, exclude=["owner", "account", "reports_to"])
    contact.save(force_insert=True)
    customfields.sync(contact, "contacts")
    _check_reports_to(contact)
    _save_emails(contact, email_entries)
    _save_phones(contact, phone_entries)
    if relations:
        _relations(actor, contact, relations)
    return contact


@transaction.atomic
def contact_update(*, actor: Membership, contact: Contact, emails=None, phones=None, relations=None,
                   owner=None, **fields) -> Contact:
    """Change a contact; emails/phones/relations, when given, replace the current lists."""
    access.require(actor, "edit", contact)
    _refuse_erased(contact)
    fls.guard(actor, "contacts", fields, record=contact)
    custom_changed = customfields.stage(contact, "contacts", fields.pop("custom", None), creating=False)
    _apply_fields(actor, contact, fields)
    if owner is not None:
        contact.owner = _owner(actor, owner)
    contact.modified_by = actor
    region = contact.mailing_country.code if contact.mailing_country else None
    email_entries = normalise_emails(emails) if emails is not None else None
    phone_entries = normalise_phones(phones, region) if phones is not None else None
    _guard_reach(actor, contact, email_entries, phone_entries)
    _full_clean(contact, exclude=["owner", "account", "reports_to", "email", "phone"])
    _check_reports_to(contact)
    if email_entries is not None:
        _save_emails(contact, email_entries)
    if phone_entries is not None:
        _save_phones(contact, phone_entries)
    if relations is not None:
        _relations(actor, contact, relations)
    contact.save()
    if custom_changed:
        customfields.sync(contact, "contacts")
    return contact


@transaction.atomic
def contact_delete(*, actor: Membership, contact: Contact) -> None:
    access.require(actor, "delete", contact)
    contact.delete()


@transaction.atomic
def consent_record(*, actor: Membership, contact: Contact, channel: str, status: str, source: str = "",
                   proof: str = "") -> Consent:
    """Record what the person agreed to on one channel, when, where and how (one row per channel)."""
    access.require(actor, "edit", contact)
    _refuse_erased(contact)
    if channel not in Channel.values:
        raise ValidationError({"channel": "Choose email, phone or SMS."})
    if status not in Consent.Status.values:
        raise ValidationError({"status": "Choose granted, denied, withdrawn or not asked."})
    if status == Consent.Status.GRANTED and not (source or "").strip():
        raise ValidationError({"source": "Say where the consent was given (web form, call…)."})
    consent = Consent.objects.for_tenant(actor.tenant_id).filter(contact=contact, channel=channel).first() \
        or Consent(tenant_id=actor.tenant_id, contact=contact, channel=channel)
    consent.status = status
    consent.recorded_at = timezone.now()
    consent.source = (source or "").strip()[:100]
    consent.proof = proof or ""
    consent.save()
    return consent


# --- activities ---------------------------------------------------------------------------------

def _links(actor: Membership, account, contact) -> tuple[Account | None, Contact | None]:
    account = _account(actor, account)
    contact = _contact(actor, contact)
    if contact is not None and contact.erased_at is not None:
        raise ValidationError({"contact": "This person's data was erased (GDPR): nothing new is recorded about them."})
    if contact is not None and account is None:
        account = contact.account  # the contact's timeline shows on their company's page too
    return account, contact


@transaction.atomic
def activity_log(*, actor: Membership, kind: str, subject: str, account=None, contact=None, body: str = "",
                 occurred_at: datetime | None = None, ends_at: datetime | None = None, direction: str = "",
                 duration_minutes: int | None = None, outcome: str = "", location: str = "",
                 attendees: Iterable = (), attendee_contacts: Iterable = (), custom: dict | None = None) -> Activity:
    """Log a call, note, email, visit or meeting (with colleagues and contacts attending)."""
    access.require(actor, "create", "activities")
    if kind not in LOGGED_KINDS:
        raise ValidationError({"kind": "Choose a call, meeting, note, email or visit (tasks: task_create)."})
    fls.guard(actor, "activities", {
        "body": body, "occurred_at": occurred_at, "ends_at": ends_at, "direction": direction,
        "duration_minutes": duration_minutes, "outcome": outcome, "location": location, "custom": custom or {}})
    account, contact = _links(actor, account, contact)
    if kind != Activity.Kind.MEETING and account is None and contact is None:
        raise ValidationError({"account": "Say which account or contact this was with."})
    occurred_at = occurred_at or timezone.now()
    if kind == Activity.Kind.MEETING:
        if ends_at is None:
            raise ValidationError({"ends_at": "Say when the meeting ends."})
        if ends_at < occurred_at:
            raise ValidationError({"ends_at": "The meeting cannot end before it starts."})
    activity = Activity(
        tenant_id=actor.tenant_id, kind=kind, subject=(subject or "").strip(), body=body or "", owner=actor,
        account=account, contact=contact, occurred_at=occurred_at, ends_at=ends_at,
        status=Activity.Status.DONE if kind != Activity.Kind.MEETING else Activity.Status.OPEN,
        direction=direction or "", duration_minutes=duration_minutes, outcome=outcome or "",
        location=location or "", created_by=actor,
    )
    if kind != Activity.Kind.CALL and (direction or duration_minutes is not None or outcome):
        raise ValidationError({"direction": "Direction, duration and outcome are for calls."})
    customfields.stage(activity, "activities", custom, creating=True)
    _full_clean(activity, exclude=["owner", "account", "contact", "created_by"])
    activity.save(force_insert=True)
    customfields.sync(activity, "activities")
    rows = []
    for member in attendees or ():
        pk = getattr(member, "pk", member)
        found = Membership.objects.for_tenant(actor.tenant_id).filter(pk=pk).first() if _is_uuid(pk) else None
        if found is None:
            raise ValidationError({"attendees": "Choose colleagues from your company."})
        rows.append(Attendee(tenant_id=actor.tenant_id, activity=activity, membership=found))
    for person in attendee_contacts or ():
        rows.append(Attendee(tenant_id=actor.tenant_id, activity=activity,
                             contact=_contact(actor, person, "attendee_contacts")))
    Attendee.objects.bulk_create(rows)
    return activity


@transaction.atomic
def task_create(*, actor: Membership, subject: str, due_at: datetime | None = None, priority: str = "normal",
                remind_at: datetime | None = None, account=None, contact=None, body: str = "",
                owner=None, custom: dict | None = None) -> Activity:
    """A task for the actor (or, for a manager, someone in their team). Its place on a timeline is
    when it was set (occurred_at), so timelines keep one keyset order; its deadline is due_at."""
    access.require(actor, "create", "activities")
    fls.guard(actor, "activities", {"body": body, "due_at": due_at, "priority": priority,
                                               "remind_at": remind_at, "custom": custom or {}})
    account, contact = _links(actor, account, contact)
    if remind_at is not None and due_at is not None and remind_at > due_at:
        raise ValidationError({"remind_at": "Remind before the task is due."})
    task = Activity(
        tenant_id=actor.tenant_id, kind=Activity.Kind.TASK, subject=(subject or "").strip(), body=body or "",
        owner=_owner(actor, owner), account=account, contact=contact, occurred_at=timezone.now(),
        due_at=due_at, priority=priority or Activity.Priority.NORMAL, remind_at=remind_at, created_by=actor,
    )
    customfields.stage(task, "activities", custom, creating=True)
    _full_clean(task, exclude=["owner", "account", "contact", "created_by"])
    task.save(force_insert=True)
    customfields.sync(task, "activities")
    return task


@transaction.atomic
def activity_update(*, actor: Membership, activity: Activity, **fields) -> Activity:
    """Change the text, timing or status of an activity the actor may edit."""
    access.require(actor, "edit", activity)
    allowed = {"subject", "body", "occurred_at", "ends_at", "due_at", "priority", "remind_at", "direction",
               "duration_minutes", "outcome", "location", "status", "custom"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError({name: "This cannot be changed here." for name in sorted(unknown)})
    fls.guard(actor, "activities", fields, record=activity)
    custom_changed = customfields.stage(activity, "activities", fields.pop("custom", None), creating=False)
    if "remind_at" in fields and fields["remind_at"] != activity.remind_at:
        activity.reminded_at = None  # a new reminder time is a new reminder
    for name, value in fields.items():
        setattr(activity, name, value)
    if activity.status == Activity.Status.DONE and activity.completed_at is None:
        activity.completed_at = timezone.now()
    if activity.status != Activity.Status.DONE:
        activity.completed_at = None
    _full_clean(activity, exclude=["owner", "account", "contact", "created_by"])
    activity.save()
    if custom_changed:
        customfields.sync(activity, "activities")
    return activity


@transaction.atomic
def activity_delete(*, actor: Membership, activity: Activity) -> None:
    access.require(actor, "delete", activity)
    activity.delete()


@transaction.atomic
def meeting_attendees_set(*, actor: Membership, activity: Activity, attendees: Iterable = (),
                          attendee_contacts: Iterable = ()) -> Activity:
    """Who attends a meeting: colleagues of the company and contacts, replacing the current ones.
    Contacts the actor cannot see stay as they are (someone else invited them)."""
    access.require(actor, "edit", activity)
    if activity.kind != Activity.Kind.MEETING:
        raise ValidationError({"attendees": "Only meetings have attendees."})
    tenant_id = actor.tenant_id
    members, seen_members = [], set()
    for member in attendees or ():
        pk = getattr(member, "pk", member)
        found = Membership.objects.for_tenant(tenant_id).filter(pk=pk).first() if _is_uuid(pk) else None
        if found is None:
            raise ValidationError({"attendees": "Choose colleagues from your company."})
        if found.pk not in seen_members:
            seen_members.add(found.pk)
            members.append(found)
    people, seen_people = [], set()
    for person in attendee_contacts or ():
        found = _contact(actor, person, "attendee_contacts")
        if found.pk not in seen_people:
            seen_people.add(found.pk)
            people.append(found)
    current = Attendee.objects.for_tenant(tenant_id).filter(activity=activity)
    visible_ids = set(access.visible(Contact.objects.for_tenant(tenant_id), actor, "read").filter(
        pk__in=current.filter(contact__isnull=False).values("contact_id")).values_list("pk", flat=True))
    kept_hidden = {a.contact_id for a in current if a.contact_id and a.contact_id not in visible_ids}
    current.filter(Q(membership__isnull=False) | Q(contact_id__in=visible_ids)).delete()
    Attendee.objects.bulk_create(
        [Attendee(tenant_id=tenant_id, activity=activity, membership=m) for m in members]
        + [Attendee(tenant_id=tenant_id, activity=activity, contact=c) for c in people if c.pk not in kept_hidden]
    )
    return activity


@transaction.atomic
def task_complete(*, actor: Membership, task: Activity) -> Activity:
    """Mark a task done. Idempotent: completing a done task changes nothing (a double click, a retry)."""
    access.require(actor, "edit", task)
    if task.kind != Activity.Kind.TASK:
        raise ValidationError({"kind": "Only tasks are completed."})
    if task.status == Activity.Status.DONE:
        return task
    task.status = Activity.Status.DONE
    task.completed_at = timezone.now()
    task.save(update_fields=["status", "completed_at", "updated_at"])
    return task


@transaction.atomic
def activity_comment_add(*, actor: Membership, activity: Activity, body: str) -> ActivityComment:
    """A manager's comment on an activity of someone in their team; the owner sees it on their home page."""
    if activity.owner_id == actor.pk or not (
            access.sees_all(actor) or activity.owner_id in access.subordinate_ids(actor)):
        raise PermissionDenied("Only a manager comments on their team's activities.")
    access.require(actor, "read", activity)
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": "Write a comment."})
    return ActivityComment.objects.create(tenant_id=actor.tenant_id, activity=activity, author=actor, body=body)


def may_comment(actor: Membership) -> bool:
    """Does the actor comment on others' activities at all: someone above others in the role
    hierarchy, or who administers the company (activity_comment_add decides per activity)."""
    return actor is not None and (access.sees_all(actor) or len(access.subordinate_ids(actor)) > 1)


@transaction.atomic
def activity_comments_mark_read(*, actor: Membership) -> int:
    """The actor has seen every comment on their activities."""
    return ActivityComment.objects.for_tenant(actor.tenant_id).filter(
        activity__owner=actor, read_at__isnull=True,
    ).update(read_at=timezone.now())


# --- reminders -----------------------------------------------------------------------------------

def due_reminders_query(tenant_id, now: datetime):
    """Open tasks whose reminder time has come and that were not reminded yet, in one tenant:
    an index range on activity_reminder_idx (tenant, status, remind_at)."""
    return Activity.objects.filter(
        tenant_id=tenant_id, status=Activity.Status.OPEN, remind_at__lte=now, reminded_at__isnull=True,
    )


@transaction.atomic
def task_reminders_send(*, tenant_id, now: datetime | None = None, limit: int = 500) -> int:
    """Mail each due task's owner once, through the outbox, and stamp reminded_at in the same
    transaction: the mail and the stamp commit together or not at all. Rows are locked with
    SKIP LOCKED, so two overlapping runs never remind twice. Runs inside the tenant's context."""
    from django.conf import settings
    from django.core.mail import send_mail

    now = now or timezone.now()
    tasks = list(
        due_reminders_query(tenant_id, now).select_related("owner__user", "account")
        .order_by("remind_at", "id").select_for_update(skip_locked=True, of=("self",))[:limit]
    )
    hidden_from: dict = {}  # owner id -> the task fields their profile hides (the mail is a page too)
    for task in tasks:
        if task.owner_id not in hidden_from:
            hidden_from[task.owner_id] = fls.hidden(task.owner, "activities")
        hidden = hidden_from[task.owner_id]
        lines = [f"Reminder: {task.subject}"]
        if "due_at" not in hidden:
            due = timezone.localtime(task.due_at).strftime("%a %d %b %H:%M") if task.due_at else "no due date"
            lines.append(f"Due: {due}")
        if task.account_id:
            lines.append(f"Account: {task.account.name}")
        if task.body and "body" not in hidden:
            lines += ["", task.body]
        send_mail(f"Reminder: {task.subject}", "\n".join(lines), settings.DEFAULT_FROM_EMAIL,
                  [task.owner.user.email])
        task.reminded_at = now
        task.save(update_fields=["reminded_at", "updated_at"])
    return len(tasks)
