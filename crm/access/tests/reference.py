"""A straightforward reference implementation of the access rules, in plain Python over plain data,
written from the rules (crm/access/engine.py's docstring, ARCHITECTURE.md "Access"), not from the
engine's SQL. The differential test compares the engine with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

NONE, READ, EDIT = 0, 1, 2


@dataclass
class World:
    members: dict = field(default_factory=dict)  # id -> {"role": role id | None, "rights": {obj: set(flags)}, "active"}
    parents: dict = field(default_factory=dict)  # role id -> parent role id | None
    groups: dict = field(default_factory=dict)  # public group id -> [(kind, target id)]
    role_groups: dict = field(default_factory=dict)  # system group id -> (kind "role"|"role_sub", role id)
    defaults: dict = field(default_factory=dict)  # obj -> (access, hierarchy_edit)
    records: dict = field(default_factory=dict)  # (obj, id) -> {"owner", "parent": (obj, id) | None, "record"}
    owner_rules: list = field(default_factory=list)  # (obj, source group, target group, level)
    criteria_rules: list = field(default_factory=list)  # (obj, predicate(record) -> bool, target group, level)
    shares: list = field(default_factory=list)  # (obj, record id, grantee id, level)  manual
    teams: list = field(default_factory=list)  # (obj, record id, member id, level)  team + collaboration

    # --- the role tree and groups -------------------------------------------------------------

    def ancestors(self, role) -> list:
        out, seen = [], set()
        role = self.parents.get(role)
        while role is not None and role not in seen:
            out.append(role)
            seen.add(role)
            role = self.parents.get(role)
        return out

    def in_subtree(self, role, top) -> bool:
        return role is not None and (role == top or top in self.ancestors(role))

    def group_has(self, group, member, seen=()) -> bool:
        if group in self.role_groups:
            kind, role = self.role_groups[group]
            mine = self.members[member]["role"]
            return mine == role if kind == "role" else self.in_subtree(mine, role)
        for kind, target in self.groups.get(group, []):
            mine = self.members[member]["role"]
            if kind == "user" and target == member:
                return True
            if kind == "role" and mine is not None and mine == target:
                return True
            if kind == "role_sub" and self.in_subtree(mine, target):
                return True
            if kind == "group" and target not in seen and self.group_has(target, member, (*seen, group)):
                return True
        return False

    def holds(self, grantee, member) -> bool:
        return grantee == member or (grantee in self.groups or grantee in self.role_groups) and self.group_has(grantee, member)

    # --- access -------------------------------------------------------------------------------

    def level(self, member, obj, record_id) -> int:
        rights = self.members[member]["rights"].get(obj, set())
        if "modify_all" in rights:
            return EDIT
        record = self.records[(obj, record_id)]
        default, hierarchy_edit = self.defaults[obj]
        best = NONE
        if "view_all" in rights:
            best = READ
        if default == "edit":
            return EDIT
        if default == "read":
            best = max(best, READ)
        owner = record["owner"]
        if owner == member:
            return EDIT
        my_role = self.members[member]["role"]
        owner_role = self.members[owner]["role"]
        if my_role is not None and owner_role is not None and my_role in self.ancestors(owner_role):
            best = max(best, EDIT if hierarchy_edit else READ)
        for rule_obj, source, target, level in self.owner_rules:
            if rule_obj == obj and self.group_has(source, owner) and self.group_has(target, member):
                best = max(best, level)
        for rule_obj, predicate, target, level in self.criteria_rules:
            if rule_obj == obj and predicate(record["record"]) and self.group_has(target, member):
                best = max(best, level)
        for share_obj, rid, grantee, level in self.shares:
            if share_obj == obj and rid == record_id and self.holds(grantee, member):
                best = max(best, level)
        for team_obj, rid, who, level in self.teams:
            if team_obj == obj and rid == record_id and who == member:
                best = max(best, level)
        parent = record["parent"]
        if parent is not None:
            parent_obj, parent_id = parent
            if default == "parent":
                best = max(best, self.level(member, parent_obj, parent_id))
            for team_obj, rid, who, level in self.teams:
                if team_obj == parent_obj and rid == parent_id and who == member:
                    best = max(best, level)
        return best

    def allowed(self, member, action, obj, record_id) -> bool:
        if not self.members[member]["active"]:
            return False
        rights = self.members[member]["rights"].get(obj, set())
        flag = {"read": "can_read", "edit": "can_edit", "delete": "can_delete"}[action]
        if flag not in rights:
            return False
        return self.level(member, obj, record_id) >= (READ if action == "read" else EDIT)
