"""Field-level security, the core: effective access from profile + permission sets, derived fields,
guard() refusing changes, strip() and forms."""

from __future__ import annotations

import pytest
from django import forms
from django.core.exceptions import ValidationError

from accounts.models import Account
from crm.access import engine, fields, services
from crm.access.models import MemberPermissionSet, PermissionSet
from crm.access.tests.helpers import restrict_fields as _restrict
from crm.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db



def test_profile_restrictions_and_derived_fields(acme):
    _restrict(acme, {("accounts", "annual_revenue"): "hidden", ("accounts", "website"): "hidden",
                     ("accounts", "phone"): "read_only"})
    with tenant_context(acme.tenant):
        assert fields.hidden(acme.rep, "accounts") == {"annual_revenue", "website", "domain"}
        assert fields.read_only(acme.rep, "accounts") == {"phone"}
        assert fields.access(acme.rep, "accounts", "domain") == "hidden"
        # another profile is untouched
        assert fields.hidden(acme.manager, "accounts") == frozenset()
        vis = fields.Visibility(acme.rep, "accounts")
        assert not vis.annual_revenue and vis.name and vis.phone and not vis.editable.phone


def test_a_permission_set_lifts_a_profile_restriction(acme):
    _restrict(acme, {("accounts", "annual_revenue"): "hidden", ("accounts", "employees"): "hidden"})
    with tenant_context(acme.tenant):
        grant = services.permission_set_save(actor=acme.admin, name="Finance view",
                                             fields={("accounts", "annual_revenue"): "read_only"})
        MemberPermissionSet.objects.create(tenant=acme.tenant, membership=acme.rep, permission_set=grant)
        engine.forget(acme.rep)
        assert fields.hidden(acme.rep, "accounts") == {"employees"}
        assert fields.read_only(acme.rep, "accounts") == {"annual_revenue"}
        # a set naming a field the profile does not restrict changes nothing
        assert PermissionSet.objects.filter(tenant=acme.tenant, name="Finance view").exists()


def test_guard_refuses_changes_and_lets_unchanged_values_through(acme):
    _restrict(acme, {("accounts", "annual_revenue"): "read_only", ("accounts", "rating"): "hidden"})
    with tenant_context(acme.tenant):
        account = Account.objects.create(tenant=acme.tenant, name="Initech", owner=acme.rep, annual_revenue=10)
        fields.guard(acme.rep, "accounts", {"annual_revenue": 10, "name": "Initech 2"}, record=account)
        with pytest.raises(ValidationError) as exc:
            fields.guard(acme.rep, "accounts", {"annual_revenue": 11}, record=account)
        assert exc.value.message_dict == {"annual_revenue": ["This field is read only for you."]}
        with pytest.raises(ValidationError) as exc:
            fields.guard(acme.rep, "accounts", {"rating": "hot"}, record=None)
        assert "rating" in exc.value.message_dict
        fields.guard(acme.rep, "accounts", {"rating": "", "annual_revenue": None}, record=None)
        # the admin is not restricted
        fields.guard(acme.admin, "accounts", {"annual_revenue": 99}, record=account)


def test_custom_fields_are_restricted_by_cf_name(acme):
    _restrict(acme, {("accounts", "cf_tier"): "hidden", ("accounts", "cf_score"): "read_only"})
    with tenant_context(acme.tenant):
        account = Account.objects.create(tenant=acme.tenant, name="Initech", owner=acme.rep,
                                         custom={"tier": "gold", "score": 3})
        out = fields.strip(acme.rep, "accounts", {"name": "x", "custom": {"tier": "gold", "score": 3}})
        assert out == {"name": "x", "custom": {"score": 3}}
        with pytest.raises(ValidationError) as exc:
            fields.guard(acme.rep, "accounts", {"custom": {"score": 4}}, record=account)
        assert "custom.score" in exc.value.message_dict
        fields.guard(acme.rep, "accounts", {"custom": {"score": 3}}, record=account)


def test_restrict_form_drops_hidden_and_disables_read_only(acme):
    _restrict(acme, {("accounts", "annual_revenue"): "hidden", ("accounts", "phone"): "read_only"})

    class F(forms.Form):
        name = forms.CharField()
        phone = forms.CharField(required=True)
        annual_revenue = forms.IntegerField(required=False)

    with tenant_context(acme.tenant):
        form = F({"name": "a", "phone": "posted", "annual_revenue": "5"}, initial={"phone": "+1"})
        fields.restrict_form(form, acme.rep, "accounts")
        assert "annual_revenue" not in form.fields
        assert form.is_valid() and form.cleaned_data == {"name": "a", "phone": "+1"}


def test_securable_lists_model_and_custom_fields_but_not_identity_or_owner(acme):
    names = [n for n, _ in fields.securable("accounts")]
    assert "annual_revenue" in names and "tags" in names
    assert not {"name", "owner", "id", "domain", "created_by"} & set(names)
    contact_names = [n for n, _ in fields.securable("contacts")]
    assert "email" in contact_names and "account" not in contact_names and "last_name" not in contact_names
