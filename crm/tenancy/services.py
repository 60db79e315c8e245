"""Writes of the tenancy app: sign-up, memberships, invitations, company security, API tokens.

Every service that changes who may do what in a tenant records it in the tenant's security log
itself (crm.audit.security), in the same transaction, so no caller can forget it. `request` is
optional and only adds the client's IP address and browser to the log entry.
"""

from __future__ import annotations

import functools
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from crm.access import policy
from crm.audit.security import security_event

from .context import tenant_context
from .models import ApiToken, Invitation, Membership, Role, Tenant, User

INVITATION_DAYS = 7


def unique_slug(name: str) -> str:
    base = slugify(name)[:50] or "company"
    slug, n = base, 1
    while Tenant.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def clean_company_name(value: str) -> str:
    """The rules for a company name, shared by the sign-up form and the service."""
    name = " ".join((value or "").split())
    if not name:
        raise ValidationError("Enter your company's name.")
    if len(name) < 2:
        raise ValidationError("A company name has at least 2 characters.")
    if not slugify(name):
        raise ValidationError("Use at least one letter or digit in your company's name.")
    return name


@transaction.atomic
def tenant_signup(*, company_name: str, user: User, slug: str | None = None) -> Membership:
    """A new company: its tenant and its first admin, in one step."""
    try:
        company_name = clean_company_name(company_name)
    except ValidationError as exc:
        raise ValidationError({"company_name": exc.messages}) from exc
    tenant = Tenant.objects.create(name=company_name, slug=slug or unique_slug(company_name))
    with tenant_context(tenant):
        return Membership.objects.create(tenant=tenant, user=user, role=Role.ADMIN, is_default=True)


@transaction.atomic
def membership_create(*, tenant: Tenant, user: User, role: str, reports_to: Membership | None = None) -> Membership:
    with tenant_context(tenant):
        membership, _ = Membership.objects.for_tenant(tenant).get_or_create(
            tenant=tenant, user=user, defaults={"role": role, "reports_to": reports_to}
        )
        return membership


def in_actor_tenant(service):
    """Run a service in its actor's tenant (a savepoint inside a request, which is already there),
    so it works the same from a page, the API, a task or a shell."""

    @functools.wraps(service)
    def wrapped(*, actor: Membership, **kwargs):
        with tenant_context(actor.tenant):
            return service(actor=actor, **kwargs)

    return wrapped


def _active_admins(tenant) -> int:
    """Locks the admins' rows: two admins demoting or deactivating each other at the same moment
    must not leave the company with none."""
    return len(Membership.objects.for_tenant(tenant).filter(role=Role.ADMIN, is_active=True)
               .select_for_update().values_list("pk", flat=True))


def _check_role(role: str) -> None:
    if role not in Role.values:
        raise ValidationError({"role": f"Choose one of: {', '.join(Role.labels)}."})


@transaction.atomic
@in_actor_tenant
def membership_change_role(*, actor: Membership, membership: Membership, role: str, request=None) -> Membership:
    """An admin gives a colleague another role. The company always keeps at least one admin."""
    policy.require(actor, "administer", membership)
    _check_role(role)
    old = membership.role
    if old == role:
        return membership
    if old == Role.ADMIN and membership.is_active and _active_admins(actor.tenant) <= 1:
        raise ValidationError({"role": "Your company needs at least one admin: make someone else admin first."})
    membership.role = role
    membership.save(update_fields=["role", "updated_at"])
    from crm.access import defaults

    defaults.kind_changed(membership)
    security_event(actor.tenant, "role.changed", user=actor.user, request=request,
                   detail={"member": membership.user.email, "from": old, "to": role})
    return membership


@transaction.atomic
@in_actor_tenant
def membership_deactivate(*, actor: Membership, membership: Membership, request=None) -> Membership:
    """Take a colleague out of the company: they lose access at their next click (the middleware
    re-reads the membership on every request) and their API tokens here are revoked. Their
    records stay; an invitation brings them back."""
    policy.require(actor, "administer", membership)
    if membership.pk == actor.pk:
        raise ValidationError("You cannot deactivate yourself; ask another admin.")
    if not membership.is_active:
        return membership
    if membership.role == Role.ADMIN and _active_admins(actor.tenant) <= 1:
        raise ValidationError("Your company needs at least one admin.")
    membership.is_active = False
    membership.is_default = False
    membership.save(update_fields=["is_active", "is_default", "updated_at"])
    ApiToken.objects.for_tenant(actor.tenant).filter(membership=membership, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    security_event(actor.tenant, "member.removed", user=actor.user, request=request,
                   detail={"member": membership.user.email, "role": membership.role})
    return membership


@transaction.atomic
@in_actor_tenant
def tenant_set_require_mfa(*, actor: Membership, require_mfa: bool, request=None) -> Tenant:
    """Switch the company-wide two-factor requirement (enforced by crm.tenancy.mfa)."""
    policy.require(actor, "administer")
    from .security import has_totp

    if require_mfa and not has_totp(actor.user):
        # as the requirement would apply to the admin at once: first their own, then everyone's
        raise ValidationError({"require_mfa": "Set up two-factor authentication for yourself first."})
    tenant = Tenant.objects.select_for_update().get(pk=actor.tenant_id)
    if tenant.require_mfa != require_mfa:
        tenant.require_mfa = require_mfa
        tenant.save(update_fields=["require_mfa"])
        security_event(tenant, "mfa.required", user=actor.user, request=request, detail={"required": require_mfa})
    actor.tenant = tenant
    return tenant


# --- API tokens -------------------------------------------------------------------------------


@transaction.atomic
@in_actor_tenant
def api_token_create(*, actor: Membership, name: str = "API token", request=None) -> tuple[ApiToken, str]:
    """Returns the token and its key; the key is shown once and never stored."""
    policy.require(actor, "use_api")
    key, secret = ApiToken.make_key(actor.tenant)
    token = ApiToken.objects.create(
        tenant=actor.tenant, membership=actor, name=(name or "").strip() or "API token",
        key_hash=ApiToken.hash_key(secret), prefix=secret[:8],
    )
    security_event(actor.tenant, "token.created", user=actor.user, request=request,
                   detail={"token": str(token.pk), "name": token.name, "prefix": token.prefix})
    return token, key


@transaction.atomic
@in_actor_tenant
def api_token_revoke(*, actor: Membership, token: ApiToken, request=None) -> ApiToken:
    if token.membership_id != actor.pk:
        raise ValidationError("You can only revoke your own tokens.")
    if token.revoked_at is not None:
        return token
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at", "updated_at"])
    security_event(actor.tenant, "token.revoked", user=actor.user, request=request,
                   detail={"token": str(token.pk), "name": token.name, "prefix": token.prefix})
    return token


# --- Invitations ------------------------------------------------------------------------------


def invitation_token() -> str:
    return secrets.token_urlsafe(32)


def invitation_url(invitation: Invitation, raw: str, request=None) -> str:
    path = reverse("invitation_accept", args=[invitation.tenant_id, raw])
    if request is not None:
        return request.build_absolute_uri(path)
    return settings.SITE_URL.rstrip("/") + path


def _send_invitation(invitation: Invitation, raw: str, actor: Membership, request=None) -> None:
    """Through EMAIL_BACKEND, i.e. the outbox: stored in this transaction, delivered by a worker."""
    context = {
        "invitation": invitation,
        "tenant": actor.tenant,
        "inviter": actor.user,
        "role": invitation.get_role_display(),
        "url": invitation_url(invitation, raw, request),
        "days": INVITATION_DAYS,
    }
    subject = render_to_string("tenancy/email/invitation_subject.txt", context).strip()
    body = render_to_string("tenancy/email/invitation_message.txt", context)
    send_mail(subject, body, None, [invitation.email])


@transaction.atomic
@in_actor_tenant
def invitation_create(*, actor: Membership, email: str, role: str, request=None) -> tuple[Invitation, str]:
    """Invite a colleague by email with a role. A new invitation to the same address replaces
    any open one (so "invite again" is how an invitation is re-sent)."""
    policy.require(actor, "administer")
    _check_role(role)
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise ValidationError({"email": "Enter a valid email address."}) from exc
    tenant = actor.tenant
    if Membership.objects.for_tenant(tenant).filter(user__email=email, is_active=True).exists():
        raise ValidationError({"email": "This person is already a member of your company."})
    now = timezone.now()
    Invitation.objects.for_tenant(tenant).filter(
        email=email, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=now)
    raw = invitation_token()
    invitation = Invitation.objects.create(
        tenant=tenant, email=email, role=role, invited_by=actor,
        token_hash=Invitation.hash_token(raw), expires_at=now + timedelta(days=INVITATION_DAYS),
    )
    _send_invitation(invitation, raw, actor, request)
    security_event(tenant, "member.invited", user=actor.user, request=request,
                   detail={"member": email, "role": role, "invitation": str(invitation.pk)})
    return invitation, raw


@transaction.atomic
@in_actor_tenant
def invitation_revoke(*, actor: Membership, invitation: Invitation, request=None) -> Invitation:
    policy.require(actor, "administer", invitation)
    if invitation.accepted_at is not None:
        raise ValidationError("This invitation was already accepted.")
    if invitation.revoked_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at", "updated_at"])
    return invitation


def invitation_find(*, tenant: Tenant, raw: str) -> Invitation | None:
    """The invitation a link points at. Call inside tenant_context(tenant): the lookup runs under RLS."""
    return (
        Invitation.objects.for_tenant(tenant)
        .select_related("invited_by__user")
        .filter(token_hash=Invitation.hash_token(raw))
        .first()
    )


def invitation_problem(invitation: Invitation | None) -> str | None:
    """Why a link cannot be used any more, in words for the person holding it; None when open."""
    if invitation is None:
        return "This invitation link is not valid. Check that you copied the whole link from the email."
    if invitation.accepted_at is not None:
        return "This invitation has already been used. Sign in to reach your company."
    if invitation.revoked_at is not None:
        return "This invitation was withdrawn. Ask your admin to invite you again."
    if invitation.expires_at <= timezone.now():
        return "This invitation has expired. Ask your admin to invite you again."
    return None


def _mark_email_verified(user: User, email: str) -> None:
    """Opening the invitation link proves the address is the user's (allauth only lets verified
    addresses set up two-factor authentication)."""
    from allauth.account.models import EmailAddress

    address = EmailAddress.objects.filter(user=user, email__iexact=email).first()
    if address is None:
        EmailAddress.objects.create(
            user=user, email=email, verified=True,
            primary=not EmailAddress.objects.filter(user=user, primary=True).exists(),
        )
    elif not address.verified:
        address.verified = True
        address.save(update_fields=["verified"])


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user: User, request=None) -> Membership:
    """The invited person joins the company with the invitation's role."""
    problem = invitation_problem(invitation)
    if problem:
        raise ValidationError(problem)
    if user.email.lower() != invitation.email.lower():
        raise PermissionDenied("This invitation is for another email address.")
    tenant = invitation.tenant
    with tenant_context(tenant):
        invitation = Invitation.objects.for_tenant(tenant).select_for_update().get(pk=invitation.pk)
        if invitation_problem(invitation):  # accepted or revoked meanwhile
            raise ValidationError(invitation_problem(invitation))
        first_company = not Membership.objects.filter(user=user, is_active=True).exists()
        membership = Membership.objects.for_tenant(tenant).filter(user=user).first()
        if membership is None:
            membership = Membership.objects.create(
                tenant=tenant, user=user, role=invitation.role, is_default=first_company
            )
        elif not membership.is_active:
            membership.is_active = True
            membership.role = invitation.role
            membership.is_default = first_company
            membership.save(update_fields=["is_active", "role", "is_default", "updated_at"])
        invitation.accepted_at = timezone.now()
        invitation.save(update_fields=["accepted_at", "updated_at"])
    _mark_email_verified(user, invitation.email)
    security_event(tenant, "member.joined", user=user, request=request,
                   detail={"role": membership.role, "invitation": str(invitation.pk)})
    return membership


@transaction.atomic
def invitation_accept_new_user(*, invitation: Invitation, full_name: str, password: str, request=None) -> Membership:
    """Someone without an account accepts: their account is created with the invited email."""
    problem = invitation_problem(invitation)
    if problem:
        raise ValidationError(problem)
    if User.objects.filter(email__iexact=invitation.email).exists():
        raise ValidationError("An account with this email already exists: sign in to accept.")
    user = User.objects.create_user(email=invitation.email, password=password, full_name=full_name.strip())
    return invitation_accept(invitation=invitation, user=user, request=request)
