"""Settings → Access (task A): profiles, permission sets, a member's access, public groups and
sharing rules.

Profiles, permission sets and a member's access need `manage_users`; public groups and sharing
rules `manage_sharing`; everybody else gets 404 (`_requires`). Every change is one call of a
crm.access.services function inside a savepoint, so a refused change saves nothing (the service
writes the security log).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from crm.tenancy.models import Membership
from crm.web.forms import apply_service_errors

from . import criteria as criteria_rules
from . import engine, maintenance, registry, services
from . import fields as fls
from .models import (
    FieldAccess,
    FieldPermission,
    Group,
    GroupMember,
    GroupUser,
    Level,
    MemberPermissionSet,
    ObjectPermission,
    PermissionSet,
    RoleAssignment,
    SharingRule,
    UserRole,
)
from .views import _delete, _requires, _tabs

FLAG_LABELS = (("can_create", "Create"), ("can_read", "Read"), ("can_edit", "Edit"), ("can_delete", "Delete"),
               ("view_all", "View all"), ("modify_all", "Modify all"))
APP_HELP = {
    "can_import": ("Import", "Import accounts, contacts and activities from CSV or Excel files."),
    "can_export": ("Export", "Download lists as CSV or Excel files."),
    "manage_users": ("Manage users", "Change profiles, permission sets and who holds which."),
    "manage_sharing": ("Manage sharing", "Change roles, organisation-wide defaults, public groups and sharing rules."),
    "customize": ("Customize", "Add and change custom fields, layouts and picklists."),
    "transfer_records": ("Transfer records", "Hand a leaving colleague's records over to others."),
    "view_security_log": ("View security log", "Read the security log: sign-ins and access changes."),
}
PROFILE_FIELD_CHOICES = ((FieldAccess.EDIT, "Editable"), (FieldAccess.READ_ONLY, "Read only"),
                         (FieldAccess.HIDDEN, "Hidden"))
SET_FIELD_CHOICES = (("", "—"), (FieldAccess.READ_ONLY, "Read only"), (FieldAccess.EDIT, "Editable"))


def _member_label(m: Membership) -> str:
    name = m.user.full_name or m.user.email
    label = f"{name} ({m.user.email})" if m.user.full_name else name
    return label if m.is_active else f"{label} (inactive)"


def _members(tenant_id):
    return Membership.objects.filter(tenant_id=tenant_id).select_related("user").order_by("user__email")


def _roles(tenant_id):
    return UserRole.objects.filter(tenant_id=tenant_id).order_by("name")


def _posted(request):
    """The form data of a POST (even an empty one: a form posted with nothing is judged, not shown blank)."""
    return request.POST if request.method == "POST" else None


def _save(form, call) -> bool:
    """Run one service call in a savepoint; its ValidationError lands on the form, nothing saved."""
    try:
        with transaction.atomic():
            call()
    except ValidationError as exc:
        apply_service_errors(form, exc)
        return False
    except PermissionDenied:
        raise Http404 from None
    return True


# --- profiles and permission sets ---------------------------------------------------------------

KINDS = {
    True: {"key": "profiles", "title": "Profiles", "one": "profile", "list": "access_profiles",
           "new": "access_profile_create", "edit": "access_profile_edit", "delete": "access_profile_delete",
           "subtitle": "What people may do: object rights, field-level security and app permissions. "
                       "Every member holds exactly one profile."},
    False: {"key": "permission_sets", "title": "Permission sets", "one": "permission set",
            "list": "access_permission_sets", "new": "access_permission_set_create",
            "edit": "access_permission_set_edit", "delete": "access_permission_set_delete",
            "subtitle": "Extra rights for some people on top of their profile. A set only adds: "
                        "it never takes a right away."},
}


def _permission_sets(tenant_id, is_profile: bool):
    return PermissionSet.objects.filter(tenant_id=tenant_id, is_profile=is_profile).order_by("name")


def _permission_set_or_404(request, pk, is_profile: bool) -> PermissionSet:
    found = _permission_sets(request.membership.tenant_id, is_profile).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def _holders(tenant_id, is_profile: bool) -> dict:
    if is_profile:
        rows = RoleAssignment.objects.filter(tenant_id=tenant_id).values("profile_id").annotate(n=Count("id"))
        return {r["profile_id"]: r["n"] for r in rows}
    rows = MemberPermissionSet.objects.filter(tenant_id=tenant_id).values("permission_set_id").annotate(n=Count("id"))
    return {r["permission_set_id"]: r["n"] for r in rows}


MEMBERS_SHOWN = 50


def _permission_set_list(request, is_profile: bool):
    tid = request.membership.tenant_id
    kind = KINDS[is_profile]
    holders = _holders(tid, is_profile)
    rows = [{"set": s, "holders": holders.get(s.pk, 0)} for s in _permission_sets(tid, is_profile)]
    context = {"tabs": _tabs(kind["key"], request.membership), "kind": kind, "rows": rows,
               "is_profile": is_profile}
    if is_profile:
        # the members, to open one's access page (a filter by name or email: tenants have hundreds)
        q = (request.GET.get("q") or "").strip()
        members = _members(tid).filter(is_active=True)
        if q:
            members = members.filter(models.Q(user__email__icontains=q) | models.Q(user__full_name__icontains=q))
        total = members.count()
        shown = list(members[:MEMBERS_SHOWN])
        assignments = {a.membership_id: a for a in RoleAssignment.objects.filter(
            tenant_id=tid, membership_id__in=[m.pk for m in shown]).select_related("profile", "role")}
        context.update(q=q, total=total, members=[(m, assignments.get(m.pk)) for m in shown],
                       more=total > len(shown))
    return render(request, "access/permission_sets.html", context)


@_requires("manage_users")
def profiles(request):
    return _permission_set_list(request, True)


@_requires("manage_users")
def permission_sets(request):
    return _permission_set_list(request, False)


class PermissionSetForm(forms.Form):
    name = forms.CharField(max_length=80)
    description = forms.CharField(max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 2}))


class _Grids:
    """The three grids of a profile / permission set page, read from the database or a POST."""

    def __init__(self, tenant_id, permission_set: PermissionSet | None, is_profile: bool):
        self.is_profile = is_profile
        self.errors: dict = {}
        objects = {}
        field_values = {}
        if permission_set is not None:
            objects = {r.object: r for r in ObjectPermission.objects.filter(tenant_id=tenant_id,
                                                                          permission_set=permission_set)}
            field_values = {(f.object, f.field): f.access for f in FieldPermission.objects.filter(
                tenant_id=tenant_id, permission_set=permission_set)}
        default_field = FieldAccess.EDIT if is_profile else ""
        self.choices = PROFILE_FIELD_CHOICES if is_profile else SET_FIELD_CHOICES
        self.objects = []
        self.fields = []
        for entry in registry.objects():
            row = objects.get(entry.key)
            self.objects.append({"entry": entry, "cells": [
                {"flag": flag, "label": label, "name": f"obj-{entry.key}-{flag}",
                 "checked": bool(row and getattr(row, flag))} for flag, label in FLAG_LABELS]})
            self.fields.append({"entry": entry, "rows": [
                {"field": name, "label": text, "name": f"fls-{entry.key}-{name}",
                 "initial": field_values.get((entry.key, name), default_field), "error": None}
                for name, text in fls.securable(entry.key, tenant_id)]})
            for r in self.fields[-1]["rows"]:
                r["value"] = r["initial"]
        self.app = [{"name": name, "label": APP_HELP[name][0], "help": APP_HELP[name][1],
                     "checked": bool(permission_set and getattr(permission_set, name)), "error": None}
                    for name in PermissionSet.APP_PERMISSIONS]

    def read(self, post) -> None:
        allowed = {value for value, _ in self.choices}
        for obj in self.objects:
            for cell in obj["cells"]:
                cell["checked"] = post.get(cell["name"]) == "on"
        for block in self.fields:
            for r in block["rows"]:
                r["value"] = post.get(r["name"], r["initial"])
                if r["value"] not in allowed:
                    r["error"] = "Choose one of: " + ", ".join(label for _, label in self.choices) + "."
                    self.errors[r["name"]] = r["error"]
        for a in self.app:
            a["checked"] = post.get(f"app-{a['name']}") == "on"

    def service_kwargs(self) -> dict:
        objects = {obj["entry"].key: {c["flag"]: c["checked"] for c in obj["cells"]} for obj in self.objects}
        changed = {}
        for block in self.fields:
            for r in block["rows"]:
                if r["value"] == r["initial"]:
                    continue
                # a profile's "editable" and a set's "—" are the absence of an entry
                absent = FieldAccess.EDIT if self.is_profile else ""
                changed[(block["entry"].key, r["field"])] = None if r["value"] == absent else r["value"]
        return {"objects": objects, "fields": changed, "app": {a["name"]: a["checked"] for a in self.app}}

    def apply_errors(self, form, exc: ValidationError) -> None:
        """Service errors: app permission names onto the app checkboxes, field names onto the grid,
        the rest onto the form."""
        if not hasattr(exc, "error_dict"):
            form.add_error(None, exc)
            return
        by_field = {r["field"]: r for block in self.fields for r in block["rows"]}
        by_app = {a["name"]: a for a in self.app}
        for name, errors in exc.error_dict.items():
            messages_ = [m for e in errors for m in e.messages]
            if name in by_app:
                by_app[name]["error"] = " ".join(messages_)
            elif name in form.fields:
                form.add_error(name, messages_)
            elif name in by_field:
                by_field[name]["error"] = " ".join(messages_)
            else:
                form.add_error(None, messages_)


def _permission_set_form(request, is_profile: bool, permission_set: PermissionSet | None):
    tid = request.membership.tenant_id
    kind = KINDS[is_profile]
    initial = {"name": permission_set.name, "description": permission_set.description} if permission_set else None
    form = PermissionSetForm(_posted(request), initial=initial)
    grids = _Grids(tid, permission_set, is_profile)
    status = 200
    if request.method == "POST":
        grids.read(request.POST)
        if form.is_valid() and not grids.errors:
            try:
                with transaction.atomic():  # one call; a refusal leaves nothing half-saved
                    saved = services.permission_set_save(
                        actor=request.membership, permission_set=permission_set, name=form.cleaned_data["name"],
                        description=form.cleaned_data["description"], is_profile=is_profile,
                        **grids.service_kwargs())
            except ValidationError as exc:
                grids.apply_errors(form, exc)
            except PermissionDenied:
                raise Http404 from None
            else:
                messages.success(request, f"{kind['one'].capitalize()} “{saved.name}” saved.")
                return redirect(kind["list"])
        status = 400
        if permission_set is not None:
            permission_set.refresh_from_db()
    return render(request, "access/permission_set_form.html", {
        "tabs": _tabs(kind["key"], request.membership), "kind": kind, "form": form, "grids": grids,
        "permission_set": permission_set, "is_profile": is_profile,
        "has_errors": status == 400,
        "holders": _holders(tid, is_profile).get(permission_set.pk, 0) if permission_set else 0,
    }, status=status)


@_requires("manage_users")
@require_http_methods(["GET", "POST"])
def profile_create(request):
    return _permission_set_form(request, True, None)


@_requires("manage_users")
@require_http_methods(["GET", "POST"])
def profile_edit(request, pk):
    return _permission_set_form(request, True, _permission_set_or_404(request, pk, True))


@_requires("manage_users")
@require_http_methods(["GET", "POST"])
def permission_set_create(request):
    return _permission_set_form(request, False, None)


@_requires("manage_users")
@require_http_methods(["GET", "POST"])
def permission_set_edit(request, pk):
    return _permission_set_form(request, False, _permission_set_or_404(request, pk, False))


def _permission_set_delete(request, pk, is_profile: bool):
    found = _permission_set_or_404(request, pk, is_profile)
    kind = KINDS[is_profile]
    return _delete(request, f"{kind['one'].capitalize()} “{found.name}”",
                   lambda: services.permission_set_delete(actor=request.membership, permission_set=found), kind["list"])


@_requires("manage_users")
@require_POST
def profile_delete(request, pk):
    return _permission_set_delete(request, pk, True)


@_requires("manage_users")
@require_POST
def permission_set_delete(request, pk):
    return _permission_set_delete(request, pk, False)


# --- a member's access ---------------------------------------------------------------------------


class MemberAccessForm(forms.Form):
    profile = forms.ModelChoiceField(queryset=PermissionSet.objects.none(), empty_label=None)
    permission_sets = forms.ModelMultipleChoiceField(queryset=PermissionSet.objects.none(), required=False,
                                                     widget=forms.CheckboxSelectMultiple,
                                                     help_text="Each set adds its rights to the profile's.")
    role = forms.ModelChoiceField(queryset=UserRole.objects.none(), required=False, empty_label="— no role —",
                                  help_text="They see what the people in the roles below theirs own.")

    def __init__(self, *args, tenant_id, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["profile"].queryset = _permission_sets(tenant_id, True)
        self.fields["permission_sets"].queryset = _permission_sets(tenant_id, False)
        self.fields["role"].queryset = _roles(tenant_id)


def _effective(member: Membership) -> dict:
    """What the member may do now, in words: objects, restricted fields, app permissions."""
    engine.forget(member)
    ctx = engine.context(member)
    objects, restricted = [], []
    for entry in registry.objects():
        rights = ctx.rights(entry.key)
        can = [label for flag, label in FLAG_LABELS if getattr(rights, flag)]
        objects.append({"entry": entry, "rights": can})
        labels = dict(fls.securable(entry.key, member.tenant_id))
        hidden = sorted(labels.get(n, n.replace("_", " ").capitalize()) for n in fls.hidden(member, entry.key))
        read_only = sorted(labels.get(n, n.replace("_", " ").capitalize()) for n in fls.read_only(member, entry.key))
        if hidden or read_only:
            restricted.append({"entry": entry, "hidden": hidden, "read_only": read_only})
    app = [APP_HELP[name][0] for name in PermissionSet.APP_PERMISSIONS if name in ctx.app]
    return {"objects": objects, "restricted": restricted, "app": app}


@_requires("manage_users")
@require_http_methods(["GET", "POST"])
def member_access(request, pk):
    tid = request.membership.tenant_id
    member = _members(tid).filter(pk=pk).first()
    if member is None:
        raise Http404
    assignment = RoleAssignment.objects.filter(tenant_id=tid, membership=member).first()
    initial = {
        "profile": assignment.profile_id if assignment else None,
        "role": assignment.role_id if assignment else None,
        "permission_sets": list(MemberPermissionSet.objects.filter(tenant_id=tid, membership=member)
                                .values_list("permission_set_id", flat=True)),
    }
    form = MemberAccessForm(_posted(request), tenant_id=tid, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            if _save(form, lambda: services.assign(actor=request.membership, membership=member, role=data["role"],
                                                   profile=data["profile"],
                                                   permission_sets=list(data["permission_sets"]))):
                messages.success(request, f"Access of {member.user.full_name or member.user.email} saved.")
                return redirect("access_member", pk=member.pk)
        status = 400
    return render(request, "access/member_access.html", {
        "tabs": _tabs("profiles", request.membership), "member": member, "form": form,
        "effective": _effective(member), "assignment": assignment,
    }, status=status)


# --- public groups --------------------------------------------------------------------------------


def _group_label(group: Group) -> str:
    if group.kind == Group.Kind.ROLE:
        return f"Role: {group.name}"
    if group.kind == Group.Kind.ROLE_SUB:
        return f"Role and subordinates: {group.name}"
    return group.name


def _public_groups(tenant_id):
    return Group.objects.filter(tenant_id=tenant_id, kind=Group.Kind.PUBLIC).order_by("name")


def _all_groups(tenant_id) -> list[Group]:
    """Public groups first, then every role's two groups, each labelled."""
    order = {Group.Kind.PUBLIC: 0, Group.Kind.ROLE: 1, Group.Kind.ROLE_SUB: 2}
    return sorted(Group.objects.filter(tenant_id=tenant_id), key=lambda g: (order[g.kind], g.name.casefold()))


def _rule_counts(tenant_id) -> dict:
    counts: dict = {}
    for source, target in SharingRule.objects.filter(tenant_id=tenant_id).values_list("source_group_id",
                                                                                       "target_group_id"):
        for gid in {source, target} - {None}:
            counts[gid] = counts.get(gid, 0) + 1
    return counts


def _flattened(tenant_id) -> dict:
    rows = GroupUser.objects.filter(tenant_id=tenant_id).values("group_id").annotate(n=Count("id"))
    return {r["group_id"]: r["n"] for r in rows}


@_requires("manage_sharing")
def groups(request):
    tid = request.membership.tenant_id
    flat, used = _flattened(tid), _rule_counts(tid)
    configured = {r["group_id"]: r["n"] for r in GroupMember.objects.filter(tenant_id=tid).values("group_id")
                  .annotate(n=Count("id"))}
    rows = [{"group": g, "configured": configured.get(g.pk, 0), "people": flat.get(g.pk, 0), "rules": used.get(g.pk, 0)}
            for g in _public_groups(tid)]
    return render(request, "access/groups.html", {"tabs": _tabs("groups", request.membership), "rows": rows})


class GroupForm(forms.Form):
    name = forms.CharField(max_length=80)
    users = forms.ModelMultipleChoiceField(queryset=Membership.objects.none(), required=False,
                                           widget=forms.CheckboxSelectMultiple, label="People")
    roles = forms.ModelMultipleChoiceField(queryset=UserRole.objects.none(), required=False,
                                           widget=forms.CheckboxSelectMultiple, label="Roles",
                                           help_text="Everyone who holds the role.")
    roles_sub = forms.ModelMultipleChoiceField(queryset=UserRole.objects.none(), required=False,
                                               widget=forms.CheckboxSelectMultiple, label="Roles and subordinates",
                                               help_text="Everyone in the role and in the roles below it.")
    groups = forms.ModelMultipleChoiceField(queryset=Group.objects.none(), required=False,
                                            widget=forms.CheckboxSelectMultiple, label="Other groups",
                                            help_text="Everyone in those groups.")

    def __init__(self, *args, tenant_id, group=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["users"].queryset = _members(tenant_id).filter(is_active=True)
        self.fields["users"].label_from_instance = _member_label
        self.fields["roles"].queryset = _roles(tenant_id)
        self.fields["roles_sub"].queryset = _roles(tenant_id)
        others = _public_groups(tenant_id)
        if group is not None:
            others = others.exclude(pk=group.pk)
        self.fields["groups"].queryset = others

    def members(self) -> list:
        data = self.cleaned_data
        return ([(GroupMember.Kind.USER, m) for m in data["users"]]
                + [(GroupMember.Kind.ROLE, r) for r in data["roles"]]
                + [(GroupMember.Kind.ROLE_SUB, r) for r in data["roles_sub"]]
                + [(GroupMember.Kind.GROUP, g) for g in data["groups"]])


def _group_or_404(request, pk) -> Group:
    group = _public_groups(request.membership.tenant_id).filter(pk=pk).first()
    if group is None:
        raise Http404
    return group


@_requires("manage_sharing")
@require_http_methods(["GET", "POST"])
def group_edit(request, pk=None):
    tid = request.membership.tenant_id
    group = _group_or_404(request, pk) if pk else None
    initial = None
    if group is not None:
        rows = GroupMember.objects.filter(tenant_id=tid, group=group)
        initial = {"name": group.name,
                   "users": [r.membership_id for r in rows if r.kind == GroupMember.Kind.USER],
                   "roles": [r.role_id for r in rows if r.kind == GroupMember.Kind.ROLE],
                   "roles_sub": [r.role_id for r in rows if r.kind == GroupMember.Kind.ROLE_SUB],
                   "groups": [r.member_group_id for r in rows if r.kind == GroupMember.Kind.GROUP]}
    form = GroupForm(_posted(request), tenant_id=tid, group=group, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            saved = []
            if _save(form, lambda: saved.append(services.group_save(
                    actor=request.membership, group=group, name=form.cleaned_data["name"], members=form.members()))):
                messages.success(request, f"Group “{saved[0].name}” saved.")
                return redirect("access_groups")
        status = 400
        if group is not None:
            group.refresh_from_db()
    people = _flattened(tid).get(group.pk, 0) if group else 0
    return render(request, "access/group_form.html", {
        "tabs": _tabs("groups", request.membership), "form": form, "group": group, "people": people,
        "rules": _rule_counts(tid).get(group.pk, 0) if group else 0,
    }, status=status)


@_requires("manage_sharing")
@require_POST
def group_delete(request, pk):
    group = _group_or_404(request, pk)
    return _delete(request, f"Group “{group.name}”", lambda: services.group_delete(actor=request.membership, group=group),
                   "access_groups")


# --- sharing rules --------------------------------------------------------------------------------


def _field_label(f: models.Field) -> str:
    text = str(f.verbose_name)
    return text[:1].upper() + text[1:]


class _People:
    """Members by email and by id, for conditions on a person (an owner): the page shows and takes
    an email where the rule stores the membership's id. Loaded on first use."""

    def __init__(self, tenant_id):
        self.tenant_id = tenant_id
        self._by_id = None

    def _load(self):
        if self._by_id is None:
            self._by_id = {str(m.pk): m.user.email for m in _members(self.tenant_id)}
        return self._by_id

    def email(self, pk) -> str | None:
        return self._load().get(str(pk))

    def pk(self, email: str) -> str | None:
        wanted = email.strip().casefold()
        return next((pk for pk, known in self._load().items() if known.casefold() == wanted), None)


def _is_person(f: models.Field) -> bool:
    return isinstance(f, models.ForeignKey) and f.related_model is Membership


def _value_words(f: models.Field, value, people: _People | None = None) -> str:
    if isinstance(value, list):
        return " or ".join(_value_words(f, v, people) for v in value)
    if people is not None and _is_person(f):
        return people.email(value) or str(value)
    if f.choices and not isinstance(f, models.ForeignKey):
        return str(dict((str(k), v) for k, v in f.flatchoices).get(str(value), value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def describe(rule: SharingRule, labels: dict, people: _People | None = None) -> str:
    """Whose records a rule shares, in words."""
    if rule.kind == SharingRule.Kind.OWNER:
        return f"Owned by {labels.get(rule.source_group_id, 'a deleted group')}"
    entry = registry.get(rule.object)
    fields_ = criteria_rules.fields_of(entry)
    parts = []
    for c in rule.criteria:
        f = fields_.get(c["field"])
        if f is None:
            parts.append(f"{c['field']} {criteria_rules.OPS.get(c['op'], c['op'])}")
            continue
        words = f"{_field_label(f)} {criteria_rules.OPS[c['op']]}"
        if c["op"] not in ("empty", "not_empty"):
            words += f" {_value_words(f, c['value'], people)}"
        parts.append(words)
    return " and ".join(parts)


def _rule_sections(tenant_id):
    labels = {g.pk: _group_label(g) for g in Group.objects.filter(tenant_id=tenant_id)}
    rules = list(SharingRule.objects.filter(tenant_id=tenant_id).order_by("object", "name"))
    people = _People(tenant_id)
    sections = []
    for entry in registry.objects():
        rows = [{"rule": r, "whose": describe(r, labels, people), "target": labels.get(r.target_group_id, "—")}
                for r in rules if r.object == entry.key]
        sections.append({"entry": entry, "rows": rows})
    calculating = [r for r in rules if r.status == SharingRule.Status.CALCULATING]
    if calculating:  # a running job's progress is in the cache until its one commit
        from crm.tenancy.cache import tenant_cache

        for r in calculating:
            r.progress = tenant_cache.get(maintenance.rule_progress_key(r.pk), r.progress)
    return sections, bool(calculating), len(rules)


@_requires("manage_sharing")
def rules(request):
    sections, calculating, count = _rule_sections(request.membership.tenant_id)
    context = {"tabs": _tabs("rules", request.membership), "sections": sections, "calculating": calculating,
               "count": count, "objects": registry.objects()}
    if request.headers.get("HX-Request"):
        return render(request, "access/partials/rules_list.html", context)
    return render(request, "access/rules.html", context)


class RuleForm(forms.Form):
    name = forms.CharField(max_length=120)
    kind = forms.ChoiceField(choices=SharingRule.Kind.choices, widget=forms.RadioSelect, label="Share records",
                             initial=SharingRule.Kind.CRITERIA)
    source_group = forms.ModelChoiceField(queryset=Group.objects.none(), required=False, label="Owned by",
                                          empty_label="— choose whose records —",
                                          help_text="For a rule based on the owner: records owned by anyone in "
                                                    "this group or role.")
    target_group = forms.ModelChoiceField(queryset=Group.objects.none(), label="Share with",
                                          empty_label="— choose a group or role —")
    access = forms.TypedChoiceField(choices=Level.choices, coerce=int, initial=Level.READ, label="Access")

    def __init__(self, *args, tenant_id, **kwargs):
        super().__init__(*args, **kwargs)
        ordered = _all_groups(tenant_id)
        for name in ("source_group", "target_group"):
            field = self.fields[name]
            field.queryset = Group.objects.filter(tenant_id=tenant_id)
            field.label_from_instance = _group_label
            field.choices = [("", field.empty_label), *[(g.pk, _group_label(g)) for g in ordered]]


def _criteria_rows(post, count_key="criteria-count") -> list[dict]:
    try:
        count = min(int(post.get(count_key, 0)), 20)
    except ValueError:
        count = 0
    rows = []
    for i in range(count):
        rows.append({"field": post.get(f"c-{i}-field", ""), "op": post.get(f"c-{i}-op", "eq"),
                     "value": post.get(f"c-{i}-value", "")})
    return rows


def _choice_key(f: models.Field, text: str, people: _People) -> str:
    """A picklist value typed as its label ("Manufacturing") means its stored key; a person typed
    as their email means their membership."""
    if _is_person(f) and "@" in text:
        return people.pk(text) or text.strip()
    if f.choices and not isinstance(f, models.ForeignKey):
        for key, label in f.flatchoices:
            if text.strip().casefold() in (str(key).casefold(), str(label).casefold()):
                return str(key)
    return text.strip()


def _criteria_for_service(entry, rows: list[dict], people: _People) -> list[dict]:
    fields_ = criteria_rules.fields_of(entry)
    out = []
    for r in rows:
        if not r["field"]:
            continue
        f = fields_.get(r["field"])
        value = r["value"]
        if f is not None:
            if r["op"] == "in":
                value = [_choice_key(f, v, people) for v in value.split(",") if v.strip()]
            else:
                value = _choice_key(f, value, people)
        out.append({"field": r["field"], "op": r["op"], "value": value})
    return out


def _rows_from_rule(rule: SharingRule, people: _People) -> list[dict]:
    entry = registry.get(rule.object)
    fields_ = criteria_rules.fields_of(entry)
    rows = []
    for c in rule.criteria:
        f = fields_.get(c["field"])
        value = c["value"]
        if value is None:
            value = ""
        elif f is not None:
            # shown the way the page takes it back: labels, emails, comma-separated lists
            value = ", ".join(_value_words(f, v, people) for v in value) if isinstance(value, list) else \
                _value_words(f, value, people)
        rows.append({"field": c["field"], "op": c["op"], "value": value})
    return rows


def _rule_or_404(request, pk) -> SharingRule:
    rule = SharingRule.objects.filter(tenant_id=request.membership.tenant_id, pk=pk).first()
    if rule is None:
        raise Http404
    return rule


def _object_or_default(key) -> registry.Secured:
    try:
        return registry.get(key)
    except KeyError:
        return registry.objects()[0]


@_requires("manage_sharing")
@require_http_methods(["GET", "POST"])
def rule_edit(request, pk=None):
    tid = request.membership.tenant_id
    rule = _rule_or_404(request, pk) if pk else None
    if rule is not None:
        entry = registry.get(rule.object)
    else:
        entry = _object_or_default(request.POST.get("object") or request.GET.get("object") or "accounts")
    initial = None
    people = _People(tid)
    rows = [{"field": "", "op": "eq", "value": ""}]
    if rule is not None:
        initial = {"name": rule.name, "kind": rule.kind, "source_group": rule.source_group_id,
                   "target_group": rule.target_group_id, "access": rule.access}
        rows = _rows_from_rule(rule, people) or rows
    form = RuleForm(_posted(request), tenant_id=tid, initial=initial)
    criteria_errors: list = []
    status = 200
    if request.method == "POST":
        rows = _criteria_rows(request.POST)
        if "add_condition" in request.POST or "remove_condition" in request.POST:
            # change the rows of the form only: nothing is saved
            if "remove_condition" in request.POST:
                try:
                    del rows[int(request.POST["remove_condition"])]
                except (ValueError, IndexError):
                    pass
            else:
                rows.append({"field": "", "op": "eq", "value": ""})
            form = RuleForm(tenant_id=tid, initial={name: request.POST.get(name) for name in
                                                    ("name", "kind", "source_group", "target_group", "access")})
            rows = rows or [{"field": "", "op": "eq", "value": ""}]
            return _rule_page(request, form, rule, entry, rows, [], 200)
        if form.is_valid():
            data = form.cleaned_data
            saved = []

            def call():
                saved.append(services.rule_save(
                    actor=request.membership, rule=rule, object=entry.key, name=data["name"], kind=data["kind"],
                    target_group=data["target_group"], access=data["access"], source_group=data["source_group"],
                    criteria=_criteria_for_service(entry, rows, people)))

            try:
                with transaction.atomic():
                    call()
            except ValidationError as exc:
                if hasattr(exc, "error_dict") and "criteria" in exc.error_dict:
                    criteria_errors = [m for e in exc.error_dict.pop("criteria") for m in e.messages]
                if not hasattr(exc, "error_dict") or exc.error_dict:
                    apply_service_errors(form, exc)
            except PermissionDenied:
                raise Http404 from None
            else:
                messages.success(request, f"Sharing rule “{saved[0].name}” saved.")
                return redirect("access_rules")
        elif getattr(form, "cleaned_data", {}).get("kind") == SharingRule.Kind.CRITERIA:
            # say what is wrong with the conditions too, in the same round
            try:
                criteria_rules.clean(entry, _criteria_for_service(entry, rows, people))
            except ValidationError as exc:
                criteria_errors = exc.messages
        status = 400
        rows = rows or [{"field": "", "op": "eq", "value": ""}]
    return _rule_page(request, form, rule, entry, rows, criteria_errors, status)


def _rule_page(request, form, rule, entry, rows, criteria_errors, status):
    fields_ = criteria_rules.fields_of(entry)
    field_choices = [(name, _field_label(f)) for name, f in fields_.items()]
    # picklist fields suggest their values (a <datalist> per field, tied to the value box)
    suggestions = [(name, [str(label) for _, label in f.flatchoices]) for name, f in fields_.items()
                   if f.choices and not isinstance(f, models.ForeignKey)]
    with_suggestions = {name for name, _ in suggestions}
    for row in rows:
        row["list"] = f"choices-{row['field']}" if row["field"] in with_suggestions else ""
    return render(request, "access/rule_form.html", {
        "tabs": _tabs("rules", request.membership), "form": form, "rule": rule, "entry": entry,
        "objects": registry.objects(), "rows": rows, "field_choices": field_choices,
        "ops": list(criteria_rules.OPS.items()), "criteria_errors": criteria_errors, "suggestions": suggestions,
        "has_errors": status == 400,
    }, status=status)


@_requires("manage_sharing")
@require_POST
def rule_delete(request, pk):
    rule = _rule_or_404(request, pk)
    return _delete(request, f"Sharing rule “{rule.name}”", lambda: services.rule_delete(actor=request.membership, rule=rule),
                   "access_rules")

