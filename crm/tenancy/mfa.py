"""Company-wide two-factor requirement (Tenant.require_mfa), enforced per request.

A member of a company that requires two-factor authentication, signed in without an
authenticator app, is sent to set one up before any page of the company opens. Runs right after
TenantMiddleware, which has resolved the tenant and membership.

Left alone:
- /accounts/... : sign-out, the two-factor pages themselves, re-authentication, email
  verification and password pages; none of them shows company data;
- /static/, /healthz, the tenant switcher (a person in several companies may move to one that
  does not require it) and invitation links;
- the API (/api/ and any request with an API token): tokens are machine credentials, created by a
  person who already passed this check in the browser (the page) or who must send a current code
  when they have two-factor on (POST /api/v1/auth/token/, see security.token_mfa_problem); a
  script cannot answer a second factor per call, and a leaked token is revoked on its page.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse

from .security import has_totp

EXEMPT_PREFIXES = ("/accounts/", "/static/", "/api/", "/healthz", "/tenants/switch/", "/invite/", "/dev/mail/")


class RequireMFAMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        target = self.redirect_for(request)
        if target is None:
            return self.get_response(request)
        if getattr(request, "htmx", False):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = target
            return response
        return HttpResponseRedirect(target)

    def redirect_for(self, request) -> str | None:
        tenant = getattr(request, "tenant", None)
        if tenant is None or not tenant.require_mfa or getattr(request, "api_token", None) is not None:
            return None
        if request.path.startswith(EXEMPT_PREFIXES) or not request.user.is_authenticated:
            return None
        if has_totp(request.user):
            return None
        from allauth.account.models import EmailAddress

        if EmailAddress.objects.filter(user=request.user, verified=False).exists():
            # allauth lets only verified addresses add an authenticator (see mfa.internal.flows.add)
            messages.warning(
                request,
                f"{tenant.name} requires two-factor authentication. First confirm your email address "
                "with the link we sent you (you can send it again here), then set up your authenticator app.",
            )
            return reverse("account_email")
        messages.warning(
            request,
            f"{tenant.name} requires two-factor authentication. Set up an authenticator app to continue.",
        )
        return reverse("mfa_activate_totp")
