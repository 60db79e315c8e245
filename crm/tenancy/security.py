"""Sign-in security glue: how django-axes names the account, what a lockout looks like, and the
two-factor check of the API's token endpoint."""

from __future__ import annotations

from django.http import JsonResponse
from django.shortcuts import render


def axes_username(request, credentials) -> str | None:
    """django-axes locks out per account: the account is the email, however the form named it.

    allauth calls authenticate(email=..., password=...) (its form field is called `login`), the API
    calls it with `email`; a bare POST falls back to the form fields."""
    credentials = credentials or {}
    value = credentials.get("email") or credentials.get("login") or credentials.get("username")
    if value is None and request is not None and request.method == "POST":
        value = request.POST.get("login") or request.POST.get("email")
    return value.strip().lower() if isinstance(value, str) else value


def lockout_response(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: 429 Too Many Requests, as our error JSON for the API and as a page
    that says what to do for the browser. Never 500, never a blank 403."""
    from axes.helpers import get_cool_off, get_failure_limit

    cool_off = get_cool_off(request)
    minutes = max(1, round(cool_off.total_seconds() / 60)) if cool_off else None
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {"error": {"code": "locked_out", "fields": {},
                       "message": "Too many failed sign-ins. Try again later."}},
            status=429,
        )
    else:
        response = render(
            request, "errors/lockout.html",
            {"cooloff_minutes": minutes, "failure_limit": get_failure_limit(request, credentials)},
            status=429,
        )
    if cool_off:
        response["Retry-After"] = str(int(cool_off.total_seconds()))
    return response


def has_totp(user) -> bool:
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def token_mfa_problem(user, tenant, code: str | None, request=None) -> str | None:
    """The API's password-for-token exchange must not be a way around two-factor sign-in.

    With TOTP on, the request carries a current code (`otp`); in a company that requires
    two-factor, a user without it is sent to set it up in the browser first. Tokens already issued
    keep working: they are secrets that only the machine holding them knows, are listed and
    revocable on the API tokens page, and a per-call second factor is impossible for scripts."""
    from allauth.mfa.models import Authenticator

    totp = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    if totp is None:
        if tenant.require_mfa:
            return f"{tenant.name} requires two-factor authentication: set it up in the browser first."
        return None
    if not code:
        return "Two-factor authentication is on for this account: send the current code as `otp`."
    if not totp.wrap().validate_code(str(code).strip()):
        # a wrong code counts like a wrong password: logged, and towards the lockout
        from django.contrib.auth.signals import user_login_failed

        user_login_failed.send(__name__, credentials={"email": user.email, "stage": "two-factor code"},
                               request=request)
        return "The two-factor code is not valid."
    return None
