"""`why` and `who` against the engine, on the random worlds of the differential test: for every
member and record, `why` is non-empty iff the engine lets them read it, its highest level is the
engine's level, and `who` lists exactly the readers with the same reasons."""

from __future__ import annotations

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings

from accounts.models import Account
from crm.access import defaults, engine, explain, registry, services
from crm.access.models import Level
from crm.tenancy.context import tenant_context
from crm.tenancy.models import Membership

from .test_differential import Built, worlds

pytestmark = pytest.mark.django_db


def agree(built):
    records = [*built.accounts, *built.contacts]
    for record in records:
        key = registry.for_model(type(record)).key
        fresh = type(record).objects.get(pk=record.pk)
        readers = {m.pk: (level, reasons) for m, level, reasons in explain.who(fresh)}
        for member in built.members:
            actor = Membership.objects.get(pk=member.pk)
            reasons = explain.why(actor, fresh)
            can = engine.can(actor, "read", fresh)
            assert bool(reasons) == can, (key, reasons, built.spec)
            if can:
                level = engine.level_of(engine.context(actor), key, fresh)
                assert max(r.level for r in reasons) == level, (key, reasons, level, built.spec)
                assert readers[member.pk] == (level, reasons)
            else:
                assert member.pk not in readers


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(spec=worlds())
def test_why_and_who_agree_with_the_engine(acme, spec):
    with tenant_context(acme.tenant):
        defaults.setup_tenant(acme.tenant.pk)
        with transaction.atomic():
            built = Built(acme, spec)
            agree(built)
            for change in spec["changes"]:
                built.change(change)
                agree(built)
            transaction.set_rollback(True)


def test_why_names_each_path(acme):
    with tenant_context(acme.tenant):
        defaults.setup_tenant(acme.tenant.pk)
        account = Account.objects.create(tenant=acme.tenant, name="Initech", owner=acme.rep2)
        assert explain.why(Membership.objects.get(pk=acme.rep.pk), account) == []
        services.share_create(actor=acme.admin, record=account, grantee=acme.rep, access=Level.EDIT)
        services.team_member_set(actor=acme.admin, record=account, membership=acme.rep, team_role="Sponsor",
                                 access=Level.READ)
        reasons = explain.why(Membership.objects.get(pk=acme.rep.pk), account)
        assert [(r.kind, r.level) for r in reasons] == [("manual", 2), ("team", 1)]
        assert "Sponsor" in reasons[1].text
        owner_reasons = explain.why(Membership.objects.get(pk=acme.rep2.pk), account)
        assert ("owner", 2) in [(r.kind, r.level) for r in owner_reasons]
