"""Form helpers every app's pages share."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError


def apply_service_errors(form: forms.Form, exc: ValidationError, *, field_map: dict | None = None) -> None:
    """A service's ValidationError onto the form, next to the fields it names.

    `field_map` renames service fields to form fields (e.g. {"parent": "parent_name"}), and a custom
    field's `custom.<name>` is the form's `cf_<name>`; errors for
    fields the form does not have, and errors without a field, become form-level errors.
    """
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for name, errors in exc.error_dict.items():
        name = (field_map or {}).get(name, name)
        if name.startswith("custom."):  # custom fields are `cf_<name>` on forms (crm/customfields/forms.py)
            name = "cf_" + name.removeprefix("custom.")
        form.add_error(name if name in form.fields else None, errors)


def safe_next(request, fallback: str) -> str:
    """Where to go back to after a POST: the `next` parameter when it is a path on this site,
    else `fallback` (never an open redirect to another host)."""
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.POST.get("next") or request.GET.get("next") or ""
    if target.startswith("/") and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback
