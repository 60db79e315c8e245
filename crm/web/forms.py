"""Form helpers every app's pages share."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError


def apply_service_errors(form: forms.Form, exc: ValidationError, *, field_map: dict | None = None) -> None:
    """A service's ValidationError onto the form, next to the fields it names.

    `field_map` renames service fields to form fields (e.g. {"parent": "parent_name"}); errors for
    fields the form does not have, and errors without a field, become form-level errors.
    """
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for name, errors in exc.error_dict.items():
        name = (field_map or {}).get(name, name)
        form.add_error(name if name in form.fields else None, errors)
