"""Who changed what, through which request: the history context of every request.

Placed right after crm.tenancy.middleware.TenantMiddleware, so it runs inside the request's
transaction, after the tenant and the acting membership are known (from the session or the API
token). Every change the request makes is recorded with the user, their membership, the source
("api" under /api/, else "page"), the method and the path.

The path is stored with secret URL parts masked (invitation tokens, password-reset keys), and
never the query string: history must not become a second place secrets are kept.
"""

from __future__ import annotations

from django.urls import Resolver404, resolve

from .history import actor_metadata, history_source, is_secret_field

API_PREFIX = "/api/"
SECRET_URL_PARAMS = frozenset({"key", "code", "uidb36", "uidb64"})
MASK = "…"


def safe_path(request) -> str:
    path = request.path
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return path
    for name, value in match.kwargs.items():
        if value and (name in SECRET_URL_PARAMS or is_secret_field(name)):
            path = path.replace(str(value), MASK)
    return path


def request_metadata(request) -> dict:
    membership = getattr(request, "membership", None)
    metadata = actor_metadata(membership)
    user = getattr(request, "user", None)
    if membership is None and user is not None and user.is_authenticated:
        metadata.update(user=str(user.pk), email=user.email, name=user.display_name)
    metadata.update(method=request.method, url=safe_path(request))
    return metadata


class HistoryContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        source = "api" if request.path_info.startswith(API_PREFIX) else "page"
        with history_source(source, **request_metadata(request)):
            return self.get_response(request)
