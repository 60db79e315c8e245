"""GDPR for contacts: export everything held about a person; erase them (anonymise in place).

Who may
-------
- **Export** (a data subject's access request): whoever may export (the profile's export
  permission) and is above others in the role hierarchy or administers the company — admins, and
  managers for the contacts they may see (their team's). The file holds the change history and
  every activity about the person, so it is not for reps; every export is written to the security
  log. Fields the exporter may not see (field-level security) are left out of the file.
- **Erase**: whoever manages users (admins) only. It cannot be undone, it rewrites history (below) and it changes
  company-wide statistics' detail, so it is the company's decision, not a team's; the person
  who did it and why are written to the security log.

Erasure keeps the statistics
----------------------------
The contact row stays (activities, opportunities and reports still count it) as "Erased
contact": personal fields are blanked, emails, phones and relations to other accounts deleted,
do-not-contact set, consent withdrawn on every channel without any personal proof, `erased_at`
stamped. Activities stay; those only about this person (their contact, with no other contact
attending) lose their free text (subject becomes the kind; body, outcome, location, custom
fields and managers' comments are blanked). Then the history of the contact, its emails, phones and consents, and of
those activities is blanked by the one reviewed function allowed to touch history,
`contacts_erase_history` (contacts/migrations/0004). All in one transaction: a failure leaves the
person as they were.
"""

from __future__ import annotations

import datetime as dt
import json

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from crm.access import fields as fls
from crm.access import policy as access
from crm.audit.history import history_for
from crm.audit.models import SecurityEvent
from crm.audit.security import security_event
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

ERASED_NAME = "Erased contact"
EXPORT_FORMAT = "crm.contact-export/1"
HISTORY_MAX = 10_000


def can_export(actor: Membership | None, contact: Contact) -> bool:
    return (actor is not None and access.can(actor, "export")
            and (access.sees_all(actor) or len(access.subordinate_ids(actor)) > 1)
            and access.can(actor, "read", contact))


def can_erase(actor: Membership | None, contact: Contact) -> bool:
    return (actor is not None and access.can(actor, "administer") and contact.erased_at is None
            and access.can(actor, "edit", contact))


# the export's keys by the field they show (field-level security leaves out what the exporter may not see)
PERSON_FIELDS = {"salutation": "salutation", "first_name": "first_name", "title": "title",
                 "department": "department", "reports_to": "reports_to", "primary_email": "email",
                 "primary_phone": "phone", "preferred_channel": "preferred_channel", "language": "language",
                 "birthday": "birthday"}
ADDRESS_FIELDS = {"street": "mailing_street", "postal_code": "mailing_postal_code", "city": "mailing_city",
                  "region": "mailing_region", "country": "mailing_country"}
ACTIVITY_FIELDS = {"details": "body", "when": "occurred_at", "ends": "ends_at", "due": "due_at",
                   "priority": "priority", "direction": "direction", "duration_minutes": "duration_minutes",
                   "outcome": "outcome", "location": "location"}


def _secured(actor: Membership, person: dict, activity_rows: list[dict]) -> tuple[dict, list[dict]]:
    gone = fls.hidden(actor, "contacts")
    person = {k: v for k, v in person.items() if PERSON_FIELDS.get(k) not in gone}
    person["mailing_address"] = {k: v for k, v in person["mailing_address"].items()
                                 if ADDRESS_FIELDS[k] not in gone}
    person["custom_fields"] = {k: v for k, v in person["custom_fields"].items()
                               if fls.custom_key(k) not in gone}
    gone = fls.hidden(actor, "activities")
    if gone:
        activity_rows = [{k: v for k, v in row.items() if ACTIVITY_FIELDS.get(k) not in gone}
                         for row in activity_rows]
    return person, activity_rows


# --- export -------------------------------------------------------------------------------------

def _who(membership: Membership | None) -> str:
    if membership is None:
        return ""
    return membership.user.display_name


def _when(value):
    return value.isoformat() if isinstance(value, (dt.datetime, dt.date)) else value


def contact_export(*, actor: Membership, contact: Contact, request=None) -> dict:
    """Everything held about the contact, in readable sections (see EXPORT_FORMAT). Logged."""
    if not can_export(actor, contact):
        raise PermissionDenied("Only admins and managers export a person's data.")
    tenant_id = actor.tenant_id
    person = {
        "id": str(contact.pk),
        "salutation": contact.get_salutation_display() if contact.salutation else "",
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "title": contact.title,
        "department": contact.department,
        "primary_account": ({"id": str(contact.account_id), "name": contact.account.name}
                            if contact.account_id else None),
        "reports_to": ({"id": str(contact.reports_to_id), "name": contact.reports_to.full_name}
                       if contact.reports_to_id else None),
        "primary_email": contact.email,
        "primary_phone": contact.phone,
        "mailing_address": {
            "street": contact.mailing_street, "postal_code": contact.mailing_postal_code,
            "city": contact.mailing_city, "region": contact.mailing_region,
            "country": contact.mailing_country.code or "",
        },
        "preferred_channel": contact.preferred_channel,
        "language": contact.language,
        "birthday": _when(contact.birthday),
        "do_not_contact": contact.do_not_contact,
        "custom_fields": contact.custom or {},
        "owner": _who(contact.owner),
        "created_at": _when(contact.created_at),
        "updated_at": _when(contact.updated_at),
        "erased_at": _when(contact.erased_at),
    }
    emails = [{"email": e.email, "label": e.label, "primary": e.is_primary}
              for e in ContactEmail.objects.for_tenant(tenant_id).filter(contact=contact).order_by("-is_primary", "email")]
    phones = [{"number": p.number, "label": p.label, "primary": p.is_primary}
              for p in ContactPhone.objects.for_tenant(tenant_id).filter(contact=contact).order_by("-is_primary", "number")]
    relations = [{"account": {"id": str(r.account_id), "name": r.account.name}, "role": r.role}
                 for r in AccountRelation.objects.for_tenant(tenant_id).filter(contact=contact)
                 .select_related("account").order_by("role", "id")]
    consents = [{"channel": c.channel, "status": c.status, "recorded_at": _when(c.recorded_at),
                 "source": c.source, "proof": c.proof}
                for c in Consent.objects.for_tenant(tenant_id).filter(contact=contact).order_by("channel")]

    attending = Attendee.objects.for_tenant(tenant_id).filter(contact=contact).values("activity_id")
    activities = list(
        access.visible(Activity.objects.for_tenant(tenant_id), actor, "read")
        .filter(Q(contact=contact) | Q(id__in=attending))
        .select_related("owner__user", "account").order_by("occurred_at", "id")
    )
    ids = [a.pk for a in activities]
    comments: dict = {}
    for c in ActivityComment.objects.for_tenant(tenant_id).filter(activity_id__in=ids).select_related(
            "author__user").order_by("created_at", "id"):
        comments.setdefault(c.activity_id, []).append(
            {"by": _who(c.author), "at": _when(c.created_at), "text": c.body})
    attendees: dict = {}
    for a in Attendee.objects.for_tenant(tenant_id).filter(activity_id__in=ids).select_related(
            "membership__user", "contact"):
        name = _who(a.membership) if a.membership_id else a.contact.full_name
        attendees.setdefault(a.activity_id, []).append(name)
    activity_rows = [{
        "id": str(a.pk), "kind": a.kind, "subject": a.subject, "details": a.body,
        "their_part": "the person it is about" if a.contact_id == contact.pk else "attendee",
        "when": _when(a.occurred_at), "ends": _when(a.ends_at), "due": _when(a.due_at), "status": a.status,
        "direction": a.direction, "duration_minutes": a.duration_minutes, "outcome": a.outcome,
        "location": a.location, "account": a.account.name if a.account_id else None,
        "by": _who(a.owner), "attendees": attendees.get(a.pk, []), "comments": comments.get(a.pk, []),
    } for a in activities]

    history = [{
        "at": _when(e.at), "action": e.action, "by": e.who, "through": e.source,
        "changes": [{"field": c.label, "from": c.before_display if c.before_known else None,
                     "to": c.after_display} for c in e.changes],
    } for e in history_for(contact, actor=actor, limit=HISTORY_MAX)]

    person, activity_rows = _secured(actor, person, activity_rows)
    hidden_contact = fls.hidden(actor, "contacts")
    if "emails" in hidden_contact:
        emails = []
    if "phones" in hidden_contact:
        phones = []
    security_event(actor.tenant, SecurityEvent.Kind.CONTACT_EXPORTED, user=actor.user, request=request,
                   detail={"contact": str(contact.pk), "membership": str(actor.pk)})
    return {
        "export": {
            "format": EXPORT_FORMAT,
            "about": contact.full_name,
            "company": actor.tenant.name,
            "generated_at": timezone.now().isoformat(),
            "generated_by": _who(actor),
            "sections": ["contact", "emails", "phones", "account_relations", "consents", "activities",
                         "history"],
        },
        "contact": person,
        "emails": emails,
        "phones": phones,
        "account_relations": relations,
        "consents": consents,
        "activities": activity_rows,
        "history": history,
    }


def export_json(data: dict) -> str:
    """The file: indented, keys in section order, non-ASCII kept readable."""
    return json.dumps(data, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False)


def export_filename(contact: Contact) -> str:
    return f"contact-{contact.pk}-{timezone.localdate().isoformat()}.json"


# --- erasure ------------------------------------------------------------------------------------

def own_activity_ids(contact: Contact) -> list:
    """Activities only about this person: they are its contact and no other contact attends."""
    tenant_id = contact.tenant_id
    others = Attendee.objects.for_tenant(tenant_id).filter(contact__isnull=False).exclude(
        contact_id=contact.pk).values("activity_id")
    return list(Activity.objects.for_tenant(tenant_id).filter(contact_id=contact.pk)
                .exclude(id__in=others).values_list("id", flat=True))


@transaction.atomic
def contact_erase(*, actor: Membership, contact: Contact, reason: str, request=None) -> Contact:
    """Anonymise the contact in place (see the module's docstring), in one transaction.

    `request` is only for the security log's address and browser."""
    if not access.can(actor, "administer"):
        raise PermissionDenied("Only an admin erases a person.")
    access.require(actor, "edit", contact)
    reason = " ".join((reason or "").split())[:500]
    if not reason:
        raise ValidationError({"reason": "Say why this person is erased (e.g. their request of 3 May, ref. 123)."})
    tenant_id = actor.tenant_id
    contact = Contact.objects.for_tenant(tenant_id).select_for_update().get(pk=contact.pk)
    if contact.erased_at is not None:
        raise ValidationError({"reason": "This contact was already erased."})
    now = timezone.now()

    customfields.forget_records(tenant_id, [contact.pk])  # the filterable copies of custom values
    ContactEmail.objects.for_tenant(tenant_id).filter(contact=contact).delete()
    ContactPhone.objects.for_tenant(tenant_id).filter(contact=contact).delete()
    AccountRelation.objects.for_tenant(tenant_id).filter(contact=contact).delete()
    for name in ("salutation", "title", "department", "email", "phone", "mailing_street", "mailing_city",
                 "mailing_postal_code", "mailing_region", "mailing_country", "preferred_channel", "language"):
        setattr(contact, name, "")
    contact.first_name, contact.last_name = "", ERASED_NAME
    contact.birthday = None
    contact.reports_to = None
    contact.custom = {}
    contact.do_not_contact = True
    contact.erased_at = now
    contact.modified_by = actor
    contact.save()

    existing = {c.channel: c for c in Consent.objects.for_tenant(tenant_id).filter(contact=contact)}
    for channel in Channel.values:
        consent = existing.get(channel) or Consent(tenant_id=tenant_id, contact=contact, channel=channel)
        consent.status, consent.recorded_at, consent.source, consent.proof = \
            Consent.Status.WITHDRAWN, now, "erased", ""
        consent.save()

    activity_ids = own_activity_ids(contact)
    for kind, label in Activity.Kind.choices:
        Activity.objects.for_tenant(tenant_id).filter(id__in=activity_ids, kind=kind).update(
            subject=label, body="", outcome="", location="", custom={}, updated_at=now)
    customfields.forget_records(tenant_id, activity_ids)
    ActivityComment.objects.for_tenant(tenant_id).filter(activity_id__in=activity_ids).update(body="", updated_at=now)

    with connection.cursor() as cursor:
        cursor.execute("SELECT contacts_erase_history(%s, %s::uuid[])",
                       [contact.pk, [str(pk) for pk in activity_ids]])

    security_event(actor.tenant, SecurityEvent.Kind.CONTACT_ERASED, user=actor.user, request=request,
                   detail={"contact": str(contact.pk), "membership": str(actor.pk), "reason": reason,
                           "activities_blanked": len(activity_ids)})
    return contact
