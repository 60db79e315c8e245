"""The access model's configuration and its precomputed rows.

What an admin configures (tracked in history, every change also in the security log):
- PermissionSet: a profile (`is_profile`) or a permission set. Object rights per registered
  object (ObjectPermission), field restrictions/grants (FieldPermission), app permissions
  (the booleans below). A member has one profile and any number of permission sets; the
  effective rights are their union.
- UserRole: the role tree (any depth). A member holds at most one role.
- OrgDefault: the organisation-wide default per object.
- Group + GroupMember: public groups of users, roles, roles-with-subordinates and other groups.
  Every role also has two system groups (the role; the role and its subordinates) so that sharing
  targets are always groups.
- SharingRule: owner-based (records owned by members of a group) or criteria-based (records whose
  fields match), shared with a group, read or edit.
- Share with cause "manual": one record shared with a member or a group.
- TeamMember (account teams; later opportunity teams, ticket collaborators) and
  CollaborationGroup/CollaborationMember (ad-hoc groups around one record).

What is derived from it (never edited by hand; kept current by crm.access.maintenance in the same
transaction as the change that affects it, or by a job with progress for large recalculations):
- RoleClosure: every (ancestor, descendant) pair of the role tree, depth 0 included.
- GroupUser: every group's members flattened to memberships.
- Share rows with cause "rule" (criteria rules), "team" and "collab".

Records hold no access columns: the hierarchy and owner-based rules are resolved at query time
through the closures, so moving a role or a user rewrites closure rows, not share rows.
"""

from __future__ import annotations

from django.db import models

from crm.audit.history import track
from crm.tenancy.models import Membership, TenantModel


class Level(models.IntegerChoices):
    READ = 1, "Read only"
    EDIT = 2, "Read/write"


class PermissionSet(TenantModel):
    """A profile (is_profile) or a permission set; the same shape, union semantics."""

    name = models.CharField(max_length=80)
    description = models.CharField(max_length=300, blank=True)
    is_profile = models.BooleanField(default=False)
    # system profiles are created with the tenant and cannot be deleted (they can be edited)
    system_key = models.CharField(max_length=20, blank=True)
    # app-level permissions
    can_import = models.BooleanField(default=False)
    can_export = models.BooleanField(default=False)
    manage_users = models.BooleanField(default=False)
    manage_sharing = models.BooleanField(default=False)
    customize = models.BooleanField(default=False, help_text="Custom fields, layouts, picklists.")
    transfer_records = models.BooleanField(default=False)
    view_security_log = models.BooleanField(default=False)

    APP_PERMISSIONS = ("can_import", "can_export", "manage_users", "manage_sharing", "customize",
                       "transfer_records", "view_security_log")

    class Meta(TenantModel.Meta):
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(fields=["tenant", "is_profile", "name"], name="permset_name_uniq"),
        ]

    def __str__(self) -> str:
        return self.name


track()(PermissionSet)


class ObjectPermission(TenantModel):
    permission_set = models.ForeignKey(PermissionSet, on_delete=models.CASCADE, related_name="object_rights")
    object = models.CharField(max_length=40)
    can_create = models.BooleanField(default=False)
    can_read = models.BooleanField(default=False)
    can_edit = models.BooleanField(default=False)
    can_delete = models.BooleanField(default=False)
    view_all = models.BooleanField(default=False)
    modify_all = models.BooleanField(default=False)

    FLAGS = ("can_create", "can_read", "can_edit", "can_delete", "view_all", "modify_all")

    class Meta(TenantModel.Meta):
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(fields=["tenant", "permission_set", "object"], name="objperm_uniq"),
        ]


track()(ObjectPermission)


class FieldAccess(models.TextChoices):
    HIDDEN = "hidden", "Hidden"
    READ_ONLY = "read_only", "Read only"
    EDIT = "edit", "Editable"


class FieldPermission(TenantModel):
    """On a profile: a restriction (hidden / read only; a field not listed is editable).
    On a permission set: a grant (read only / editable) that lifts the profile's restriction.
    Effective access of a field = the most permissive of the member's profile and sets."""

    permission_set = models.ForeignKey(PermissionSet, on_delete=models.CASCADE, related_name="field_rights")
    object = models.CharField(max_length=40)
    field = models.CharField(max_length=80)  # model field name, or cf_<name> for a custom field
    access = models.CharField(max_length=10, choices=FieldAccess.choices)

    class Meta(TenantModel.Meta):
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(fields=["tenant", "permission_set", "object", "field"], name="fieldperm_uniq"),
        ]


track()(FieldPermission)


class MemberPermissionSet(TenantModel):
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="permission_set_links")
    permission_set = models.ForeignKey(PermissionSet, on_delete=models.CASCADE, related_name="member_links")

    class Meta(TenantModel.Meta):
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(fields=["tenant", "membership", "permission_set"], name="member_permset_uniq"),
        ]


track()(MemberPermissionSet)


class UserRole(TenantModel):
    """A node of the role hierarchy. Named after the position ("EMEA sales manager"), not a person."""

    name = models.CharField(max_length=80)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")

    class Meta(TenantModel.Meta):
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(fields=["tenant", "name"], name="userrole_name_uniq"),
        ]

    def __str__(self) -> str:
        return self.name


track()(UserRole)


class RoleAssignment(TenantModel):
    """Which role a member holds (one at most) and which profile governs them.

    Kept beside Membership rather than on it, so that tenancy does not depend on this app."""

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    role = models.ForeignKey(UserRole, null=True, blank=True, on_delete=models.SET_NULL, related_name="assignments")
    profile = models.ForeignKey(PermissionSet, on_delete=models.PROTECT, related_name="profile_members")

    class Meta(TenantModel.Meta):
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(fields=["tenant", "membership"], name="assignment_member_uniq"),
        ]
        indexes = [models.Index(fields=["tenant", "role", "membership"], name="assignment_role_idx")]


track()(RoleAssignment)


class RoleClosure(TenantModel):
    """Derived: (ancestor, descendant, depth) for every pair of the role tree, depth 0 included."""

    ancestor = models.ForeignKey(UserRole, on_delete=models.CASCADE, related_name="+")
    descendant = models.ForeignKey(UserRole, on_delete=models.CASCADE, related_name="+")
    depth = models.PositiveSmallIntegerField()

    class Meta(TenantModel.Meta):
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(fields=["tenant", "ancestor", "descendant"], name="roleclosure_uniq"),
        ]
        indexes = [models.Index(fields=["tenant", "descendant", "ancestor"], name="roleclosure_desc_idx")]


class Default(models.TextChoices):
    PRIVATE = "private", "Private"
    READ = "read", "Public read only"
    EDIT = "edit", "Public read/write"
    PARENT = "parent", "Controlled by parent"


class OrgDefault(TenantModel):
    object = models.CharField(max_length=40)
    access = models.CharField(max_length=10, choices=Default.choices, default=Default.PRIVATE)
    # managers edit (not only read) what their subordinates own
    hierarchy_edit = models.BooleanField(default=True)

    class Meta(TenantModel.Meta):
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(fields=["tenant", "object"], name="orgdefault_object_uniq"),
        ]


track()(OrgDefault)


class Group(TenantModel):
    class Kind(models.TextChoices):
        PUBLIC = "public", "Public group"
        ROLE = "role", "Role"
        ROLE_SUB = "role_sub", "Role and subordinates"

    name = models.CharField(max_length=80)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.PUBLIC)
    role = models.ForeignKey(UserRole, null=True, blank=True, on_delete=models.CASCADE, related_name="groups")

    class Meta(TenantModel.Meta):
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(fields=["tenant", "kind", "role"], condition=models.Q(role__isnull=False),
                                    name="group_role_uniq"),
            models.UniqueConstraint(fields=["tenant", "name"], condition=models.Q(kind="public"),
                                    name="group_public_name_uniq"),
        ]

    def __str__(self) -> str:
        return self.name


track()(Group)


class GroupMember(TenantModel):
    """A configured member of a public group: a user, a role, a role and its subordinates, a group."""

    class Kind(models.TextChoices):
        USER = "user", "User"
        ROLE = "role", "Role"
        ROLE_SUB = "role_sub", "Role and subordinates"
        GROUP = "group", "Group"

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="members")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    membership = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    role = models.ForeignKey(UserRole, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    member_group = models.ForeignKey(Group, null=True, blank=True, on_delete=models.CASCADE, related_name="+")


track()(GroupMember)


class GroupUser(TenantModel):
    """Derived: every group's members, flattened to memberships (nested groups and roles resolved)."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="+")
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")

    class Meta(TenantModel.Meta):
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(fields=["tenant", "group", "membership"], name="groupuser_uniq"),
        ]
        indexes = [models.Index(fields=["tenant", "membership", "group"], name="groupuser_member_idx")]


class SharingRule(TenantModel):
    class Kind(models.TextChoices):
        OWNER = "owner", "Based on record owner"
        CRITERIA = "criteria", "Based on criteria"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        CALCULATING = "calculating", "Calculating"  # grants nothing until its share rows are in

    object = models.CharField(max_length=40)
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    source_group = models.ForeignKey(Group, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    criteria = models.JSONField(default=list, blank=True)  # [{"field", "op", "value"}], all must hold
    target_group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="+")
    access = models.PositiveSmallIntegerField(choices=Level.choices, default=Level.READ)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.ACTIVE)
    progress = models.PositiveSmallIntegerField(default=100)
    # the criteria compiled to SQL when the rule is saved (maintenance.compile_rule), for the
    # database trigger that keeps its share rows current on every write of the object's table:
    # `match_sql` selects the ids that match, `changed_sql` tells (old row o, new row n) whether
    # a column the criteria test changed
    match_sql = models.TextField(blank=True, default="")
    changed_sql = models.TextField(blank=True, default="")

    class Meta(TenantModel.Meta):
        indexes = [models.Index(fields=["tenant", "object", "kind"], name="sharingrule_object_idx")]

    def __str__(self) -> str:
        return self.name


track()(SharingRule)


class RuleBacklog(TenantModel):
    """A record written while its criteria rule was `calculating`: the job that writes the rule's
    rows reads them from a snapshot, so a record changed meanwhile may have been judged on its old
    values. The table trigger notes the record here instead of sharing it; the job re-evaluates
    the noted records while it holds off writers for that moment, then empties the backlog
    (crm/access/tasks.py calculate_rule)."""

    rule = models.ForeignKey(SharingRule, on_delete=models.CASCADE, related_name="+")
    record_id = models.UUIDField()

    class Meta(TenantModel.Meta):
        indexes = [models.Index(fields=["tenant", "rule", "record_id"], name="rulebacklog_rule_idx")]


class Cause(models.TextChoices):
    MANUAL = "manual", "Manual share"
    RULE = "rule", "Sharing rule"
    TEAM = "team", "Team"
    COLLAB = "collab", "Collaboration group"


class Share(TenantModel):
    """One record shared with one grantee (a membership or a group), for one cause.

    Manual shares are configuration; rule/team/collab rows are derived from SharingRule,
    TeamMember and CollaborationMember and carry their id as `cause_id`. `record_id` has no
    foreign key: any registered object's records are shared through this one table."""

    object = models.CharField(max_length=40)
    record_id = models.UUIDField()
    grantee = models.UUIDField()  # Membership.id or Group.id (both UUIDv7, never equal)
    grantee_is_group = models.BooleanField(default=False)
    access = models.PositiveSmallIntegerField(choices=Level.choices, default=Level.READ)
    cause = models.CharField(max_length=10, choices=Cause.choices)
    cause_id = models.UUIDField(null=True, blank=True)
    created_by = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta(TenantModel.Meta):
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(fields=["tenant", "object", "record_id", "grantee", "cause", "cause_id"],
                                    nulls_distinct=False, name="share_uniq"),
        ]
        indexes = [
            # the list path: a user's principals → the records shared with them
            models.Index(fields=["tenant", "object", "grantee", "record_id", "access"], name="share_grantee_idx"),
            models.Index(fields=["tenant", "object", "record_id"], name="share_record_idx"),
            models.Index(fields=["tenant", "cause_id"], name="share_cause_idx"),
        ]


class TeamMember(TenantModel):
    """A member of a record's team (account team now; opportunity team and ticket collaborators
    later through the same table): a team role and an access level on the record and its children."""

    object = models.CharField(max_length=40, default="accounts")
    record_id = models.UUIDField()
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    team_role = models.CharField(max_length=60)
    access = models.PositiveSmallIntegerField(choices=Level.choices, default=Level.READ)

    class Meta(TenantModel.Meta):
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(fields=["tenant", "object", "record_id", "membership"], name="teammember_uniq"),
        ]


track()(TeamMember)


class CollaborationGroup(TenantModel):
    """An ad-hoc group of colleagues around one record, dissolved when the work is done."""

    object = models.CharField(max_length=40)
    record_id = models.UUIDField()
    name = models.CharField(max_length=120)
    purpose = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(Membership, null=True, on_delete=models.SET_NULL, related_name="+")
    dissolved_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        indexes = [models.Index(fields=["tenant", "object", "record_id"], name="collab_record_idx")]


track()(CollaborationGroup)


class CollaborationMember(TenantModel):
    group = models.ForeignKey(CollaborationGroup, on_delete=models.CASCADE, related_name="members")
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    task_role = models.CharField(max_length=120, blank=True)
    access = models.PositiveSmallIntegerField(choices=Level.choices, default=Level.READ)

    class Meta(TenantModel.Meta):
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(fields=["tenant", "group", "membership"], name="collabmember_uniq"),
        ]


track()(CollaborationMember)
