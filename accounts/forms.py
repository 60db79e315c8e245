"""Forms of the account pages: shapes only; the rules are the services'."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import fields_for_model

from crm.access import fields as field_security
from crm.access import policy
from crm.customfields.forms import PREFIX as CUSTOM_PREFIX
from crm.customfields.forms import add_custom_fields, custom_data
from crm.tenancy.search import key_value
from crm.web.forms import apply_service_errors

from . import selectors
from .models import Account

FORM_FIELDS = [
    "name", "kind", "type", "status", "rating", "industry", "source", "owner",
    "website", "phone", "employees", "annual_revenue", "currency",
    "billing_street", "billing_postal_code", "billing_city", "billing_region", "billing_country",
    "shipping_street", "shipping_postal_code", "shipping_city", "shipping_region", "shipping_country",
    "description",
]


def _member_label(m) -> str:
    return m.user.full_name or m.user.email


class AccountForm(forms.Form):
    """Create and edit. The parent is named (exactly, case-blind) rather than picked from a list
    that could hold a million accounts."""

    parent_name = forms.CharField(label="Parent account", required=False, max_length=200,
                                  help_text="The exact name of the account this one belongs to.")
    tags = forms.CharField(label="Tags", required=False, max_length=500, help_text="Separated by commas.")

    def __init__(self, *args, actor, account: Account | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.account = account
        owners = selectors.assignable_owners(actor=actor)
        if account is not None:
            owners = owners | type(actor).objects.for_tenant(actor.tenant).filter(pk=account.owner_id)
        self.fields["owner"].queryset = owners.distinct()
        self.fields["owner"].label_from_instance = _member_label
        self.fields["owner"].required = False
        self.fields["owner"].empty_label = "Me"
        self.fields["website"].widget.attrs.update({"inputmode": "url", "placeholder": "example.com"})
        self.fields["phone"].widget.attrs.update({"inputmode": "tel", "placeholder": "+49 30 123456"})
        self.fields["description"].widget.attrs["rows"] = 3
        self.fields["phone"].help_text = "With + and the country code, or a number in the billing country."
        add_custom_fields(self, actor.tenant, "accounts", account.custom if account is not None else None)
        for name in ("rating", "industry", "source", "billing_country", "shipping_country"):
            field = self.fields[name]
            field.choices = [("", "—"), *[c for c in field.choices if c[0] != ""]]
        # field-level security: hidden fields are not on the form, read-only ones are disabled
        # (a disabled field keeps its initial value whatever is posted; the services' guard is
        # the second line). The parent is the form's `parent_name`.
        field_security.restrict_form(self, actor, "accounts", custom_prefix=CUSTOM_PREFIX)
        parent_access = field_security.access(actor, "accounts", "parent")
        if parent_access == "hidden":
            del self.fields["parent_name"]
        elif parent_access == "read_only":
            self.fields["parent_name"].disabled = True
            self.fields["parent_name"].help_text = "Read only for you."

    def clean_parent_name(self):
        name = self.cleaned_data["parent_name"].strip()
        if not name:
            return None
        qs = policy.visible(Account.objects.for_tenant(self.actor.tenant), self.actor, "read")
        found = list(qs.filter(name_key=key_value(name)).order_by("id")[:2])
        if not found:
            raise ValidationError("No account you can see has this name.")
        if len(found) > 1:
            raise ValidationError("Several accounts have this name; rename one first.")
        return found[0]

    def clean_tags(self):
        return [t.strip() for t in self.cleaned_data["tags"].split(",") if t.strip()]

    def custom_fields(self) -> list:
        return [self[CUSTOM_PREFIX + spec.name] for spec in getattr(self, "custom_specs", [])
                if CUSTOM_PREFIX + spec.name in self.fields]

    def service_fields(self) -> dict:
        """What the services get: the fields the person may change (hidden ones are not on the
        form, read-only ones are left out: they keep their value)."""
        changeable = {name for name, field in self.fields.items() if not field.disabled}
        data = {k: v for k, v in self.cleaned_data.items() if not k.startswith(CUSTOM_PREFIX) and k in changeable}
        data["custom"] = {name: value for name, value in custom_data(self).items()
                          if CUSTOM_PREFIX + name in changeable}
        if "parent_name" in data:
            data["parent"] = data.pop("parent_name")
        if data.get("owner") is None:
            data.pop("owner", None)
        return data

    def add_service_error(self, exc: ValidationError) -> None:
        apply_service_errors(self, exc, field_map={"parent": "parent_name"})


_model_fields = fields_for_model(Account, fields=FORM_FIELDS, field_classes={"website": forms.CharField})
AccountForm.base_fields = {**{k: _model_fields[k] for k in FORM_FIELDS if k != "description"},
                           "parent_name": AccountForm.base_fields["parent_name"],
                           "tags": AccountForm.base_fields["tags"],
                           "description": _model_fields["description"]}
