"""Writes of the tenancy app: sign-up, memberships, invitations, API tokens."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

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


@transaction.atomic
def tenant_signup(*, company_name: str, user: User, slug: str | None = None) -> Membership:
    """A new company: its tenant and its first admin, in one step."""
    company_name = company_name.strip()
    if not company_name:
        raise ValidationError({"company_name": "Enter your company's name."})
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


@transaction.atomic
def api_token_create(*, actor: Membership, name: str = "API token") -> tuple[ApiToken, str]:
    """Returns the token and its key; the key is shown once and never stored."""
    key, secret = ApiToken.make_key(actor.tenant)
    token = ApiToken.objects.create(
        tenant=actor.tenant, membership=actor, name=name or "API token",
        key_hash=ApiToken.hash_key(secret), prefix=secret[:8],
    )
    return token, key


@transaction.atomic
def api_token_revoke(*, actor: Membership, token: ApiToken) -> ApiToken:
    if token.membership_id != actor.pk:
        raise ValidationError("You can only revoke your own tokens.")
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at", "updated_at"])
    return token


def invitation_token() -> str:
    return secrets.token_urlsafe(32)


@transaction.atomic
def invitation_create(*, actor: Membership, email: str, role: str) -> tuple[Invitation, str]:
    if not actor.is_admin:
        raise ValidationError("Only admins can invite colleagues.")
    email = email.strip().lower()
    if Membership.objects.for_tenant(actor.tenant).filter(user__email=email).exists():
        raise ValidationError({"email": "This person is already a member of your company."})
    raw = invitation_token()
    invitation = Invitation.objects.create(
        tenant=actor.tenant, email=email, role=role, invited_by=actor,
        token_hash=Invitation.hash_token(raw), expires_at=timezone.now() + timedelta(days=INVITATION_DAYS),
    )
    return invitation, raw
