"""Sharing of one record (task F): the "Sharing" panel of an account or contact page (manual
shares, account team, collaboration groups) and the "Why can I see this?" / "Who can see this?"
dialogs. A record the member cannot read is a 404 on every endpoint; every change goes through
crm.access.services, which decide who may (a refusal is a 403 that says why).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from crm.tenancy.models import Membership
from crm.tenancy.views import member_required

from . import explain, policy, registry, services
from .models import CollaborationGroup, Group, Level, Share, TeamMember

SHARABLE = ("accounts", "contacts")
DETAIL_URL = {"accounts": "account_detail", "contacts": "contact_detail"}
TEAM_OBJECTS = ("accounts",)


def _record(request, object_key: str, pk):
    """The record if the member may read it, else 404 (we do not confirm that it exists)."""
    if object_key not in SHARABLE:
        raise Http404
    entry = registry.get(object_key)
    record = policy.visible(entry.model.objects.all(), request.membership).filter(pk=pk).first()
    if record is None:
        raise Http404
    return entry, record


def _back(object_key: str, record):
    return redirect(reverse(DETAIL_URL[object_key], args=[record.pk]) + "#sharing")


def _may_share(actor, record) -> bool:
    try:
        services.require_record_owner_side(actor, record)
    except PermissionDenied:
        return False
    return True


def _colleagues(actor):
    return list(policy.visible(Membership.objects.filter(is_active=True), actor).select_related("user")
                .order_by("user__full_name", "user__email"))


def _colleague(actor, value):
    if not value:
        return None
    try:
        return policy.visible(Membership.objects.all(), actor).select_related("user").filter(pk=value).first()
    except ValidationError:
        return None


def _level(value) -> int | None:
    try:
        level = int(value)
    except (TypeError, ValueError):
        return None
    return level if level in Level.values else None


def _done(request, object_key, record, text):
    messages.success(request, text)
    return _back(object_key, record)


def _refused(request, object_key, record, exc: ValidationError):
    messages.error(request, " ".join(exc.messages))
    return _back(object_key, record)


@member_required
@require_GET
def sharing_panel(request, object_key, pk):
    """The Sharing panel, loaded after the record page (htmx), so the page's own queries stay."""
    actor = request.membership
    entry, record = _record(request, object_key, pk)
    shares = list(Share.objects.filter(tenant_id=actor.tenant_id, object=object_key, record_id=record.pk,
                                       cause="manual").order_by("created_at"))
    group_ids = [s.grantee for s in shares if s.grantee_is_group]
    member_ids = [s.grantee for s in shares if not s.grantee_is_group]
    group_names = dict(Group.objects.filter(tenant_id=actor.tenant_id, pk__in=group_ids).values_list("pk", "name"))
    people = {m.pk: m for m in Membership.objects.filter(tenant_id=actor.tenant_id, pk__in=member_ids)
              .select_related("user")}
    share_rows = [{"share": s, "name": group_names.get(s.grantee, "a group") if s.grantee_is_group
                   else (people[s.grantee].user.display_name if s.grantee in people else "a former colleague"),
                   "is_group": s.grantee_is_group} for s in shares]
    team = list(TeamMember.objects.filter(tenant_id=actor.tenant_id, object=object_key, record_id=record.pk)
                .select_related("membership__user").order_by("created_at")) if object_key in TEAM_OBJECTS else None
    collabs = list(CollaborationGroup.objects.filter(tenant_id=actor.tenant_id, object=object_key,
                                                     record_id=record.pk, dissolved_at=None)
                   .prefetch_related("members__membership__user").order_by("created_at"))
    may_share = _may_share(actor, record)
    may_team = object_key in TEAM_OBJECTS and policy.can(actor, "edit", record)
    is_admin = policy.can(actor, "administer")
    return render(request, "access/partials/sharing_panel.html", {
        "object_key": object_key, "record": record, "entry": entry,
        "share_rows": share_rows, "team": team, "collabs": collabs,
        "may_share": may_share, "may_team": may_team, "may_who": may_share or is_admin,
        "colleagues": _colleagues(actor) if (may_share or may_team) else [],
        "groups": list(Group.objects.filter(tenant_id=actor.tenant_id, kind=Group.Kind.PUBLIC).order_by("name"))
        if may_share else [],
        "levels": Level.choices,
    })


@member_required
@require_POST
def share_add(request, object_key, pk):
    actor = request.membership
    _entry, record = _record(request, object_key, pk)
    level = _level(request.POST.get("access"))
    target = request.POST.get("grantee", "")
    grantee = None
    if target.startswith("group:"):
        try:
            grantee = Group.objects.filter(tenant_id=actor.tenant_id, kind=Group.Kind.PUBLIC,
                                           pk=target[6:]).first()
        except ValidationError:
            grantee = None
    elif target.startswith("member:"):
        grantee = _colleague(actor, target[7:])
    try:
        if level is None:
            raise ValidationError({"access": "Read only or read/write."})
        services.share_create(actor=actor, record=record, grantee=grantee, access=level)
    except ValidationError as exc:
        return _refused(request, object_key, record, exc)
    return _done(request, object_key, record, "Shared.")


@member_required
@require_POST
def share_remove(request, object_key, pk, share_id):
    actor = request.membership
    _entry, record = _record(request, object_key, pk)
    share = Share.objects.filter(tenant_id=actor.tenant_id, object=object_key, record_id=record.pk,
                                 pk=share_id).first()
    if share is None:
        raise Http404
    try:
        services.share_delete(actor=actor, share=share)
    except ValidationError as exc:
        return _refused(request, object_key, record, exc)
    return _done(request, object_key, record, "Share removed.")


@member_required
@require_POST
def team_add(request, object_key, pk):
    actor = request.membership
    _entry, record = _record(request, object_key, pk)
    if object_key not in TEAM_OBJECTS:
        raise Http404
    level = _level(request.POST.get("access"))
    member = _colleague(actor, request.POST.get("membership"))
    try:
        if member is None:
            raise ValidationError({"membership": "Choose an active colleague."})
        if level is None:
            raise ValidationError({"access": "Read only or read/write."})
        services.team_member_set(actor=actor, record=record, membership=member,
                                 team_role=request.POST.get("team_role", ""), access=level)
    except ValidationError as exc:
        return _refused(request, object_key, record, exc)
    return _done(request, object_key, record, f"{member.user.display_name} is on the team.")


@member_required
@require_POST
def team_remove(request, object_key, pk, member_id):
    actor = request.membership
    _entry, record = _record(request, object_key, pk)
    member = TeamMember.objects.filter(tenant_id=actor.tenant_id, object=object_key, record_id=record.pk,
                                       pk=member_id).first()
    if member is None:
        raise Http404
    services.team_member_remove(actor=actor, member=member)
    return _done(request, object_key, record, "Removed from the team.")


@member_required
@require_POST
def collaboration_add(request, object_key, pk):
    actor = request.membership
    _entry, record = _record(request, object_key, pk)
    ids = request.POST.getlist("member")
    roles = request.POST.getlist("task_role")
    accesses = request.POST.getlist("member_access")
    members = []
    try:
        for n, value in enumerate(ids):
            if not value:
                continue
            member = _colleague(actor, value)
            level = _level(accesses[n] if n < len(accesses) else None)
            if member is None:
                raise ValidationError({"members": "Choose colleagues from the list."})
            if level is None:
                raise ValidationError({"members": "Read only or read/write."})
            members.append((member, roles[n] if n < len(roles) else "", level))
        services.collaboration_create(actor=actor, record=record, name=request.POST.get("name", ""),
                                      purpose=request.POST.get("purpose", ""), members=members)
    except ValidationError as exc:
        return _refused(request, object_key, record, exc)
    return _done(request, object_key, record, "Collaboration group created.")


@member_required
@require_POST
def collaboration_dissolve(request, object_key, pk, group_id):
    actor = request.membership
    _entry, record = _record(request, object_key, pk)
    group = CollaborationGroup.objects.filter(tenant_id=actor.tenant_id, object=object_key, record_id=record.pk,
                                              pk=group_id, dissolved_at=None).first()
    if group is None:
        raise Http404
    services.collaboration_dissolve(actor=actor, group=group)
    return _done(request, object_key, record, f"“{group.name}” dissolved.")


@member_required
@require_GET
def why_dialog(request, object_key, pk):
    """Why can I see this? For the viewer; an administrator may ask for any colleague."""
    actor = request.membership
    _entry, record = _record(request, object_key, pk)
    subject = actor
    is_admin = policy.can(actor, "administer")
    if request.GET.get("member") and is_admin:
        subject = _colleague(actor, request.GET["member"])
        if subject is None:
            raise Http404
    return render(request, "access/partials/why.html", {
        "object_key": object_key, "record": record, "subject": subject, "is_self": subject.pk == actor.pk,
        "reasons": explain.why(subject, record), "is_admin": is_admin,
        "colleagues": _colleagues(actor) if is_admin else [],
    })


@member_required
@require_GET
def who_dialog(request, object_key, pk):
    """Who can see this? For administrators and the owner side."""
    actor = request.membership
    _entry, record = _record(request, object_key, pk)
    if not (_may_share(actor, record) or policy.can(actor, "administer")):
        raise PermissionDenied("Only the owner, someone above them or an administrator can see who has access.")
    return render(request, "access/partials/who.html", {"record": record, "rows": explain.who(record)})
