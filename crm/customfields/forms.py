"""Custom fields on the pages' forms: each active field becomes a form field `cf_<name>`, checked
by the same `values.coerce` as the API and imports.

    class AccountForm(forms.Form):
        def __init__(self, *args, actor, account=None, **kwargs):
            super().__init__(*args, **kwargs)
            self.custom_specs = add_custom_fields(self, actor.tenant, "accounts",
                                                  account.custom if account else None)
    …
    services.account_create(actor=actor, custom=custom_data(form), …)

Templates render `{% include "customfields/_form_fields.html" %}` (the fields under one legend).
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils.html import escape

from . import services, values
from .models import FieldType

PREFIX = "cf_"


class CustomValueField(forms.Field):
    def __init__(self, spec: values.Spec, **kwargs):
        self.spec = spec
        super().__init__(**kwargs)

    def to_python(self, value):
        try:
            return values.coerce(self.spec, value)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None

    def validate(self, value):
        if self.required and values.is_empty(value):
            raise forms.ValidationError(f"{self.spec.label} is required.")


class CustomChoicesField(forms.MultipleChoiceField):
    def __init__(self, spec: values.Spec, **kwargs):
        self.spec = spec
        super().__init__(choices=[(o, o) for o in spec.options], **kwargs)

    def clean(self, value):
        return super().clean(value) or None


def form_field(spec: values.Spec) -> forms.Field:
    common = {"label": spec.label, "required": spec.required, "help_text": escape(spec.help_text)}
    kind = spec.type
    if kind == FieldType.MULTI_PICKLIST:
        return CustomChoicesField(spec, widget=forms.CheckboxSelectMultiple, **common)
    if kind == FieldType.CHECKBOX:
        common["required"] = False  # "required" for a yes/no would force yes
        return CustomValueField(spec, widget=forms.CheckboxInput, **common)
    widgets = {
        FieldType.TEXT: forms.TextInput(attrs={"maxlength": values.MAX_TEXT}),
        FieldType.LONG_TEXT: forms.Textarea(attrs={"rows": 3}),
        FieldType.NUMBER: forms.TextInput(attrs={"inputmode": "decimal"}),
        FieldType.CURRENCY: forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "0.00"}),
        FieldType.DATE: forms.DateInput(attrs={"type": "date"}),
        FieldType.URL: forms.URLInput(attrs={"placeholder": "https://"}),
        FieldType.EMAIL: forms.EmailInput(),
        FieldType.PICKLIST: forms.Select(choices=[("", "—"), *[(o, o) for o in spec.options]]),
    }
    return CustomValueField(spec, widget=widgets[kind], **common)


def _initial(spec: values.Spec, value):
    if value is None:
        return None
    if spec.type == FieldType.DATE:
        try:
            return dt.date.fromisoformat(value)
        except (TypeError, ValueError):
            return None
    return value


def add_custom_fields(form: forms.Form, tenant, object_key: str, custom: dict | None) -> list[values.Spec]:
    """Add the object's active custom fields to `form` (initial values from `custom`, or the
    fields' defaults for a new record). Returns the specs (kept on the form as `custom_specs`)."""
    specs = services.specs(tenant, object_key)
    creating = custom is None
    for spec in specs:
        field = form_field(spec)
        value = (custom or {}).get(spec.name) if not creating else spec.default
        field.initial = _initial(spec, value)
        form.fields[PREFIX + spec.name] = field
    form.custom_specs = specs
    return specs


def custom_data(form: forms.Form) -> dict:
    """The custom values of a valid form, by field name (empty ones as None: they are cleared)."""
    return {spec.name: form.cleaned_data.get(PREFIX + spec.name) for spec in getattr(form, "custom_specs", [])}


def custom_bound_fields(form: forms.Form) -> list:
    return [form[PREFIX + spec.name] for spec in getattr(form, "custom_specs", [])]

