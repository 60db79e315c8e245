"""What a new tenant starts with: four system profiles (one per kind of user the product knows),
organisation-wide defaults, and a role and profile for every member.

Existing members get the system profile of their kind (Membership.role: admin, manager, rep,
agent). Kinds stay what the product uses to shape screens (a rep's home page is not an admin's);
rights come from the profile only.
"""

from __future__ import annotations

from crm.tenancy.models import Membership, Role

from . import maintenance, registry
from .models import ObjectPermission, OrgDefault, PermissionSet, RoleAssignment, UserRole

ALL = {"can_create": True, "can_read": True, "can_edit": True, "can_delete": True}
PROFILES = {
    Role.ADMIN: ("System administrator", "Everything, including users, sharing and the security log.",
                 {name: True for name in PermissionSet.APP_PERMISSIONS},
                 {**ALL, "view_all": True, "modify_all": True}),
    Role.MANAGER: ("Sales manager", "Works a team's customers; imports, exports, hands books over.",
                   {"can_import": True, "can_export": True, "transfer_records": True},
                   ALL),
    Role.REP: ("Sales rep", "Works their own customers.", {"can_import": True, "can_export": True}, ALL),
    Role.AGENT: ("Service agent", "Serves customers; reads and updates accounts and contacts.",
                 {"can_export": True},
                 {"can_create": True, "can_read": True, "can_edit": True, "can_delete": False}),
}


def system_profiles(tenant_id) -> dict[str, PermissionSet]:
    """The tenant's system profiles by kind, created on first use."""
    found = {p.system_key: p for p in PermissionSet.objects.filter(tenant_id=tenant_id, is_profile=True)
             .exclude(system_key="")}
    for kind, (name, description, app, rights) in PROFILES.items():
        if kind in found:
            continue
        profile = PermissionSet.objects.create(tenant_id=tenant_id, name=name, description=description,
                                               is_profile=True, system_key=kind, **app)
        ObjectPermission.objects.bulk_create([
            ObjectPermission(tenant_id=tenant_id, permission_set=profile, object=entry.key, **rights)
            for entry in registry.objects()
        ])
        found[kind] = profile
    return found


def setup_tenant(tenant_id) -> None:
    """Profiles, defaults and a role tree mirroring the reporting lines, for a tenant without them
    (a new sign-up, or a tenant that existed before the access model)."""
    profiles = system_profiles(tenant_id)
    for entry in registry.objects():
        OrgDefault.objects.get_or_create(tenant_id=tenant_id, object=entry.key,
                                         defaults={"access": entry.default})
    members = list(Membership.objects.filter(tenant_id=tenant_id).select_related("user"))
    assigned = set(RoleAssignment.objects.filter(tenant_id=tenant_id).values_list("membership_id", flat=True))
    roles = _roles_from_reporting_lines(tenant_id, [m for m in members if m.pk not in assigned], members)
    RoleAssignment.objects.bulk_create([
        RoleAssignment(tenant_id=tenant_id, membership=m, role=roles.get(m.pk), profile=profiles[m.role])
        for m in members if m.pk not in assigned
    ])
    maintenance.refresh_groups(tenant_id)


def _roles_from_reporting_lines(tenant_id, new_members, members) -> dict:
    """Roles that mirror Membership.reports_to exactly: someone with direct reports holds a role
    of their own ("Sales manager: Max Richter"), and colleagues of one kind under one manager with
    no reports of their own share one role under the manager's ("Sales rep (Max Richter's team)"),
    so they do not see each other's records. (Sharing a role between two managers would let each
    see the other's team: a role's holders see everything below it.)

    A new member whose manager holds a role shared with others (the manager had no reports when
    roles were made) gets no role: they see their own records and nobody else sees them through
    the hierarchy until an admin places them in the tree — never more access than the reporting
    line gave."""
    by_id = {m.pk: m for m in members}
    has_reports = {m.reports_to_id for m in members if m.reports_to_id}
    assignments = list(RoleAssignment.objects.filter(tenant_id=tenant_id).select_related("role"))
    existing = {a.membership_id: a.role for a in assignments}
    holders: dict = {}
    for a in assignments:
        if a.role_id:
            holders[a.role_id] = holders.get(a.role_id, 0) + 1
    names = set(UserRole.objects.filter(tenant_id=tenant_id).values_list("name", flat=True))

    def key_of(m):
        if m.pk in has_reports:
            return ("person", m.pk)
        return (m.role, m.reports_to_id if m.reports_to_id in by_id else None)

    made: dict = {}
    for membership_id, role in existing.items():  # a second rep under a manager joins the first
        if role is not None and membership_id in by_id:
            made.setdefault(key_of(by_id[membership_id]), role)
    result: dict = {}

    def unique(name):
        base, suffix = name, 2
        while name in names:
            name, suffix = f"{base} {suffix}", suffix + 1
        names.add(name)
        return name

    def role_of(m, trail=()):
        if m.pk in existing:
            return existing[m.pk]
        if m.pk in result:
            return result[m.pk]
        manager = by_id.get(m.reports_to_id) if m.reports_to_id not in trail else None
        parent = role_of(manager, (*trail, m.pk)) if manager is not None else None
        if manager is not None and manager.pk in existing and parent is not None and holders.get(parent.pk, 0) > 1:
            result[m.pk] = None
            return None
        key = key_of(m)
        if key not in made:
            label = Role(m.role).label
            if key[0] == "person":
                name = unique(f"{label}: {m.user.display_name}")
            elif manager is not None:
                name = unique(f"{label} ({manager.user.display_name}'s team)")
            else:
                name = unique(label)
            role = UserRole.objects.create(tenant_id=tenant_id, name=name, parent=parent)
            maintenance.role_added(role, refresh=False)  # the callers refresh once
            made[key] = role
        result[m.pk] = made[key]
        return made[key]

    for m in new_members:
        role_of(m)
    return result


def setup_member(membership: Membership) -> RoleAssignment:
    """A new member, however created (sign-up, invitation, import of a team, tests): the system
    profile of their kind, and a role from their reporting line (the role colleagues of the same
    kind under the same manager hold), created if needed. An admin can change both at once."""
    existing = RoleAssignment.objects.filter(tenant_id=membership.tenant_id, membership=membership).first()
    if existing is not None:
        return existing
    profiles = system_profiles(membership.tenant_id)
    members = list(Membership.objects.filter(tenant_id=membership.tenant_id).select_related("user"))
    if membership not in members:
        members.append(membership)
    role = _roles_from_reporting_lines(membership.tenant_id, [membership], members).get(membership.pk)
    assignment = RoleAssignment.objects.create(tenant_id=membership.tenant_id, membership=membership, role=role,
                                               profile=profiles[membership.role])
    if role is not None:
        maintenance.refresh_groups(membership.tenant_id)
    return assignment


def kind_changed(membership: Membership) -> None:
    """A member's kind changed (rep -> manager): a member on a system profile moves to the system
    profile of the new kind; a custom profile stays (an admin chose it on purpose)."""
    assignment = setup_member(membership)
    if assignment.profile.system_key and assignment.profile.system_key != membership.role:
        assignment.profile = system_profiles(membership.tenant_id)[membership.role]
        assignment.save(update_fields=["profile", "updated_at"])
