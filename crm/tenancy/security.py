"""Helpers for sign-in security (lockout keys, security events)."""

from __future__ import annotations


def axes_username(request, credentials) -> str | None:
    """django-axes locks out per account: the account is the email, however the form named it."""
    credentials = credentials or {}
    value = credentials.get("email") or credentials.get("login") or credentials.get("username")
    if value is None and request is not None and request.method == "POST":
        value = request.POST.get("login") or request.POST.get("email")
    return value.strip().lower() if isinstance(value, str) else value
