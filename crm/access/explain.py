"""Why can a member see a record, and who can see it.

`why(actor, record)` lists every path through which the actor reaches the record, each with its
level; `who(record)` lists every active member who may read it, with their level and reasons.
Both follow crm.access.engine path for path (`level_of` + the object rights of `can`): a reason is
listed iff the engine grants that path, and the highest reason level is the engine's level.

`who` is set-based: a fixed number of queries per record (rights, groups, roles, rules, shares,
and the same again for the parent), never a per-member call of the engine.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from crm.tenancy.models import Membership

from . import engine, registry
from .models import (
    Cause,
    CollaborationMember,
    Default,
    Group,
    GroupUser,
    Level,
    MemberPermissionSet,
    ObjectPermission,
    OrgDefault,
    PermissionSet,
    RoleAssignment,
    RoleClosure,
    Share,
    SharingRule,
    TeamMember,
)

READ, EDIT = engine.READ, engine.EDIT
LEVEL_LABEL = {READ: "read", EDIT: "read/write"}


@dataclass(frozen=True)
class Reason:
    kind: str  # owner, hierarchy, modify_all, view_all, default, owner_rule, rule, manual, team, collab, parent
    level: int  # engine.READ / engine.EDIT
    text: str

    @property
    def level_label(self) -> str:
        return LEVEL_LABEL[self.level]


class _World:
    """What one tenant's access configuration says, loaded for a set of object keys."""

    def __init__(self, tenant_id, keys, member_ids=None):
        self.tenant_id = tenant_id
        members = Membership.objects.filter(tenant_id=tenant_id, is_active=True)
        if member_ids is not None:
            members = members.filter(pk__in=member_ids)
        self.members = {m.pk: m for m in members.select_related("user")}
        ids = list(self.members)
        # profile + permission sets per member, and their object rights
        sets = defaultdict(set)
        for m, p in RoleAssignment.objects.filter(tenant_id=tenant_id, membership_id__in=ids) \
                .values_list("membership_id", "profile_id"):
            sets[m].add(p)
        for m, p in MemberPermissionSet.objects.filter(tenant_id=tenant_id, membership_id__in=ids) \
                .values_list("membership_id", "permission_set_id"):
            sets[m].add(p)
        all_sets = {p for s in sets.values() for p in s}
        names = dict(PermissionSet.objects.filter(tenant_id=tenant_id, pk__in=all_sets)
                     .values_list("pk", "name"))
        profile_flag = dict(PermissionSet.objects.filter(tenant_id=tenant_id, pk__in=all_sets)
                            .values_list("pk", "is_profile"))
        by_set = defaultdict(dict)
        for row in ObjectPermission.objects.filter(tenant_id=tenant_id, permission_set_id__in=all_sets,
                                                   object__in=keys):
            by_set[row.permission_set_id][row.object] = row
        # rights[member][key] = (can_read, [view-all sources], [modify-all sources])
        self.rights = {}
        for m in ids:
            per = {}
            for key in keys:
                can_read, view_all, modify_all = False, [], []
                for p in sets.get(m, ()):
                    row = by_set[p].get(key)
                    if row is None:
                        continue
                    label = f"{'profile' if profile_flag[p] else 'permission set'} “{names[p]}”"
                    can_read = can_read or row.can_read
                    if row.modify_all:
                        modify_all.append(label)
                    if row.view_all:
                        view_all.append(label)
                per[key] = (can_read, view_all, modify_all)
            self.rights[m] = per
        self.defaults = {key: (registry.get(key).default, True) for key in keys}
        for row in OrgDefault.objects.filter(tenant_id=tenant_id, object__in=keys):
            self.defaults[row.object] = (row.access, row.hierarchy_edit)
        self.roles = dict(RoleAssignment.objects.filter(tenant_id=tenant_id).exclude(role=None)
                          .values_list("membership_id", "role_id"))
        self.role_names = {}
        self._group_users = {}
        self._group_names = {}

    def group_users(self, group_ids) -> dict:
        """group id -> set of (active, loaded) member ids."""
        missing = [g for g in group_ids if g not in self._group_users]
        if missing:
            for g in missing:
                self._group_users[g] = set()
            for g, m in GroupUser.objects.filter(tenant_id=self.tenant_id, group_id__in=missing) \
                    .values_list("group_id", "membership_id"):
                if m in self.members:
                    self._group_users[g].add(m)
            self._group_names.update(Group.objects.filter(tenant_id=self.tenant_id, pk__in=missing)
                                     .values_list("pk", "name"))
        return {g: self._group_users[g] for g in group_ids}

    def group_name(self, group_id) -> str:
        return self._group_names.get(group_id, "a group")

    def role_name(self, role_id) -> str:
        if role_id not in self.role_names:
            from .models import UserRole

            self.role_names.update(UserRole.objects.filter(tenant_id=self.tenant_id).values_list("pk", "name"))
        return self.role_names.get(role_id, "?")


def _name(member) -> str:
    if member is None:
        return "nobody"
    user = member.user
    return getattr(user, "display_name", None) or user.email


def _levels(world: _World, key: str, record) -> dict:
    """member id -> [Reason] for every path of engine.level_of (before the object's read right)."""
    entry = registry.get(key)
    out = defaultdict(list)
    members = world.members

    def add(member_ids, kind, level, text):
        for m in member_ids:
            if m in members:
                out[m].append(Reason(kind, level, text))

    default, hierarchy_edit = world.defaults[key]
    label = entry.label.lower()
    # 1. view all / modify all
    for m in members:
        _read, view_all, modify_all = world.rights[m][key]
        for source in modify_all:
            out[m].append(Reason("modify_all", EDIT, f"“Modify all” on {label} from the {source}"))
        for source in view_all:
            out[m].append(Reason("view_all", READ, f"“View all” on {label} from the {source}"))
    # 2. organisation-wide default
    if default == Default.EDIT:
        add(members, "default", EDIT, f"The organisation-wide default for {label} is public read/write")
    elif default == Default.READ:
        add(members, "default", READ, f"The organisation-wide default for {label} is public read only")
    # 3. ownership, 4. hierarchy, 5. owner-based rules
    owner_id = getattr(record, f"{entry.owner_field}_id", None)
    if owner_id is not None:
        add([owner_id], "owner", EDIT, "Owner of the record")
        owner_role = world.roles.get(owner_id)
        if owner_role is not None:
            above = set(RoleClosure.objects.filter(tenant_id=world.tenant_id, descendant_id=owner_role, depth__gt=0)
                        .values_list("ancestor_id", flat=True))
            level = EDIT if hierarchy_edit else READ
            owner_name = _name(members.get(owner_id) or Membership.objects.select_related("user").get(pk=owner_id))
            for m, role in world.roles.items():
                if role in above and m in members:
                    out[m].append(Reason("hierarchy", level,
                                         f"Role “{world.role_name(role)}” is above the owner's role "
                                         f"“{world.role_name(owner_role)}” ({owner_name})"))
        rules = list(SharingRule.objects.filter(tenant_id=world.tenant_id, object=key, kind=SharingRule.Kind.OWNER,
                                                status=SharingRule.Status.ACTIVE))
        if rules:
            groups = world.group_users({g for r in rules for g in (r.source_group_id, r.target_group_id)})
            for rule in rules:
                if owner_id in _all_in(world, rule.source_group_id):
                    add(groups[rule.target_group_id], "owner_rule", rule.access,
                        f"Sharing rule “{rule.name}”: records owned by “{world.group_name(rule.source_group_id)}” "
                        f"shared with “{world.group_name(rule.target_group_id)}”")
    # 6. share rows on the record
    _share_reasons(world, key, record.pk, add, causes=None, prefix="")
    # 7. the parent
    for parent_key, fk in entry.parents:
        parent = getattr(record, fk, None)
        if parent is None:
            continue
        parent_label = f"{registry.get(parent_key).label.lower().rstrip('s')} “{parent}”"
        if default == Default.PARENT:
            for m, reasons in _levels(world, parent_key, parent).items():
                for r in reasons:
                    out[m].append(Reason("parent", r.level, f"Controlled by the parent {parent_label}: {r.text}"))
        else:
            _share_reasons(world, parent_key, parent.pk, add, causes=(Cause.TEAM, Cause.COLLAB),
                           prefix=f"Through the parent {parent_label}: ")
    return out


def _all_in(world: _World, group_id) -> set:
    """Members of a group including inactive/unloaded ones (an owner may be anyone)."""
    return set(GroupUser.objects.filter(tenant_id=world.tenant_id, group_id=group_id)
               .values_list("membership_id", flat=True))


def _share_reasons(world: _World, key: str, record_id, add, *, causes, prefix: str) -> None:
    shares = Share.objects.filter(tenant_id=world.tenant_id, object=key, record_id=record_id)
    if causes:
        shares = shares.filter(cause__in=causes)
    shares = list(shares)
    if not shares:
        return
    groups = world.group_users({s.grantee for s in shares if s.grantee_is_group})
    rules = dict(SharingRule.objects.filter(tenant_id=world.tenant_id,
                                            pk__in=[s.cause_id for s in shares if s.cause == Cause.RULE])
                 .values_list("pk", "name"))
    teams = {t.pk: t for t in TeamMember.objects.filter(
        tenant_id=world.tenant_id, pk__in=[s.cause_id for s in shares if s.cause == Cause.TEAM])}
    collabs = {c.pk: c for c in CollaborationMember.objects.filter(
        tenant_id=world.tenant_id, pk__in=[s.cause_id for s in shares if s.cause == Cause.COLLAB]
    ).select_related("group")}
    for share in shares:
        grantees = groups.get(share.grantee, set()) if share.grantee_is_group else {share.grantee}
        via = f" (member of “{world.group_name(share.grantee)}”)" if share.grantee_is_group else ""
        if share.cause == Cause.MANUAL:
            text = f"Shared manually with “{world.group_name(share.grantee)}”" if share.grantee_is_group \
                else "Shared manually with this person"
        elif share.cause == Cause.RULE:
            text = f"Criteria sharing rule “{rules.get(share.cause_id, '?')}”{via}"
        elif share.cause == Cause.TEAM:
            team = teams.get(share.cause_id)
            text = f"Account team: {team.team_role}" if team else "Account team"
        else:
            member = collabs.get(share.cause_id)
            text = (f"Collaboration group “{member.group.name}”" + (f": {member.task_role}" if member.task_role else "")
                    if member else "Collaboration group")
        add(grantees, share.cause, share.access, prefix + text)


def _keys(key: str) -> list:
    keys, todo = [], [key]
    while todo:
        k = todo.pop()
        if k not in keys:
            keys.append(k)
            todo += [p for p, _ in registry.get(k).parents]
    return keys


def _gate(world: _World, key: str, levels: dict) -> dict:
    """Keep the members whose object rights allow reading `key`; sorted reasons."""
    return {m: sorted(reasons, key=lambda r: (-r.level, r.kind, r.text))
            for m, reasons in levels.items() if reasons and world.rights[m][key][0]}


def why(actor, record) -> list[Reason]:
    """Every path through which `actor` reaches `record` (empty: they cannot read it)."""
    entry = registry.for_model(type(record))
    if actor is None or not actor.is_active or entry is None or record.tenant_id != actor.tenant_id:
        return []
    world = _World(actor.tenant_id, _keys(entry.key), member_ids=[actor.pk])
    return _gate(world, entry.key, _levels(world, entry.key, record)).get(actor.pk, [])


def who(record) -> list[tuple[Membership, int, list[Reason]]]:
    """Every active member who can read `record`: (member, level, reasons), highest level first."""
    entry = registry.for_model(type(record))
    world = _World(record.tenant_id, _keys(entry.key))
    gated = _gate(world, entry.key, _levels(world, entry.key, record))
    rows = [(world.members[m], max(r.level for r in reasons), reasons) for m, reasons in gated.items()]
    return sorted(rows, key=lambda row: (-row[1], _name(row[0]).lower()))


__all__ = ["Level", "Reason", "why", "who"]
