"""What the app shell needs on every page: tenant, membership, the tenant switcher, navigation."""

from .nav import navigation_for


def shell(request):
    membership = getattr(request, "membership", None)
    return {
        "tenant": getattr(request, "tenant", None),
        "membership": membership,
        "all_memberships": getattr(request, "all_memberships", []),
        "nav": navigation_for(membership, request.path) if membership else [],
    }
