"""Settings → Access (task E): the role hierarchy and the organisation-wide defaults.

Pages for members with `manage_sharing` (roles, defaults) and `manage_users` (a member's role);
everybody else gets 404 (we never confirm a page exists). Every change goes through
crm.access.services, which log to the security log.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from crm.tenancy.models import Membership
from crm.tenancy.views import member_required, permission_required
from crm.web.forms import apply_service_errors

from . import engine, registry, services
from .models import Default, OrgDefault, RoleAssignment, UserRole

# a page behind an app permission: 404 without it (we never confirm a page exists)
_requires = permission_required


def _roles(tenant_id):
    return UserRole.objects.filter(tenant_id=tenant_id).order_by("name")


def _role_or_404(request, pk) -> UserRole:
    role = _roles(request.membership.tenant_id).filter(pk=pk).first()
    if role is None:
        raise Http404
    return role


def _members(tenant_id):
    return Membership.objects.filter(tenant_id=tenant_id, is_active=True).select_related("user").order_by("user__email")


# --- roles -----------------------------------------------------------------------------------------


class RoleForm(forms.Form):
    name = forms.CharField(max_length=80)
    parent = forms.ModelChoiceField(queryset=UserRole.objects.none(), required=False, empty_label="— top of the tree —",
                                    label="Reports to")

    def __init__(self, *args, tenant_id, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = _roles(tenant_id)


class AssignRoleForm(forms.Form):
    member = forms.ModelChoiceField(queryset=Membership.objects.none())
    role = forms.ModelChoiceField(queryset=UserRole.objects.none(), required=False, empty_label="— no role —")

    def __init__(self, *args, tenant_id, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = _members(tenant_id)
        self.fields["member"].label_from_instance = lambda m: f"{m.user.full_name or m.user.email} ({m.user.email})"
        self.fields["role"].queryset = _roles(tenant_id)


def _tree(tenant_id):
    """The roles as nested nodes {role, holders, children}, roots first, siblings by name."""
    roles = list(_roles(tenant_id))
    holders: dict = {}
    for a in RoleAssignment.objects.filter(tenant_id=tenant_id, role__isnull=False) \
            .select_related("membership__user").order_by("membership__user__email"):
        holders.setdefault(a.role_id, []).append(a.membership)
    nodes = {r.pk: {"role": r, "holders": holders.get(r.pk, []), "children": []} for r in roles}
    roots = []
    for r in roles:
        (nodes[r.parent_id]["children"] if r.parent_id in nodes else roots).append(nodes[r.pk])
    return roots, len(roles)


def _roles_page(request, *, add_form=None, assign_form=None, edit_form=None, edit_role=None, status=200):
    tid = request.membership.tenant_id
    roots, count = _tree(tid)
    return render(request, "access/roles.html", {
        "tabs": _tabs("roles", request.membership), "roots": roots, "count": count,
        "add_form": add_form or RoleForm(tenant_id=tid, initial={"parent": request.GET.get("parent")}),
        "assign_form": assign_form or AssignRoleForm(tenant_id=tid),
        "can_assign": engine.can(request.membership, "manage_users"),
        "edit_form": edit_form, "edit_role": edit_role,
        "parent_choices": list(_roles(tid)),
    }, status=status)


@member_required
def roles(request):
    if not engine.can(request.membership, "manage_sharing"):
        if engine.can(request.membership, "manage_users"):
            # Settings → Access opens here: someone who manages users only starts on their first tab
            return redirect("access_profiles")
        raise Http404
    return _roles_page(request)


@_requires("manage_sharing")
@require_POST
def role_create(request):
    form = RoleForm(request.POST, tenant_id=request.membership.tenant_id)
    if form.is_valid():
        try:
            role = services.role_create(actor=request.membership, name=form.cleaned_data["name"],
                                        parent=form.cleaned_data["parent"])
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, f"Role “{role.name}” added.")
            return redirect("access_roles")
    return _roles_page(request, add_form=form, status=400)


@_requires("manage_sharing")
@require_http_methods(["GET", "POST"])
def role_edit(request, pk):
    role = _role_or_404(request, pk)
    tid = request.membership.tenant_id
    form = RoleForm(request.POST or None, tenant_id=tid, initial={"name": role.name, "parent": role.parent_id})
    if request.method == "POST":
        if form.is_valid():
            try:
                with transaction.atomic():  # a refused move leaves nothing half-done (e.g. the renamed groups)
                    services.role_update(actor=request.membership, role=role, name=form.cleaned_data["name"],
                                         parent=form.cleaned_data["parent"])
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, f"Role “{role.name}” saved.")
                return redirect("access_roles")
        role.refresh_from_db()
        return render(request, "access/role_form.html", {"form": form, "role": role}, status=400)
    return render(request, "access/role_form.html", {"form": form, "role": role})


@_requires("manage_sharing")
@require_POST
def role_delete(request, pk):
    role = _role_or_404(request, pk)
    return _delete(request, f"Role “{role.name}”", lambda: services.role_delete(actor=request.membership, role=role),
                   "access_roles")


def _delete(request, what: str, delete, to: str):
    """Run one delete service in a transaction and say how it went: a refusal the service explains
    (a role with members, a profile someone holds) becomes the message, and nothing is deleted."""
    try:
        with transaction.atomic():
            delete()
    except ValidationError as exc:
        messages.error(request, f"{what} was not deleted: {' '.join(exc.messages)}")
    else:
        messages.success(request, f"{what} deleted.")
    return redirect(to)


@_requires("manage_users")
@require_POST
def role_assign(request):
    tid = request.membership.tenant_id
    form = AssignRoleForm(request.POST, tenant_id=tid)
    if form.is_valid():
        member = form.cleaned_data["member"]
        try:
            services.assign(actor=request.membership, membership=member, role=form.cleaned_data["role"])
        except ValidationError as exc:
            apply_service_errors(form, exc)
        except PermissionDenied:
            raise Http404 from None
        else:
            role = form.cleaned_data["role"]
            messages.success(request, f"{member.user.full_name or member.user.email}: "
                                      f"{'role ' + role.name if role else 'no role'}.")
            return redirect("access_roles")
    if not engine.can(request.membership, "manage_sharing"):
        raise Http404
    return _roles_page(request, assign_form=form, status=400)


# --- organisation-wide defaults ---------------------------------------------------------------------


@_requires("manage_sharing")
@require_http_methods(["GET", "POST"])
def defaults(request):
    tid = request.membership.tenant_id
    current = {row.object: row for row in OrgDefault.objects.filter(tenant_id=tid)}
    rows = []
    for entry in registry.objects():
        row = current.get(entry.key)
        choices = [(v, label) for v, label in Default.choices if v != Default.PARENT or entry.parents]
        rows.append({"entry": entry, "choices": choices, "error": None,
                     "access": row.access if row else entry.default,
                     "hierarchy_edit": row.hierarchy_edit if row else True})
    if request.method == "POST":
        # check every row first: bad input changes nothing
        changes = []
        for r in rows:
            key = r["entry"].key
            wanted = request.POST.get(f"{key}-access", r["access"])
            wanted_edit = request.POST.get(f"{key}-hierarchy_edit") == "on"
            if wanted not in {v for v, _ in r["choices"]}:
                r["error"] = ("Private, public read only, public read/write"
                              + (" or controlled by parent." if r["entry"].parents else "."))
            elif (wanted, wanted_edit) != (r["access"], r["hierarchy_edit"]):
                changes.append((r, wanted, wanted_edit))
        if not any(r["error"] for r in rows):
            try:
                with transaction.atomic():  # all rows or none
                    for r, wanted, wanted_edit in changes:
                        services.org_default_set(actor=request.membership, object=r["entry"].key, access=wanted,
                                                 hierarchy_edit=wanted_edit)
            except ValidationError as exc:
                r["error"] = " ".join(exc.messages)
            else:
                messages.success(request, f"Organisation-wide defaults saved ({len(changes)} changed).")
                return redirect("access_defaults")
    has_errors = any(r["error"] for r in rows)
    return render(request, "access/defaults.html", {"tabs": _tabs("defaults", request.membership), "rows": rows, "has_errors": has_errors},
                  status=400 if has_errors else 200)


def _tabs(active: str, actor=None):
    """The tab bar of Settings → Access; with `actor`, only the tabs they may open."""
    from django.urls import reverse

    tabs = (("roles", "Roles", "access_roles", "manage_sharing"),
            ("defaults", "Organisation-wide defaults", "access_defaults", "manage_sharing"),
            ("profiles", "Profiles", "access_profiles", "manage_users"),
            ("permission_sets", "Permission sets", "access_permission_sets", "manage_users"),
            ("groups", "Public groups", "access_groups", "manage_sharing"),
            ("rules", "Sharing rules", "access_rules", "manage_sharing"))
    return [{"label": label, "url": reverse(name), "active": key == active}
            for key, label, name, permission in tabs if actor is None or engine.can(actor, permission)]
