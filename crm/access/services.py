"""Changes to the access configuration. Each runs in the caller's transaction (the request's),
keeps the derived rows current (crm.access.maintenance) and writes a security-log entry.

Who may change what:
- roles, public groups, organisation-wide defaults, sharing rules: `manage_sharing`;
- profiles, permission sets, and which role/profile/sets a member has: `manage_users`;
- a manual share, a team member, a collaboration group of one record: whoever may edit the record
  and is its owner or above the owner in the role hierarchy, or holds "modify all" on the object,
  or `manage_sharing`.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from crm.audit.security import security_event
from crm.tenancy.models import Membership

from . import criteria as criteria_rules
from . import engine, maintenance, registry
from .models import (
    Cause,
    CollaborationGroup,
    CollaborationMember,
    Default,
    FieldAccess,
    FieldPermission,
    Group,
    GroupMember,
    Level,
    MemberPermissionSet,
    ObjectPermission,
    OrgDefault,
    PermissionSet,
    RoleAssignment,
    Share,
    SharingRule,
    TeamMember,
    UserRole,
)

KEEP = object()


def _require(actor, permission: str) -> None:
    if not engine.can(actor, permission):
        raise PermissionDenied("You are not allowed to change who can see what." if permission == "manage_sharing"
                               else "You are not allowed to manage users and their rights.")


def _log(actor, what: str, **detail) -> None:
    security_event(actor.tenant, "access.changed", user=actor.user,
                   detail={"change": what, **{k: str(v) if v is not None else None for k, v in detail.items()}})


def _changed(actor) -> None:
    """The configuration changed: the actor's own cached context may be stale."""
    engine.forget(actor)


# --- roles ----------------------------------------------------------------------------------------


def role_create(*, actor: Membership, name: str, parent: UserRole | None = None) -> UserRole:
    _require(actor, "manage_sharing")
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Give the role a name."})
    if UserRole.objects.filter(tenant_id=actor.tenant_id, name__iexact=name).exists():
        raise ValidationError({"name": f"There is already a role called “{name}”."})
    role = UserRole.objects.create(tenant_id=actor.tenant_id, name=name, parent=parent)
    maintenance.role_added(role)
    _log(actor, "role.created", role=role.name, parent=parent.name if parent else None)
    _changed(actor)
    return role


def role_update(*, actor: Membership, role: UserRole, name=KEEP, parent=KEEP) -> UserRole:
    _require(actor, "manage_sharing")
    if name is not KEEP:
        name = (name or "").strip()
        if not name:
            raise ValidationError({"name": "Give the role a name."})
        if UserRole.objects.filter(tenant_id=actor.tenant_id, name__iexact=name).exclude(pk=role.pk).exists():
            raise ValidationError({"name": f"There is already a role called “{name}”."})
    moved = parent is not KEEP and (parent.pk if parent else None) != role.parent_id
    if moved and parent is not None and maintenance.would_cycle(role, parent.pk):
        raise ValidationError({"parent": "A role cannot report to itself or to a role below it."})
    # every check above, every write below: a refused change changes nothing
    if name is not KEEP:
        role.name = name
        Group.objects.filter(tenant_id=actor.tenant_id, role=role).update(name=name)
    if moved:
        role.parent = parent
    role.save()
    if moved:
        maintenance.role_moved(role)
        _log(actor, "role.moved", role=role.name, parent=parent.name if parent else None)
    elif name is not KEEP:
        _log(actor, "role.renamed", role=role.name)
    _changed(actor)
    return role


def role_delete(*, actor: Membership, role: UserRole) -> None:
    _require(actor, "manage_sharing")
    if role.children.exists():
        raise ValidationError("Move or delete the roles below this one first.")
    if RoleAssignment.objects.filter(tenant_id=actor.tenant_id, role=role).exists():
        raise ValidationError("Give the people in this role another role first.")
    if SharingRule.objects.filter(tenant_id=actor.tenant_id, target_group__role=role).exists() or \
            SharingRule.objects.filter(tenant_id=actor.tenant_id, source_group__role=role).exists():
        raise ValidationError("Sharing rules use this role: change or delete them first.")
    name = role.name
    role.delete()  # closure rows and the role's system groups cascade
    maintenance.refresh_groups(actor.tenant_id)
    _log(actor, "role.deleted", role=name)
    _changed(actor)


def role_group(role: UserRole, *, subordinates: bool) -> Group:
    return Group.objects.get(tenant_id=role.tenant_id, role=role,
                             kind=Group.Kind.ROLE_SUB if subordinates else Group.Kind.ROLE)


# --- members: role, profile, permission sets -------------------------------------------------------


def assign(*, actor: Membership, membership: Membership, role=KEEP, profile=KEEP, permission_sets=KEEP) -> RoleAssignment:
    _require(actor, "manage_users")
    if membership.tenant_id != actor.tenant_id:
        raise PermissionDenied
    assignment = RoleAssignment.objects.filter(tenant_id=actor.tenant_id, membership=membership).first()
    if assignment is None:
        if profile is KEEP:
            raise ValidationError({"profile": "Choose a profile."})
        assignment = RoleAssignment(tenant_id=actor.tenant_id, membership=membership)
    role_changed = role is not KEEP and (role.pk if role else None) != assignment.role_id
    if role is not KEEP:
        assignment.role = role
    if profile is not KEEP:
        if profile is None or not profile.is_profile:
            raise ValidationError({"profile": "Choose a profile."})
        if assignment.pk and assignment.profile_id != profile.pk and membership.pk == actor.pk \
                and not profile.manage_users:
            raise ValidationError({"profile": "You cannot take away your own right to manage users."})
        assignment.profile = profile
    assignment.save()
    if permission_sets is not KEEP:
        wanted = {p.pk for p in permission_sets}
        MemberPermissionSet.objects.filter(tenant_id=actor.tenant_id, membership=membership) \
            .exclude(permission_set_id__in=wanted).delete()
        have = set(MemberPermissionSet.objects.filter(tenant_id=actor.tenant_id, membership=membership)
                   .values_list("permission_set_id", flat=True))
        MemberPermissionSet.objects.bulk_create([
            MemberPermissionSet(tenant_id=actor.tenant_id, membership=membership, permission_set_id=pk)
            for pk in wanted - have])
    if role_changed:
        maintenance.refresh_groups(actor.tenant_id)
    _log(actor, "member.access", member=membership.user.email,
         role=assignment.role.name if assignment.role else None, profile=assignment.profile.name)
    engine.forget(membership)
    _changed(actor)
    return assignment


# --- profiles and permission sets ----------------------------------------------------------------


def permission_set_save(*, actor: Membership, permission_set: PermissionSet | None = None, name: str,
                        description: str = "", is_profile: bool = False, app: dict | None = None,
                        objects: dict | None = None, fields: dict | None = None) -> PermissionSet:
    """Create or change a profile / permission set. `objects` maps object key -> {flag: bool};
    `fields` maps (object, field) -> FieldAccess (None removes the entry)."""
    _require(actor, "manage_users")
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Give it a name."})
    creating = permission_set is None
    if creating:
        permission_set = PermissionSet(tenant_id=actor.tenant_id, is_profile=is_profile)
    clash = PermissionSet.objects.filter(tenant_id=actor.tenant_id, is_profile=permission_set.is_profile,
                                         name__iexact=name).exclude(pk=permission_set.pk)
    if clash.exists():
        raise ValidationError({"name": f"“{name}” is taken."})
    permission_set.name, permission_set.description = name, description
    for key, value in (app or {}).items():
        if key not in PermissionSet.APP_PERMISSIONS:
            raise ValidationError({key: "Not an app permission."})
        setattr(permission_set, key, bool(value))
    if permission_set.system_key == "admin" and not permission_set.manage_users:
        raise ValidationError({"manage_users": "The administrator profile keeps the right to manage users."})
    permission_set.save()
    for key, flags in (objects or {}).items():
        registry.get(key)
        row, _ = ObjectPermission.objects.get_or_create(tenant_id=actor.tenant_id, permission_set=permission_set,
                                                        object=key)
        for flag in ObjectPermission.FLAGS:
            if flag in flags:
                setattr(row, flag, bool(flags[flag]))
        # rights imply each other the way users expect: modify all ⊃ view all ⊃ read; edit ⊃ read
        if row.modify_all:
            row.view_all = row.can_edit = row.can_delete = True
        if row.view_all or row.can_edit or row.can_delete or row.can_create:
            row.can_read = True
        row.save()
    for (key, field), access in (fields or {}).items():
        registry.get(key)
        if access is None:
            FieldPermission.objects.filter(tenant_id=actor.tenant_id, permission_set=permission_set, object=key,
                                           field=field).delete()
            continue
        if access not in FieldAccess.values:
            raise ValidationError({field: "Hidden, read only or editable."})
        FieldPermission.objects.update_or_create(tenant_id=actor.tenant_id, permission_set=permission_set, object=key,
                                                 field=field, defaults={"access": access})
    _log(actor, "permission_set.created" if creating else "permission_set.changed", name=permission_set.name,
         profile=permission_set.is_profile)
    _changed(actor)
    return permission_set


def permission_set_delete(*, actor: Membership, permission_set: PermissionSet) -> None:
    """Delete a permission set, or a profile nobody holds (system profiles stay). The members who
    held a permission set lose what it granted."""
    _require(actor, "manage_users")
    if permission_set.tenant_id != actor.tenant_id:
        raise PermissionDenied
    if permission_set.system_key:
        raise ValidationError("A system profile cannot be deleted (it can be edited).")
    if permission_set.is_profile:
        held = RoleAssignment.objects.filter(tenant_id=actor.tenant_id, profile=permission_set).count()
        if held:
            raise ValidationError(f"{held} member{'s hold' if held != 1 else ' holds'} this profile: "
                                  "give them another profile first.")
    name, is_profile = permission_set.name, permission_set.is_profile
    permission_set.delete()  # object and field rights, member links cascade
    _log(actor, "permission_set.deleted", name=name, profile=is_profile)
    _changed(actor)


# --- organisation-wide defaults ------------------------------------------------------------------


def org_default_set(*, actor: Membership, object: str, access: str, hierarchy_edit: bool = True) -> OrgDefault:
    _require(actor, "manage_sharing")
    entry = registry.get(object)
    if access not in Default.values:
        raise ValidationError({"access": "Private, public read only, public read/write or controlled by parent."})
    if access == Default.PARENT and not entry.parents:
        raise ValidationError({"access": f"{entry.label} have no parent record to follow."})
    row, _ = OrgDefault.objects.update_or_create(tenant_id=actor.tenant_id, object=object,
                                                 defaults={"access": access, "hierarchy_edit": hierarchy_edit})
    _log(actor, "default.changed", object=object, access=access, hierarchy_edit=hierarchy_edit)
    _changed(actor)
    return row


# --- public groups --------------------------------------------------------------------------------


def group_save(*, actor: Membership, group: Group | None = None, name: str, members: list[tuple[str, object]]) -> Group:
    """members: [(GroupMember.Kind, Membership | UserRole | Group), …]"""
    _require(actor, "manage_sharing")
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Give the group a name."})
    if Group.objects.filter(tenant_id=actor.tenant_id, kind=Group.Kind.PUBLIC, name__iexact=name) \
            .exclude(pk=getattr(group, "pk", None)).exists():
        raise ValidationError({"name": f"There is already a group called “{name}”."})
    creating = group is None
    if creating:
        group = Group(tenant_id=actor.tenant_id, kind=Group.Kind.PUBLIC)
    elif group.kind != Group.Kind.PUBLIC:
        raise ValidationError("A role's own groups follow the role; they are not edited.")
    group.name = name
    group.save()
    rows = []
    for kind, target in members:
        row = GroupMember(tenant_id=actor.tenant_id, group=group, kind=kind)
        if kind == GroupMember.Kind.USER:
            row.membership = target
        elif kind in (GroupMember.Kind.ROLE, GroupMember.Kind.ROLE_SUB):
            row.role = target
        elif kind == GroupMember.Kind.GROUP:
            if maintenance.group_would_cycle(group.pk, target.pk, actor.tenant_id):
                raise ValidationError({"members": f"“{target.name}” contains this group: groups cannot contain themselves."})
            row.member_group = target
        else:
            raise ValidationError({"members": f"Unknown kind of member “{kind}”."})
        if getattr(target, "tenant_id", actor.tenant_id) != actor.tenant_id:
            raise PermissionDenied
        rows.append(row)
    GroupMember.objects.filter(tenant_id=actor.tenant_id, group=group).delete()
    GroupMember.objects.bulk_create(rows)
    maintenance.refresh_groups(actor.tenant_id)
    _log(actor, "group.created" if creating else "group.changed", group=group.name, members=len(rows))
    _changed(actor)
    return group


def group_delete(*, actor: Membership, group: Group) -> None:
    _require(actor, "manage_sharing")
    if group.kind != Group.Kind.PUBLIC:
        raise ValidationError("A role's own groups go with the role.")
    if SharingRule.objects.filter(tenant_id=actor.tenant_id, target_group=group).exists() or \
            SharingRule.objects.filter(tenant_id=actor.tenant_id, source_group=group).exists():
        raise ValidationError("Sharing rules use this group: change or delete them first.")
    Share.objects.filter(tenant_id=actor.tenant_id, grantee=group.pk).delete()
    name = group.name
    group.delete()
    maintenance.refresh_groups(actor.tenant_id)
    _log(actor, "group.deleted", group=name)
    _changed(actor)


# --- sharing rules --------------------------------------------------------------------------------


def rule_save(*, actor: Membership, rule: SharingRule | None = None, object: str, name: str, kind: str,
              target_group: Group, access: int = Level.READ, source_group: Group | None = None,
              criteria=None, run_inline: bool | None = None) -> SharingRule:
    """Create or change a sharing rule. A criteria rule's share rows are written in this
    transaction when it matches up to INLINE_RULE_ROWS records, else by a job (the rule is
    `calculating` and grants nothing until the job commits)."""
    _require(actor, "manage_sharing")
    entry = registry.get(object)
    errors = {}
    if not (name or "").strip():
        errors["name"] = "Give the rule a name."
    if kind not in SharingRule.Kind.values:
        errors["kind"] = "Owner-based or criteria-based."
    if access not in Level.values:
        errors["access"] = "Read only or read/write."
    if target_group is None:
        errors["target_group"] = "Choose whom to share with."
    if kind == SharingRule.Kind.OWNER and source_group is None:
        errors["source_group"] = "Choose whose records to share."
    if kind == SharingRule.Kind.CRITERIA:
        try:
            criteria = criteria_rules.clean(entry, criteria)
        except ValidationError as exc:
            errors["criteria"] = exc.messages
    for group in (target_group, source_group):
        if group is not None and group.tenant_id != actor.tenant_id:
            raise PermissionDenied
    if errors:
        raise ValidationError(errors)
    creating = rule is None
    if creating:
        rule = SharingRule(tenant_id=actor.tenant_id)
    rule.object, rule.name, rule.kind, rule.access = object, name.strip(), kind, access
    rule.target_group = target_group
    rule.source_group = source_group if kind == SharingRule.Kind.OWNER else None
    rule.criteria = criteria if kind == SharingRule.Kind.CRITERIA else []
    if kind == SharingRule.Kind.CRITERIA:
        if run_inline is None:
            run_inline = maintenance.criteria_queryset(rule).count() <= maintenance.INLINE_RULE_ROWS \
                if rule.pk else True
        rule.status = SharingRule.Status.ACTIVE if run_inline else SharingRule.Status.CALCULATING
        rule.progress = 100 if run_inline else 0
    else:
        rule.status, rule.progress = SharingRule.Status.ACTIVE, 100
    maintenance.compile_rule(rule)
    rule.save()
    if kind == SharingRule.Kind.CRITERIA:
        if run_inline:
            maintenance.apply_rule(rule)
        else:
            maintenance.drop_rule(rule)  # grants nothing until the job has written every row
            from .tasks import calculate_rule

            transaction.on_commit(lambda: calculate_rule.delay(tenant_id=str(actor.tenant_id), rule_id=str(rule.pk)))
    else:
        maintenance.drop_rule(rule)
    _log(actor, "rule.created" if creating else "rule.changed", rule=rule.name, object=object, kind=kind,
         access=access)
    _changed(actor)
    return rule


def rule_delete(*, actor: Membership, rule: SharingRule) -> None:
    _require(actor, "manage_sharing")
    maintenance.drop_rule(rule)
    name = rule.name
    rule.delete()
    _log(actor, "rule.deleted", rule=name)
    _changed(actor)


# --- one record: manual shares, teams, collaboration groups --------------------------------------


def _require_record_owner_side(actor: Membership, record) -> registry.Secured:
    entry = registry.for_model(type(record))
    if entry is None or record.tenant_id != actor.tenant_id:
        raise PermissionDenied
    if not engine.can(actor, "read", record):
        raise PermissionDenied  # the caller turns this into a 404: the record is not theirs to know
    ctx = engine.context(actor)
    owner_id = getattr(record, f"{entry.owner_field}_id", None)
    # the owner, or someone whose role is above the owner's (the context holds who is below)
    above = owner_id is not None and (owner_id == actor.pk or owner_id in ctx.subordinates)
    if not (above or ctx.rights(entry.key).modify_all or "manage_sharing" in ctx.app):
        raise PermissionDenied("Only the owner, someone above them or an administrator can share this record.")
    return entry


require_record_owner_side = _require_record_owner_side  # public: pages ask "may this member share it?"


def share_create(*, actor: Membership, record, grantee, access: int = Level.READ) -> Share:
    """Share `record` with a member or a public group (`grantee`)."""
    entry = _require_record_owner_side(actor, record)
    if access not in Level.values:
        raise ValidationError({"access": "Read only or read/write."})
    if grantee is None or grantee.tenant_id != actor.tenant_id:
        raise ValidationError({"grantee": "Choose a colleague or a group."})
    is_group = isinstance(grantee, Group)
    share, _ = Share.objects.update_or_create(
        tenant_id=actor.tenant_id, object=entry.key, record_id=record.pk, grantee=grantee.pk, cause=Cause.MANUAL,
        cause_id=None, defaults={"grantee_is_group": is_group, "access": access, "created_by": actor},
    )
    _log(actor, "share.created", object=entry.key, record=record.pk, grantee=str(grantee), access=access)
    return share


def share_delete(*, actor: Membership, share: Share) -> None:
    if share.cause != Cause.MANUAL:
        raise ValidationError("This access comes from a rule, a team or a group: change that instead.")
    entry = registry.get(share.object)
    record = entry.model.objects.filter(tenant_id=actor.tenant_id, pk=share.record_id).first()
    if record is None:
        raise PermissionDenied
    _require_record_owner_side(actor, record)
    share.delete()
    _log(actor, "share.deleted", object=share.object, record=share.record_id)


def team_member_set(*, actor: Membership, record, membership: Membership, team_role: str,
                    access: int = Level.READ) -> TeamMember:
    entry = registry.for_model(type(record))
    if entry is None or not engine.can(actor, "edit", record):
        raise PermissionDenied("You need to be able to edit this record to change its team.")
    if membership.tenant_id != actor.tenant_id or not membership.is_active:
        raise ValidationError({"membership": "Choose an active colleague."})
    if not (team_role or "").strip():
        raise ValidationError({"team_role": "Say what they do on this team."})
    if access not in Level.values:
        raise ValidationError({"access": "Read only or read/write."})
    member, _ = TeamMember.objects.update_or_create(
        tenant_id=actor.tenant_id, object=entry.key, record_id=record.pk, membership=membership,
        defaults={"team_role": team_role.strip(), "access": access},
    )
    maintenance.sync_member_share(tenant_id=actor.tenant_id, object=entry.key, record_id=record.pk,
                                  membership_id=membership.pk, access=access, cause=Cause.TEAM, cause_id=member.pk,
                                  created_by_id=actor.pk)
    _log(actor, "team.member", object=entry.key, record=record.pk, member=membership.user.email, access=access)
    return member


def team_member_remove(*, actor: Membership, member: TeamMember) -> None:
    entry = registry.get(member.object)
    record = entry.model.objects.filter(tenant_id=actor.tenant_id, pk=member.record_id).first()
    if record is None or not engine.can(actor, "edit", record):
        raise PermissionDenied("You need to be able to edit this record to change its team.")
    maintenance.drop_cause(actor.tenant_id, member.pk)
    member.delete()
    _log(actor, "team.removed", object=member.object, record=member.record_id)


def collaboration_create(*, actor: Membership, record, name: str, purpose: str = "",
                         members: list[tuple[Membership, str, int]]) -> CollaborationGroup:
    """An ad-hoc group of colleagues around `record`: [(member, task role, access level), …]."""
    entry = _require_record_owner_side(actor, record)
    if not (name or "").strip():
        raise ValidationError({"name": "Give the group a name."})
    if not members:
        raise ValidationError({"members": "Add at least one colleague."})
    group = CollaborationGroup.objects.create(tenant_id=actor.tenant_id, object=entry.key, record_id=record.pk,
                                              name=name.strip(), purpose=purpose.strip(), created_by=actor)
    for membership, task_role, access in members:
        if membership.tenant_id != actor.tenant_id:
            raise PermissionDenied
        if not membership.is_active:
            raise ValidationError({"members": f"{membership.user.display_name} no longer works here."})
        if access not in Level.values:
            raise ValidationError({"members": "Read only or read/write."})
        member = CollaborationMember.objects.create(tenant_id=actor.tenant_id, group=group, membership=membership,
                                                    task_role=(task_role or "").strip(), access=access)
        maintenance.sync_member_share(tenant_id=actor.tenant_id, object=entry.key, record_id=record.pk,
                                      membership_id=membership.pk, access=access, cause=Cause.COLLAB,
                                      cause_id=member.pk, created_by_id=actor.pk)
    _log(actor, "collaboration.created", object=entry.key, record=record.pk, group=group.name, members=len(members))
    return group


def collaboration_dissolve(*, actor: Membership, group: CollaborationGroup) -> None:
    entry = registry.get(group.object)
    record = entry.model.objects.filter(tenant_id=actor.tenant_id, pk=group.record_id).first()
    if record is None:
        raise PermissionDenied
    _require_record_owner_side(actor, record)
    for member_id in group.members.values_list("id", flat=True):
        maintenance.drop_cause(actor.tenant_id, member_id)
    group.dissolved_at = timezone.now()
    group.save(update_fields=["dissolved_at", "updated_at"])
    _log(actor, "collaboration.dissolved", object=group.object, record=group.record_id, group=group.name)
