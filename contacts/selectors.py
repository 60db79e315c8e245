"""Reads for contacts and activities, already scoped by tenant and visibility (crm/access).

Every list is one index range under RLS: contacts by (tenant, name_key, id), timelines by
(tenant, account|contact, -occurred_at, -id), a person's tasks by (tenant, owner, status, due_at).
Pages go by keyset (a cursor of the last row), never OFFSET.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Prefetch, QuerySet, prefetch_related_objects
from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from crm.access import policy as access
from crm.tenancy.models import Membership
from crm.tenancy.search import keyset_after, prefix_q

from .models import AccountRelation, Activity, ActivityComment, Attendee, Contact

TIMELINE_PAGE = 25
CONTACT_PAGE = 50


# --- cursors ------------------------------------------------------------------------------------

def encode_cursor(*values) -> str:
    raw = "\x1f".join(str(v) for v in values)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, width: int) -> list[str] | None:
    """The values in a cursor, or None for no/invalid cursor (a bad cursor is the first page)."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    values = raw.split("\x1f")
    if len(values) != width or "\x00" in raw:
        return None
    return values


def _uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        return None


def _datetime(value: str):
    try:
        return parse_datetime(value) if value else None
    except ValueError:
        return None


# --- contacts -----------------------------------------------------------------------------------

def contacts_visible(actor: Membership) -> QuerySet[Contact]:
    return access.visible(Contact.objects.for_tenant(actor.tenant_id), actor, "read")


def contact_list(*, actor: Membership, search: str = "", account=None, owner=None) -> QuerySet[Contact]:
    """The contacts the actor may see, by name. `search`: a name prefix (last name first, as in
    "Müller Anna"), or an exact email when it contains "@"."""
    qs = contacts_visible(actor)
    search = (search or "").strip()
    if search:
        if "@" in search:
            qs = qs.filter(email=search.lower())
        else:
            qs = qs.filter(prefix_q("name_key", search))
    if account:
        account_id = _uuid(getattr(account, "pk", account))
        qs = qs.filter(account_id=account_id) if account_id else qs.none()
    if owner:
        owner_id = _uuid(getattr(owner, "pk", owner))
        qs = qs.filter(owner_id=owner_id) if owner_id else qs.none()
    return qs.select_related("account", "owner__user").order_by("name_key", "id")


def contact_page(qs: QuerySet[Contact], *, after: str | None = None, size: int = CONTACT_PAGE):
    """One page of a contact list after the cursor; returns (contacts, next_cursor)."""
    position = decode_cursor(after, 2)
    if position and _uuid(position[1]):
        qs = qs.filter(keyset_after(("name_key", "id"), [position[0], _uuid(position[1])]))
    rows = list(qs[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return rows, (encode_cursor(rows[-1].name_key, rows[-1].pk) if more else None)


def contact_get(*, actor: Membership, pk) -> Contact:
    """One contact with everything its page shows, in a fixed number of queries; 404 if not visible."""
    contact_id = _uuid(pk)
    if contact_id is None:
        raise Http404
    contact = (
        contacts_visible(actor)
        .select_related("account", "owner__user", "reports_to")
        .prefetch_related("emails", "phones", "consents", "account_relations__account")
        .filter(pk=contact_id).first()
    )
    if contact is None:
        raise Http404
    return contact


RELATIONS_SHOWN = 50


def account_relations(*, actor: Membership, account, limit: int = RELATIONS_SHOWN) -> list[AccountRelation]:
    """People with a role at the account other than as its own contacts ("board member"), whose
    contact the actor may see; by role. One query on (tenant_id, account_id), at most limit + 1."""
    account_id = getattr(account, "pk", account)
    return list(
        AccountRelation.objects.for_tenant(actor.tenant_id)
        .filter(account_id=account_id, contact_id__in=contacts_visible(actor).values("id"))
        .select_related("contact__account").order_by("role", "id")[: limit + 1]
    )


# --- activities ---------------------------------------------------------------------------------

def activities_visible(actor: Membership) -> QuerySet[Activity]:
    return access.visible(Activity.objects.for_tenant(actor.tenant_id), actor, "read")


def _with_display(qs: QuerySet[Activity]) -> QuerySet[Activity]:
    # prefetched, not joined: the page query stays one ordered range of the timeline index
    # (joins make the planner sort the whole account's activities for a big account)
    comments = ActivityComment.objects.select_related("author__user").order_by("created_at")
    return qs.prefetch_related("owner__user", "account", "contact", Prefetch("comments", queryset=comments))


def with_attendees(activities: list) -> list:
    """Meetings' attendees (colleagues and contacts) on a page of activities: one query, and none
    when the page holds no meeting."""
    meetings = [a for a in activities if a.kind == Activity.Kind.MEETING]
    if meetings:
        attendees = Attendee.objects.select_related("membership__user", "contact").order_by("created_at", "id")
        prefetch_related_objects(meetings, Prefetch("attendees", queryset=attendees))
    return activities


def activity_list(*, actor: Membership, kind: str = "", status: str = "", account=None, contact=None,
                  owner=None) -> QuerySet[Activity]:
    qs = activities_visible(actor)
    if kind:
        qs = qs.filter(kind=kind)
    if status:
        qs = qs.filter(status=status)
    for name, value in (("account_id", account), ("contact_id", contact), ("owner_id", owner)):
        if value:
            value_id = _uuid(getattr(value, "pk", value))
            qs = qs.filter(**{name: value_id}) if value_id else qs.none()
    # no joins: pages add what they show by prefetch (timeline_page), the API needs only ids
    return qs.order_by("-occurred_at", "-id")


def activity_get(*, actor: Membership, pk) -> Activity:
    activity_id = _uuid(pk)
    activity = _with_display(activities_visible(actor)).filter(pk=activity_id).first() if activity_id else None
    if activity is None:
        raise Http404
    return with_attendees([activity])[0]


@dataclass
class TimelinePage:
    activities: list
    next_cursor: str | None
    kind: str = ""


def timeline(*, actor: Membership, account=None, contact=None, kind: str = "", before: str | None = None,
             size: int = TIMELINE_PAGE) -> TimelinePage:
    """An account's or a contact's activities the actor may see, newest first, by keyset
    (occurred_at, id) on the index activity_<account|contact>_time_idx."""
    qs = activities_visible(actor)
    if account is not None:
        qs = qs.filter(account_id=getattr(account, "pk", account))
    if contact is not None:
        qs = qs.filter(contact_id=getattr(contact, "pk", contact))
    if kind in Activity.Kind.values:
        qs = qs.filter(kind=kind)
    else:
        kind = ""
    page = timeline_page(qs, before=before, size=size)
    page.kind = kind
    return page


def timeline_page(qs: QuerySet[Activity], *, before: str | None = None, size: int = TIMELINE_PAGE) -> TimelinePage:
    """One page of activities newest first, after the cursor `before` (keyset on occurred_at, id)."""
    position = decode_cursor(before, 2)
    if position:
        at, pk = _datetime(position[0]), _uuid(position[1])
        if at is not None and pk is not None:
            qs = qs.filter(keyset_after(("occurred_at", "id"), [at, pk], descending=True))
    # every activity has occurred_at (the services set it, for tasks the time they were set), so
    # the order is one range of activity_<account|contact>_time_idx; no IS NOT NULL row filter
    rows = list(_with_display(qs).order_by("-occurred_at", "-id")[: size + 1])
    more = len(rows) > size
    rows = with_attendees(rows[:size])
    cursor = encode_cursor(rows[-1].occurred_at.isoformat(), rows[-1].pk) \
        if more and rows[-1].occurred_at is not None else None
    return TimelinePage(rows, cursor)


def account_timeline(*, actor: Membership, account, kind: str = "", before: str | None = None) -> TimelinePage:
    return timeline(actor=actor, account=account, kind=kind, before=before)


def contact_timeline(*, actor: Membership, contact, kind: str = "", before: str | None = None) -> TimelinePage:
    return timeline(actor=actor, contact=contact, kind=kind, before=before)


# --- a person's day and week --------------------------------------------------------------------

def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, start + timedelta(days=1)


def _own(actor: Membership) -> QuerySet[Activity]:
    # one's own day: (tenant, owner, status, due_at) leads the task queries
    return Activity.objects.for_tenant(actor.tenant_id).filter(owner=actor)


@dataclass
class MyDay:
    overdue: list = field(default_factory=list)
    today: list = field(default_factory=list)
    meetings: list = field(default_factory=list)
    comments: list = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.overdue or self.today or self.meetings or self.comments)


def my_day(actor: Membership, *, now: datetime | None = None) -> MyDay:
    """Overdue and today's open tasks, today's meetings, and unread comments from a manager."""
    now = now or timezone.now()
    start, end = _day_bounds(timezone.localdate(now))
    tasks = _own(actor).filter(kind=Activity.Kind.TASK, status=Activity.Status.OPEN, due_at__lt=end) \
        .select_related("account", "contact").order_by("due_at", "id")[:100]
    overdue = [t for t in tasks if t.due_at < start]
    today = [t for t in tasks if t.due_at >= start]
    meetings = list(
        _own(actor).filter(kind=Activity.Kind.MEETING, occurred_at__gte=start, occurred_at__lt=end)
        .exclude(status=Activity.Status.CANCELLED).select_related("account", "contact").order_by("occurred_at", "id")
    )
    return MyDay(overdue, today, meetings, list(unread_comments(actor)[:20]))


def unread_comments(actor: Membership) -> QuerySet[ActivityComment]:
    """Comments on the actor's activities that they have not seen yet, newest first."""
    return ActivityComment.objects.for_tenant(actor.tenant_id).filter(
        activity__owner=actor, read_at__isnull=True,
    ).select_related("activity", "author__user").order_by("-created_at", "-id")


@dataclass
class WeekDay:
    day: date
    meetings: list
    tasks: list

    @property
    def is_today(self) -> bool:
        return self.day == timezone.localdate()


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week(actor: Membership, start: date) -> list[WeekDay]:
    """Monday to Sunday from the Monday of `start`'s week: the actor's meetings (by start) and
    tasks (by due date), each day in time order."""
    start = week_start(start)
    begin, _ = _day_bounds(start)
    end = begin + timedelta(days=7)
    meetings = list(
        _own(actor).filter(kind=Activity.Kind.MEETING, occurred_at__gte=begin, occurred_at__lt=end)
        .exclude(status=Activity.Status.CANCELLED).select_related("account", "contact").order_by("occurred_at", "id")
    )
    tasks = list(
        _own(actor).filter(kind=Activity.Kind.TASK, status__in=[Activity.Status.OPEN, Activity.Status.DONE],
                           due_at__gte=begin, due_at__lt=end)
        .select_related("account", "contact").order_by("due_at", "id")
    )
    days = []
    for offset in range(7):
        day = start + timedelta(days=offset)
        days.append(WeekDay(
            day,
            [m for m in meetings if timezone.localdate(m.occurred_at) == day],
            [t for t in tasks if timezone.localdate(t.due_at) == day],
        ))
    return days


def meeting_attendees(activity: Activity) -> QuerySet[Attendee]:
    return Attendee.objects.for_tenant(activity.tenant_id).filter(activity=activity).select_related(
        "membership__user", "contact")
