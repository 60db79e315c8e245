"""Write to a tenant's security log."""

from __future__ import annotations

from crm.tenancy.context import tenant_context

from .models import SecurityEvent


def client_ip(request) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def security_event(tenant, kind: str, *, user=None, email: str = "", request=None, detail: dict | None = None):
    with tenant_context(tenant):
        return SecurityEvent.objects.create(
            tenant=tenant, kind=kind, user=user, email=email or (user.email if user else ""),
            ip_address=client_ip(request),
            user_agent=(request.META.get("HTTP_USER_AGENT", "")[:300] if request is not None else ""),
            detail=detail or {},
        )
