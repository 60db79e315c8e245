"""Pages of the tenancy app: team and invitations, company security, security log, API tokens.

Admin pages answer 404 to everyone else (we never confirm that a page or record exists).
"""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from crm.access import policy

from . import selectors, services
from .context import tenant_context
from .forms import (
    AcceptInvitationForm,
    ApiTokenForm,
    CompanySecurityForm,
    InviteForm,
    RoleForm,
    SecurityLogFilterForm,
)
from .middleware import SESSION_KEY
from .models import Invitation, Membership, Role, Tenant, User
from .security import has_totp


def member_required(view):
    """Signed in and a member of the current tenant; otherwise sign in (or 404 without a tenant)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect(f"{reverse('account_login')}?{urlencode({'next': request.get_full_path()})}")
        if getattr(request, "membership", None) is None:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapped


def permission_required(permission: str):
    """A page behind an app permission (crm.access.policy: "administer", "customize",
    "view_security_log"…); without it the page does not exist for the member (404)."""
    def decorator(view):
        @member_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not policy.can(request.membership, permission):
                raise Http404
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


admin_required = permission_required("administer")


def _error_text(exc: ValidationError) -> str:
    return " ".join(exc.messages)


# --- Team -------------------------------------------------------------------------------------

ROLE_TONES = {Role.ADMIN: "red", Role.MANAGER: "blue", Role.REP: "green", Role.AGENT: "amber"}


def _team_page(request, invite_form=None):
    actor = request.membership
    members = list(selectors.team_members(actor=actor))
    rows = []
    for m in members:
        role_form = RoleForm(initial={"role": m.role}, auto_id=f"id_{m.pk.hex}_%s")
        role_form.fields["role"].widget.attrs["aria-label"] = f"Role of {m.user}"
        rows.append({"m": m, "tone": ROLE_TONES.get(m.role, "gray"), "is_me": m.pk == actor.pk,
                     "role_form": role_form})
    return render(request, "tenancy/team.html", {
        "rows": rows,
        "invitations": selectors.pending_invitations(actor=actor),
        "invite_form": invite_form or InviteForm(),
    })


@admin_required
@require_http_methods(["GET"])
def team(request):
    return _team_page(request)


@admin_required
@require_POST
def team_invite(request):
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            invitation, _ = services.invitation_create(
                actor=request.membership, email=form.cleaned_data["email"], role=form.cleaned_data["role"],
                request=request,
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.error_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, exc)
        else:
            messages.success(request, f"Invitation sent to {invitation.email}.")
            return redirect("team")
    return _team_page(request, invite_form=form)


@admin_required
@require_POST
def team_invitation_revoke(request, pk):
    invitation = get_object_or_404(Invitation.objects.for_tenant(request.tenant), pk=pk)
    try:
        services.invitation_revoke(actor=request.membership, invitation=invitation, request=request)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, f"Invitation of {invitation.email} withdrawn.")
    return redirect("team")


def _member(request, pk) -> Membership:
    return get_object_or_404(Membership.objects.for_tenant(request.tenant).select_related("user"), pk=pk)


@admin_required
@require_POST
def team_member_role(request, pk):
    membership = _member(request, pk)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a role.")
        return redirect("team")
    try:
        services.membership_change_role(
            actor=request.membership, membership=membership, role=form.cleaned_data["role"], request=request
        )
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, f"{membership.user} is now {membership.get_role_display()}.")
    return redirect("team")


@admin_required
@require_http_methods(["GET", "POST"])
def team_member_deactivate(request, pk):
    membership = _member(request, pk)
    if request.method == "POST":
        try:
            services.membership_deactivate(actor=request.membership, membership=membership, request=request)
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
        else:
            messages.success(request, f"{membership.user} no longer has access to {request.tenant.name}.")
        return redirect("team")
    return render(request, "tenancy/member_deactivate.html", {"member": membership})


# --- Invitation links -------------------------------------------------------------------------


def _invitation_gone(request, message: str, status: int):
    return render(request, "tenancy/invitation_invalid.html", {"message": message}, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def invitation_accept(request, tenant_id, token):
    """`/invite/<tenant id>/<raw token>/`: the tenant id lets us enter the tenant first, so the
    invitation is looked up under row-level security, as API tokens are."""
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        return _invitation_gone(request, services.invitation_problem(None), 404)
    with tenant_context(tenant):
        invitation = services.invitation_find(tenant=tenant, raw=token)
    problem = services.invitation_problem(invitation)
    if problem:
        return _invitation_gone(request, problem, 404 if invitation is None else 410)

    user = request.user
    if user.is_authenticated:
        if user.email.lower() != invitation.email:
            return render(request, "tenancy/invitation_wrong_account.html",
                          {"invitation": invitation, "company": tenant}, status=403)
        if request.method == "POST":
            try:
                membership = services.invitation_accept(invitation=invitation, user=user, request=request)
            except ValidationError as exc:  # accepted or withdrawn since the page was shown
                return _invitation_gone(request, _error_text(exc), 410)
            return _joined(request, membership)
        return render(request, "tenancy/invitation_accept.html", {"invitation": invitation, "company": tenant})

    if User.objects.filter(email__iexact=invitation.email).exists():
        # an account exists: sign in first, then this page again
        messages.info(request, f"Sign in as {invitation.email} to join {tenant.name}.")
        return redirect(f"{reverse('account_login')}?{urlencode({'next': request.get_full_path()})}")

    form = AcceptInvitationForm(request.POST if request.method == "POST" else None, email=invitation.email)
    if request.method == "POST" and form.is_valid():
        try:
            membership = services.invitation_accept_new_user(
                invitation=invitation, full_name=form.cleaned_data["full_name"],
                password=form.cleaned_data["password1"], request=request,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
            return _joined(request, membership)
    return render(request, "tenancy/invitation_signup.html", {"invitation": invitation, "company": tenant, "form": form})


def _joined(request, membership: Membership):
    request.session[SESSION_KEY] = str(membership.tenant_id)
    messages.success(request, f"Welcome to {membership.tenant.name}.")
    return HttpResponseRedirect(reverse("home"))


# --- Company security -------------------------------------------------------------------------


@admin_required
@require_http_methods(["GET", "POST"])
def company_security(request):
    tenant = request.tenant
    form = CompanySecurityForm(request.POST if request.method == "POST" else None,
                               initial={"require_mfa": tenant.require_mfa})
    if request.method == "POST" and form.is_valid():
        try:
            services.tenant_set_require_mfa(
                actor=request.membership, require_mfa=form.cleaned_data["require_mfa"], request=request
            )
        except ValidationError as exc:
            form.add_error("require_mfa", exc.message_dict.get("require_mfa", exc.messages))
        else:
            messages.success(request, "Company security settings saved.")
            return redirect("company_security")
    return render(request, "tenancy/company_security.html",
                  {"form": form, "company": tenant, "own_mfa": has_totp(request.user)})


# --- Security log -----------------------------------------------------------------------------


@permission_required("view_security_log")
@require_http_methods(["GET"])
def security_log(request):
    form = SecurityLogFilterForm(request.GET or None)
    kind = form.cleaned_data["kind"] if form.is_valid() else ""
    page = selectors.security_log(actor=request.membership, kind=kind, cursor=request.GET.get("after", ""))
    next_url = None
    if page.next_cursor:
        next_url = "?" + urlencode({k: v for k, v in (("kind", kind), ("after", page.next_cursor)) if v})
    return render(request, "tenancy/security_log.html", {
        "form": form,
        "kind": kind,
        "rows": [{"e": e, "summary": selectors.describe_event(e)} for e in page.events],
        "next_url": next_url,
        "is_later_page": bool(request.GET.get("after")),
    })


# --- API tokens -------------------------------------------------------------------------------


@member_required
@require_http_methods(["GET", "POST"])
def api_tokens(request):
    form = ApiTokenForm(request.POST if request.method == "POST" else None)
    created = None
    if request.method == "POST" and form.is_valid():
        token, key = services.api_token_create(actor=request.membership, name=form.cleaned_data["name"],
                                               request=request)
        # shown in this response only: the key is never stored, so there is no redirect to it
        created = {"token": token, "key": key}
        form = ApiTokenForm()
    response = render(request, "tenancy/api_tokens.html", {
        "form": form,
        "tokens": selectors.api_tokens_of(actor=request.membership),
        "created": created,
    })
    if created:
        response["Cache-Control"] = "no-store"
    return response


@member_required
@require_http_methods(["GET", "POST"])
def api_token_revoke(request, pk):
    token = get_object_or_404(selectors.api_tokens_of(actor=request.membership), pk=pk)
    if request.method == "POST":
        services.api_token_revoke(actor=request.membership, token=token, request=request)
        messages.success(request, f"Token “{token.name}” revoked: it no longer works.")
        return redirect("api_tokens")
    return render(request, "tenancy/api_token_revoke.html", {"token": token})
