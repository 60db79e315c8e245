"""Enter the tenant once per request, inside the request's transaction.

The whole request runs in one transaction (like ATOMIC_REQUESTS, but begun here so the
transaction-local `app.tenant_id` set below is visible to the view and everything it calls).
An exception in the view rolls everything back.

Which tenant:
- API token (`Authorization: Token crm_<tenant hex>_<secret>`): the tenant in the key, after the
  token is found (under RLS) and is live;
- otherwise the signed-in user's active membership, kept in the session and re-checked on every
  request (a removed membership loses access at once), falling back to the default one.
"""

from __future__ import annotations

import uuid

from django.db import connection, transaction
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from . import context
from .models import ApiToken, Membership, Tenant

SESSION_KEY = "crm_tenant_id"


def parse_token(header: str) -> tuple[uuid.UUID, str] | None:
    parts = header.split()
    if len(parts) != 2 or parts[0].lower() != "token":
        return None
    key = parts[1]
    if not key.startswith("crm_") or key.count("_") < 2:
        return None
    _, tenant_hex, secret = key.split("_", 2)
    try:
        return uuid.UUID(hex=tenant_hex), secret
    except ValueError:
        return None


def enter_token(request, header: str) -> bool:
    """Authenticate by API token; returns True when the token was valid."""
    parsed = parse_token(header)
    if parsed is None:
        return False
    tenant_id, secret = parsed
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        return False
    context.activate(tenant)
    token = (
        ApiToken.objects.for_tenant(tenant)
        .select_related("membership__user")
        .filter(key_hash=ApiToken.hash_key(secret), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.membership.is_active or not token.membership.user.is_active:
        context.activate(None)
        return False
    if token.last_used_at is None or (timezone.now() - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.for_tenant(tenant).filter(pk=token.pk).update(last_used_at=timezone.now())
    membership = token.membership
    membership.tenant = tenant
    request.api_token = token
    request.token_user = membership.user
    request.membership = membership
    request.tenant = tenant
    context.set_user(membership.user_id)
    return True


def memberships_of(user):
    """The user's active memberships in every tenant (readable through the own_memberships policy)."""
    context.set_user(user.pk)
    return Membership.objects.filter(user=user, is_active=True).select_related("tenant").order_by(
        "-is_default", "tenant__name"
    )


def enter_session(request) -> None:
    user = request.user
    if not user.is_authenticated:
        return
    context.set_user(user.pk)
    wanted = request.session.get(SESSION_KEY)
    memberships = list(memberships_of(user))
    request.all_memberships = memberships
    chosen = next((m for m in memberships if str(m.tenant_id) == wanted), None) or (
        memberships[0] if memberships else None
    )
    if chosen is None:
        return
    if str(chosen.tenant_id) != wanted:
        request.session[SESSION_KEY] = str(chosen.tenant_id)
    context.activate(chosen.tenant)
    request.membership = chosen
    request.tenant = chosen.tenant


def switch_tenant(request, tenant_id) -> Membership | None:
    """Make another of the user's tenants the active one (the tenant switcher)."""
    try:
        tenant_id = uuid.UUID(str(tenant_id))
    except ValueError:
        return None
    membership = memberships_of(request.user).filter(tenant_id=tenant_id).first()
    if membership is not None:
        request.session[SESSION_KEY] = str(membership.tenant_id)
    return membership


class TenantMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.tenant = None
        request.membership = None
        request.api_token = None
        request.all_memberships = []
        with transaction.atomic():
            # reset: a pooled connection starts every request with no tenant and no user
            context.activate(None)
            context.set_user(None)
            header = request.META.get("HTTP_AUTHORIZATION", "")
            token = context._tenant.set(None)
            try:
                if header:
                    if not enter_token(request, header):
                        request.api_token_invalid = True
                else:
                    enter_session(request)
                response = self.get_response(request)
                if getattr(request, "_tenant_rollback", False) or (
                    response.status_code >= 500
                ):
                    transaction.set_rollback(True)
            finally:
                context._tenant.reset(token)
        if connection.in_atomic_block and not connection.needs_rollback:
            # We ran nested in an outer transaction (tests, or a caller's atomic block): the
            # transaction-local setting would outlive the request there, so clear it.
            context.activate(None)
            context.set_user(None)
        return response

    def process_exception(self, request, exception):
        # Only remember it: middleware further out may still turn the exception into a normal
        # response and query the database on the way (allauth's reauthentication does). The
        # transaction is rolled back when the response comes back through __call__.
        request._tenant_rollback = True
        return None


def lazy_tenant(request):
    return SimpleLazyObject(lambda: request.tenant)
