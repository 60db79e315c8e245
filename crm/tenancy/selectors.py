"""Reads of the tenancy app: team, invitations, API tokens, the security log."""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from crm.access import policy
from crm.audit.models import SecurityEvent

from .models import ApiToken, Invitation, Membership, Role


def team_members(*, actor: Membership) -> QuerySet[Membership]:
    qs = Membership.objects.for_tenant(actor.tenant).select_related("user", "reports_to__user")
    return policy.visible(qs, actor).order_by("-is_active", "user__full_name", "user__email", "id")


def pending_invitations(*, actor: Membership) -> QuerySet[Invitation]:
    qs = Invitation.objects.for_tenant(actor.tenant).select_related("invited_by__user")
    return policy.visible(qs, actor).filter(
        accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).order_by("-created_at", "-id")


def api_tokens_of(*, actor: Membership) -> QuerySet[ApiToken]:
    """Only one's own tokens, even for admins: a token is a personal credential."""
    qs = ApiToken.objects.for_tenant(actor.tenant).filter(membership=actor)
    return policy.visible(qs, actor).order_by("-created_at", "-id")


# --- Security log, keyset-paginated on (created_at, id) ---------------------------------------

PAGE_SIZE = 50


def encode_cursor(event: SecurityEvent) -> str:
    raw = f"{event.created_at.isoformat()}|{event.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID] | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, pk = raw.split("|", 1)
        return datetime.fromisoformat(stamp), uuid.UUID(pk)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None


@dataclass
class EventPage:
    events: list
    next_cursor: str | None


def security_log(*, actor: Membership, kind: str = "", cursor: str = "", page_size: int = PAGE_SIZE) -> EventPage:
    policy.require(actor, "view_security_log")
    qs = SecurityEvent.objects.for_tenant(actor.tenant).select_related("user")
    qs = policy.visible(qs, actor)
    if kind:
        qs = qs.filter(kind=kind)
    position = decode_cursor(cursor) if cursor else None
    if position:
        at, pk = position
        qs = qs.filter(Q(created_at__lt=at) | Q(created_at=at, id__lt=pk))
    rows = list(qs.order_by("-created_at", "-id")[: page_size + 1])
    more = len(rows) > page_size
    rows = rows[:page_size]
    return EventPage(events=rows, next_cursor=encode_cursor(rows[-1]) if more else None)


def describe_event(event: SecurityEvent) -> str:
    """One line a reader understands, from the event's detail."""
    d = event.detail or {}
    roles = dict(Role.choices)
    if event.kind == "role.changed":
        return f"{d.get('member', '')}: {roles.get(d.get('from'), d.get('from'))} → {roles.get(d.get('to'), d.get('to'))}"
    if event.kind == "member.invited":
        return f"{d.get('member', '')} as {roles.get(d.get('role'), d.get('role'))}"
    if event.kind == "member.joined":
        return f"as {roles.get(d.get('role'), d.get('role'))}"
    if event.kind == "member.removed":
        return f"{d.get('member', '')} deactivated"
    if event.kind in ("token.created", "token.revoked"):
        return f"“{d.get('name', '')}” ({d.get('prefix', '')}…)" if d.get("prefix") else d.get("name", "")
    if event.kind == "mfa.required":
        return "switched on" if d.get("required") else "switched off"
    if event.kind == "login.failed":
        if d.get("stage"):
            return f"wrong {d['stage']}"
        return "refused: locked out" if d.get("locked_out") else "wrong password"
    if event.kind == "login.locked":
        return f"after {d['failures']} failures" if d.get("failures") else ""
    if event.kind == "contact.erased":  # GDPR (contacts/gdpr.py): which contact, and why
        return f"contact {d.get('contact', '')}: {d.get('reason', '')}"
    if event.kind == "contact.exported":
        return f"contact {d.get('contact', '')}"
    if event.kind == "mfa.recovery_used" and d.get("codes_left") is not None:
        return f"{d['codes_left']} codes left"
    return ""
