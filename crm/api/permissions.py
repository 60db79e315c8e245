from rest_framework.permissions import BasePermission


class IsTenantMember(BasePermission):
    """Every API call runs in exactly one tenant, as a member of it."""

    message = "Sign in, or send a valid token, to use the API."

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request._request.membership)
