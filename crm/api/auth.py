from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions


class TenantTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Token <key>`. The tenant middleware already found the token (under RLS,
    in the key's tenant); this only hands DRF the result."""

    keyword = "Token"

    def authenticate(self, request):
        django_request = request._request
        if getattr(django_request, "api_token", None) is not None:
            return django_request.token_user, django_request.api_token
        if getattr(django_request, "api_token_invalid", False):
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        return None

    def authenticate_header(self, request):
        return self.keyword


class TenantTokenScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI schema (/api/docs/) describes the token; registered by being defined."""

    target_class = TenantTokenAuthentication
    name = "tenantToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token crm_<tenant>_<secret>`: every call runs in the token's tenant.",
        }
