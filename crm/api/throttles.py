from rest_framework.throttling import SimpleRateThrottle


class TokenRateThrottle(SimpleRateThrottle):
    """Throttle per API token (per session user for browser calls, per IP when anonymous)."""

    scope = "token"

    def get_cache_key(self, request, view):
        token = getattr(request._request, "api_token", None)
        if token is not None:
            ident = f"t:{token.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"u:{request.user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class AuthRateThrottle(TokenRateThrottle):
    scope = "auth"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
