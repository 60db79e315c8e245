"""The engine against a plain-Python reference, on random worlds.

Hypothesis draws a role tree, members (each with a role or none, a profile and maybe a permission
set), public groups (users, roles, roles with subordinates, nested groups), organisation-wide
defaults, accounts and contacts, owner-based and criteria-based sharing rules, manual shares
(to members and groups), account teams and collaboration groups; then random changes (a role
moves, a member changes role, a record changes owner or the field a rule tests, a rule goes).
After building and after every change, for every member, object and action, the engine's list
(`visible`) and its one-record answer (`can`, on every record) equal the reference's
(tests/reference.py).
"""

from __future__ import annotations

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Account
from contacts.models import Contact
from crm.access import defaults, engine, maintenance, services
from crm.access.models import GroupMember, Level, RoleAssignment, SharingRule
from crm.tenancy.context import tenant_context
from crm.tenancy.models import Membership, Role
from crm.tenancy.tests.factories import UserFactory

from .reference import World

pytestmark = pytest.mark.django_db

OBJECTS = ("accounts", "contacts")
ACTIONS = ("read", "edit", "delete")
RIGHTS = {
    "none": set(),
    "read": {"can_read"},
    "read_edit": {"can_read", "can_edit"},
    "all": {"can_create", "can_read", "can_edit", "can_delete"},
    "view_all": {"can_read", "view_all"},
    "modify_all": {"can_read", "can_edit", "can_delete", "view_all", "modify_all"},
}
TYPES = ["prospect", "customer", "partner"]


@st.composite
def worlds(draw):
    n_roles = draw(st.integers(1, 5))
    role_parents = [None] + [draw(st.one_of(st.none(), st.integers(0, i - 1))) for i in range(1, n_roles)]
    n_members = draw(st.integers(2, 5))
    members = [{
        "role": draw(st.one_of(st.none(), st.integers(0, n_roles - 1))),
        "profile": {obj: draw(st.sampled_from(list(RIGHTS))) for obj in OBJECTS},
        "extra": {obj: draw(st.sampled_from(["none", "none", "read", "view_all"])) for obj in OBJECTS},
        "active": draw(st.booleans()) or draw(st.booleans()) or True,
    } for _ in range(n_members)]
    members[-1]["active"] = draw(st.booleans())
    group_ref = st.one_of(
        st.tuples(st.just("role"), st.integers(0, n_roles - 1)),
        st.tuples(st.just("role_sub"), st.integers(0, n_roles - 1)),
    )
    n_groups = draw(st.integers(0, 3))
    groups = []
    for g in range(n_groups):
        choices = [st.tuples(st.just("user"), st.integers(0, n_members - 1)),
                   st.tuples(st.just("role"), st.integers(0, n_roles - 1)),
                   st.tuples(st.just("role_sub"), st.integers(0, n_roles - 1))]
        if g:
            choices.append(st.tuples(st.just("group"), st.integers(0, g - 1)))
        groups.append(draw(st.lists(st.one_of(*choices), max_size=3, unique=True)))
    if n_groups:
        group_ref = st.one_of(group_ref, st.tuples(st.just("public"), st.integers(0, n_groups - 1)))
    n_accounts = draw(st.integers(1, 5))
    accounts = [{"owner": draw(st.integers(0, n_members - 1)), "type": draw(st.sampled_from(TYPES))}
                for _ in range(n_accounts)]
    contacts = [{"owner": draw(st.integers(0, n_members - 1)),
                 "account": draw(st.one_of(st.none(), st.integers(0, n_accounts - 1)))}
                for _ in range(draw(st.integers(0, 4)))]
    return {
        "role_parents": role_parents,
        "members": members,
        "groups": groups,
        "defaults": {
            "accounts": (draw(st.sampled_from(["private", "private", "read", "edit"])), draw(st.booleans())),
            "contacts": (draw(st.sampled_from(["private", "read", "edit", "parent", "parent"])), draw(st.booleans())),
        },
        "accounts": accounts,
        "contacts": contacts,
        "owner_rules": draw(st.lists(st.tuples(st.sampled_from(OBJECTS), group_ref, group_ref,
                                               st.sampled_from([1, 2])), max_size=2)),
        "criteria_rules": draw(st.lists(st.tuples(st.sampled_from(TYPES), group_ref, st.sampled_from([1, 2])),
                                        max_size=2)),
        "shares": draw(st.lists(st.tuples(
            st.sampled_from(OBJECTS), st.integers(0, 9),
            st.one_of(st.tuples(st.just("user"), st.integers(0, n_members - 1)), group_ref),
            st.sampled_from([1, 2])), max_size=3)),
        "teams": draw(st.lists(st.tuples(st.integers(0, n_accounts - 1), st.integers(0, n_members - 1),
                                         st.sampled_from([1, 2])), max_size=2)),
        "collab": draw(st.lists(st.tuples(st.integers(0, n_accounts - 1), st.integers(0, n_members - 1),
                                          st.sampled_from([1, 2])), max_size=2)),
        "changes": draw(st.lists(st.one_of(
            st.tuples(st.just("move_role"), st.integers(0, n_roles - 1), st.one_of(st.none(), st.integers(0, n_roles - 1))),
            st.tuples(st.just("member_role"), st.integers(0, n_members - 1), st.one_of(st.none(), st.integers(0, n_roles - 1))),
            st.tuples(st.just("account_type"), st.integers(0, n_accounts - 1), st.sampled_from(TYPES)),
            st.tuples(st.just("account_owner"), st.integers(0, n_accounts - 1), st.integers(0, n_members - 1)),
            st.tuples(st.just("drop_rule"), st.integers(0, 3), st.none()),
        ), max_size=3)),
    }


class Built:
    """The drawn world in the database (through the services) and in the reference."""

    def __init__(self, company, spec):
        self.company, self.spec, self.admin = company, spec, company.admin
        self.world = World()
        t = company.tenant
        self.roles = []
        for parent in spec["role_parents"]:
            role = services.role_create(actor=self.admin, name=f"R{len(self.roles)}",
                                        parent=self.roles[parent] if parent is not None else None)
            self.roles.append(role)
            self.world.parents[role.pk] = self.roles[parent].pk if parent is not None else None
            for kind in ("role", "role_sub"):
                self.world.role_groups[services.role_group(role, subordinates=kind == "role_sub").pk] = (kind, role.pk)
        self.members = []
        for n, m in enumerate(spec["members"]):
            user = UserFactory(email=f"m{n}-{t.pk.hex[:6]}@acme.example")
            membership = Membership.objects.create(tenant=t, user=user, role=Role.REP, is_active=True)
            profile = services.permission_set_save(
                actor=self.admin, name=f"P{n}", is_profile=True,
                objects={obj: {flag: True for flag in RIGHTS[m["profile"][obj]]} | {
                    flag: False for flag in RIGHTS["modify_all"] | {"can_create", "can_delete"}
                    if flag not in RIGHTS[m["profile"][obj]]} for obj in OBJECTS})
            extra = [services.permission_set_save(
                actor=self.admin, name=f"S{n}",
                objects={obj: {flag: True for flag in RIGHTS[m["extra"][obj]]} for obj in OBJECTS})]
            services.assign(actor=self.admin, membership=membership, profile=profile, permission_sets=extra,
                            role=self.roles[m["role"]] if m["role"] is not None else None)
            if not m["active"]:
                Membership.objects.filter(pk=membership.pk).update(is_active=False)
                membership.is_active = False
            self.members.append(membership)
            self.world.members[membership.pk] = {
                "role": self.roles[m["role"]].pk if m["role"] is not None else None,
                "rights": {obj: RIGHTS[m["profile"][obj]] | RIGHTS[m["extra"][obj]] for obj in OBJECTS},
                "active": m["active"],
            }
        self.groups = []
        for n, members in enumerate(spec["groups"]):
            targets = []
            for kind, index in members:
                target = {"user": self.members, "role": self.roles, "role_sub": self.roles,
                          "group": self.groups}[kind][index]
                targets.append((kind, target))
            group = services.group_save(actor=self.admin, name=f"G{n}", members=targets)
            self.groups.append(group)
            self.world.groups[group.pk] = [(kind, target.pk) for kind, target in targets]
        for obj, (access, hierarchy_edit) in spec["defaults"].items():
            services.org_default_set(actor=self.admin, object=obj, access=access, hierarchy_edit=hierarchy_edit)
            self.world.defaults[obj] = (access, hierarchy_edit)
        self.accounts = []
        for n, a in enumerate(spec["accounts"]):
            account = Account.objects.create(tenant=t, name=f"A{n}", owner=self.members[a["owner"]], type=a["type"])
            self.accounts.append(account)
            self.world.records[("accounts", account.pk)] = {"owner": account.owner_id, "parent": None, "record": account}
        self.contacts = []
        for n, c in enumerate(spec["contacts"]):
            account = self.accounts[c["account"]] if c["account"] is not None else None
            contact = Contact.objects.create(tenant=t, last_name=f"C{n}", owner=self.members[c["owner"]], account=account)
            self.contacts.append(contact)
            self.world.records[("contacts", contact.pk)] = {
                "owner": contact.owner_id, "parent": ("accounts", account.pk) if account else None, "record": contact}
        self.rules = []
        for obj, source, target, level in spec["owner_rules"]:
            rule = services.rule_save(actor=self.admin, object=obj, name=f"O{len(self.rules)}", kind="owner",
                                      source_group=self.group(source), target_group=self.group(target), access=level)
            self.rules.append(rule)
        for type_, target, level in spec["criteria_rules"]:
            rule = services.rule_save(actor=self.admin, object="accounts", name=f"C{len(self.rules)}", kind="criteria",
                                      criteria=[{"field": "type", "op": "eq", "value": type_}],
                                      target_group=self.group(target), access=level)
            self.rules.append(rule)
        self._rules_to_world()
        for obj, index, grantee, level in spec["shares"]:
            records = self.accounts if obj == "accounts" else self.contacts
            if not records:
                continue
            record = records[index % len(records)]
            who = self.members[grantee[1]] if grantee[0] == "user" else self.group(grantee)
            services.share_create(actor=self.admin, record=record, grantee=who, access=level)
            # sharing a record again with the same person or group changes the level (one manual
            # share per record and grantee): the reference keeps the last one too
            self.world.shares = [s for s in self.world.shares if s[:3] != (obj, record.pk, who.pk)]
            self.world.shares.append((obj, record.pk, who.pk, level))
        for index, member, level in spec["teams"]:
            if not self.members[member].is_active:
                continue  # refused: tested on its own
            services.team_member_set(actor=self.admin, record=self.accounts[index], membership=self.members[member],
                                     team_role="Technical lead", access=level)
            self.world.teams = [x for x in self.world.teams if not (
                x[1] == self.accounts[index].pk and x[2] == self.members[member].pk and x[4] == "team")]
            self.world.teams.append(("accounts", self.accounts[index].pk, self.members[member].pk, level, "team"))
        for index, member, level in spec["collab"]:
            if not self.members[member].is_active:
                continue
            services.collaboration_create(actor=self.admin, record=self.accounts[index], name="Bid team",
                                          members=[(self.members[member], "writes the proposal", level)])
            self.world.teams.append(("accounts", self.accounts[index].pk, self.members[member].pk, level, "collab"))

    def group(self, ref):
        kind, index = ref
        if kind == "public":
            return self.groups[index]
        return services.role_group(self.roles[index], subordinates=kind == "role_sub")

    def _rules_to_world(self):
        self.world.owner_rules = [(r.object, r.source_group_id, r.target_group_id, r.access)
                                  for r in self.rules if r.kind == "owner"]
        self.world.criteria_rules = [
            (r.object, (lambda wanted: lambda record: record.type == wanted)(r.criteria[0]["value"]),
             r.target_group_id, r.access) for r in self.rules if r.kind == "criteria"]

    def change(self, change):
        kind, a, b = change
        if kind == "move_role":
            role, parent = self.roles[a], self.roles[b] if b is not None else None
            if parent is not None and (parent.pk == role.pk or maintenance.would_cycle(role, parent.pk)):
                return
            services.role_update(actor=self.admin, role=role, parent=parent)
            self.world.parents[role.pk] = parent.pk if parent else None
        elif kind == "member_role":
            role = self.roles[b] if b is not None else None
            services.assign(actor=self.admin, membership=self.members[a], role=role)
            self.world.members[self.members[a].pk]["role"] = role.pk if role else None
        elif kind == "account_type":
            account = self.accounts[a]
            account.type = b
            account.save()  # the table's trigger re-evaluates the criteria rules (no call here)
        elif kind == "account_owner":
            account = self.accounts[a]
            account.owner = self.members[b]
            account.save()
            self.world.records[("accounts", account.pk)]["owner"] = account.owner_id
        elif kind == "drop_rule":
            if self.rules:
                rule = self.rules.pop(a % len(self.rules))
                services.rule_delete(actor=self.admin, rule=rule)
                self._rules_to_world()

    def check(self):
        world = self.world
        world_teams = [(o, r, m, lvl) for o, r, m, lvl, _ in world.teams]
        saved, world.teams = world.teams, world_teams
        try:
            for member in self.members:
                fresh = Membership.objects.get(pk=member.pk)  # a new request: no cached context
                wide = Membership.objects.get(pk=member.pk)
                wide._access_context = engine.context(wide)
                wide._access_context._narrow = {(o, lvl): False for o in OBJECTS for lvl in (1, 2)}
                for obj, model, records in (("accounts", Account, self.accounts), ("contacts", Contact, self.contacts)):
                    for action in ACTIONS:
                        want = {r.pk for r in records if world.allowed(member.pk, action, obj, r.pk)}
                        # both list shapes: visible ids first (few) and the filtered index walk (many)
                        for who in (fresh, wide):
                            got = set(engine.visible(model.objects.all(), who, action).values_list("id", flat=True))
                            assert got == want, (obj, action, who is wide, self.spec)
                        for record in records:
                            assert engine.can(fresh, action, record) == (record.pk in want), (obj, action, record, self.spec)
        finally:
            world.teams = saved


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(spec=worlds())
def test_the_engine_agrees_with_the_reference(acme, spec):
    with tenant_context(acme.tenant):
        defaults.setup_tenant(acme.tenant.pk)
        with transaction.atomic():
            built = Built(acme, spec)
            built.check()
            for change in spec["changes"]:
                built.change(change)
                built.check()
            transaction.set_rollback(True)


def test_a_criteria_rule_shares_what_matches_and_follows_changes(acme):
    with tenant_context(acme.tenant):
        defaults.setup_tenant(acme.tenant.pk)
        customer = Account.objects.create(tenant=acme.tenant, name="Customer", owner=acme.rep2, type="customer")
        prospect = Account.objects.create(tenant=acme.tenant, name="Prospect", owner=acme.rep2, type="prospect")
        rep_role = RoleAssignment.objects.get(membership=acme.rep).role
        services.rule_save(actor=acme.admin, object="accounts", name="Customers to all reps", kind="criteria",
                           criteria=[{"field": "type", "op": "eq", "value": "customer"}],
                           target_group=services.role_group(rep_role, subordinates=False), access=Level.READ)
        rep = Membership.objects.get(pk=acme.rep.pk)
        assert set(engine.visible(Account.objects.all(), rep).values_list("name", flat=True)) == {"Customer"}
        assert not engine.can(rep, "edit", customer)
        prospect.type = "customer"
        prospect.save()  # no call: the table's trigger keeps the rule's share rows current
        rep = Membership.objects.get(pk=acme.rep.pk)
        assert set(engine.visible(Account.objects.all(), rep).values_list("name", flat=True)) == {"Customer", "Prospect"}
        assert SharingRule.objects.get().status == "active"
        assert GroupMember.objects.count() == 0
