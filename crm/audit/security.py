"""Write to a tenant's security log."""

from __future__ import annotations

from crm.tenancy.context import tenant_context

from .models import SecurityEvent


def client_ip(request) -> str | None:
    """The address django-axes counts failures against (same proxy settings), so the log and the
    lockout agree on who the client was."""
    if request is None:
        return None
    address = getattr(request, "axes_ip_address", None)
    if address is None:
        from axes.helpers import get_client_ip_address

        address = get_client_ip_address(request)
    return address or None


def security_event(tenant, kind: str, *, user=None, email: str = "", request=None, detail: dict | None = None):
    with tenant_context(tenant):
        return SecurityEvent.objects.create(
            tenant=tenant, kind=kind, user=user, email=email or (user.email if user else ""),
            ip_address=client_ip(request),
            user_agent=(request.META.get("HTTP_USER_AGENT", "")[:300] if request is not None else ""),
            detail=detail or {},
        )
