"""Sign-in and account security events -> the security log of every tenant the person belongs to.

A person is one User across tenants; each of their companies' admins sees what happened to the
account (a lockout of a user of two companies shows in both logs). Failures for an email that
has no account belong to no tenant: those go to Python logging only ("crm.security").

Connected from TenancyConfig.ready().
"""

from __future__ import annotations

import logging

from allauth.account import signals as account_signals
from allauth.mfa import signals as mfa_signals
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import transaction
from django.dispatch import receiver

from crm.audit.security import client_ip, security_event

from . import context
from .middleware import memberships_of
from .models import User

log = logging.getLogger("crm.security")


def _request_user_id(request):
    user = getattr(request, "user", None)
    return user.pk if user is not None and user.is_authenticated else None


def _tenants_of(user, request) -> list:
    """The user's companies. memberships_of() lets this transaction read the user's memberships
    (app.user_id); for a failed sign-in that is not the requester, so the setting is put back."""
    tenants = [m.tenant for m in memberships_of(user)]
    context.set_user(_request_user_id(request))
    return tenants


def _user_by_email(email) -> User | None:
    if not isinstance(email, str) or not email.strip():
        return None
    return User.objects.filter(email=email.strip().lower()).first()


def _record(user, kind: str, request, *, email: str = "", detail: dict | None = None) -> int:
    """One event per tenant of `user`; returns how many were written."""
    with transaction.atomic():  # also outside a request (tests, shell): set_config needs one
        tenants = _tenants_of(user, request)
        for tenant in tenants:
            security_event(tenant, kind, user=user, email=email or user.email, request=request, detail=detail)
    return len(tenants)


@receiver(user_logged_in, dispatch_uid="crm.security.logged_in")
def on_logged_in(sender, request, user, **kwargs):
    _record(user, "login", request)


@receiver(user_logged_out, dispatch_uid="crm.security.logged_out")
def on_logged_out(sender, request, user, **kwargs):
    if user is not None:
        _record(user, "logout", request)


@receiver(user_login_failed, dispatch_uid="crm.security.login_failed")
def on_login_failed(sender, credentials, request=None, **kwargs):
    # runs after django-axes' own receiver (axes is installed first), which has counted the failure
    email = credentials.get("email") or credentials.get("username") or credentials.get("login") or ""
    detail = {}
    if getattr(request, "axes_locked_out", False):
        detail["locked_out"] = True
    if credentials.get("stage"):  # sent by us for a wrong two-factor code at the API
        detail["stage"] = str(credentials["stage"])
    user = _user_by_email(email)
    if user is None or not _record(user, "login.failed", request, email=str(email), detail=detail):
        log.warning("Failed sign-in for an email with no company (%s) from %s", str(email)[:254], client_ip(request))


@receiver(user_locked_out, dispatch_uid="crm.security.locked_out")
def on_locked_out(sender, request, username=None, ip_address=None, **kwargs):
    """django-axes sends this on the failure that reaches the limit and again on every attempt
    while locked; the log gets the moment it locked (attempts during the lock are login.failed
    entries marked locked_out)."""
    failures = getattr(request, "axes_failures_since_start", None)
    log.warning("Sign-in locked out: account %s, address %s, failures %s", username, ip_address, failures)
    if failures is not None and failures != settings.AXES_FAILURE_LIMIT:
        return
    user = _user_by_email(username)
    if user is not None:
        _record(user, "login.locked", request, detail={"failures": failures, "ip": ip_address})


@receiver(account_signals.password_changed, dispatch_uid="crm.security.password_changed")
@receiver(account_signals.password_set, dispatch_uid="crm.security.password_set")
def on_password_changed(sender, request, user, **kwargs):
    _record(user, "password.changed", request)


@receiver(account_signals.password_reset, dispatch_uid="crm.security.password_reset")
def on_password_reset(sender, request, user, **kwargs):
    _record(user, "password.reset", request)


def _is(authenticator, kind: str) -> bool:
    return getattr(authenticator, "type", None) == kind


@receiver(mfa_signals.authenticator_added, dispatch_uid="crm.security.mfa_added")
def on_authenticator_added(sender, request, user, authenticator, **kwargs):
    if _is(authenticator, "totp"):
        _record(user, "mfa.enabled", request, detail={"method": "totp"})


@receiver(mfa_signals.authenticator_removed, dispatch_uid="crm.security.mfa_removed")
def on_authenticator_removed(sender, request, user, authenticator, **kwargs):
    if _is(authenticator, "totp"):
        _record(user, "mfa.disabled", request, detail={"method": "totp"})


@receiver(mfa_signals.authenticator_used, dispatch_uid="crm.security.mfa_used")
def on_authenticator_used(sender, request, user, authenticator, **kwargs):
    if _is(authenticator, "recovery_codes"):
        left = len(authenticator.wrap().get_unused_codes()) if hasattr(authenticator, "wrap") else None
        _record(user, "mfa.recovery_used", request, detail={"codes_left": left})


@receiver(mfa_signals.authentication_failed, dispatch_uid="crm.security.mfa_failed")
def on_mfa_failed(sender, request, user, authenticator, **kwargs):
    _record(user, "login.failed", request, detail={"stage": "two-factor code"})
