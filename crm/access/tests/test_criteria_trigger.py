"""A criteria rule's share rows follow every write of the records, whatever path made it: the
service behind the form and the API, a bulk action, a plain QuerySet.update, an import's
INSERT … SELECT. The database does it (crm/access/maintenance.py, TRIGGER_FUNCTION), in the writing
statement, so no path can forget it; the differential test (test_differential.py) checks the same
against the reference after random changes."""

import pytest

from accounts import services as accounts
from accounts.models import Account
from contacts.tests.factories import AccountFactory
from crm.access import engine, services
from crm.access.models import Share, SharingRule
from crm.lists import services as lists
from crm.tenancy.context import tenant_context
from crm.tenancy.models import Membership

pytestmark = pytest.mark.django_db


def _rule(acme):
    """Manufacturing accounts are shared (read) with a group holding only the agent."""
    group = services.group_save(actor=acme.admin, name="Industry desk", members=[("user", acme.agent)])
    return services.rule_save(actor=acme.admin, object="accounts", name="Manufacturing", kind="criteria",
                              criteria=[{"field": "industry", "op": "eq", "value": "manufacturing"}],
                              target_group=group)


def _agent_sees(acme) -> set[str]:
    agent = Membership.objects.get(pk=acme.agent.pk)  # a fresh access context
    return set(engine.visible(Account.objects.all(), agent).values_list("name", flat=True))


def test_the_service_and_a_plain_update_share_and_unshare(acme):
    with tenant_context(acme.tenant):
        _rule(acme)
        mill = accounts.account_create(actor=acme.rep, name="Mill", industry="manufacturing")
        shop = accounts.account_create(actor=acme.rep, name="Shop", industry="retail")
        assert _agent_sees(acme) == {"Mill"}

        accounts.account_update(actor=acme.rep, account=shop, industry="manufacturing")
        assert _agent_sees(acme) == {"Mill", "Shop"}
        # a write that leaves the tested column alone re-evaluates nothing and keeps the row
        accounts.account_update(actor=acme.rep, account=shop, phone="+44 20 7946 0000")
        assert _agent_sees(acme) == {"Mill", "Shop"}

        # no longer matching: the access goes with it (never more than configured)
        Account.objects.filter(pk=mill.pk).update(industry="retail")
        assert _agent_sees(acme) == {"Shop"}
        assert Share.objects.filter(record_id=mill.pk).count() == 0


def test_a_bulk_owner_change_reevaluates_a_rule_on_the_owner(acme):
    with tenant_context(acme.tenant):
        group = services.group_save(actor=acme.admin, name="Rep two's desk", members=[("user", acme.agent)])
        services.rule_save(actor=acme.admin, object="accounts", name="Rep two's", kind="criteria",
                           criteria=[{"field": "owner", "op": "eq", "value": str(acme.rep2.pk)}], target_group=group)
        rows = [AccountFactory(tenant=acme.tenant, owner=acme.rep, name=n) for n in ("North", "South")]
        assert _agent_sees(acme) == set()
        lists.bulk_change_owner(actor=acme.admin, object="accounts", ids=[a.pk for a in rows], owner=acme.rep2)
        assert _agent_sees(acme) == {"North", "South"}


def test_writes_during_a_calculation_wait_in_the_backlog_for_the_job(acme):
    from crm.access import tasks
    from crm.access.models import RuleBacklog

    with tenant_context(acme.tenant):
        group = services.group_save(actor=acme.admin, name="Industry desk", members=[("user", acme.agent)])
        mill = accounts.account_create(actor=acme.rep, name="Mill", industry="manufacturing")
        rule = services.rule_save(actor=acme.admin, object="accounts", name="Manufacturing", kind="criteria",
                                  criteria=[{"field": "industry", "op": "eq", "value": "manufacturing"}],
                                  target_group=group, run_inline=False)  # as a rule over 200,000 records
        assert rule.status == "calculating"
        # written while the job would be running: noted, not shared (the rule grants nothing yet)
        forge = accounts.account_create(actor=acme.rep, name="Forge", industry="manufacturing")
        accounts.account_update(actor=acme.rep, account=mill, industry="retail")
        assert _agent_sees(acme) == set()
        assert set(RuleBacklog.objects.values_list("record_id", flat=True)) == {forge.pk, mill.pk}

    tasks.calculate_rule(tenant_id=str(acme.tenant.pk), rule_id=str(rule.pk))
    with tenant_context(acme.tenant):
        assert SharingRule.objects.get(pk=rule.pk).status == "active"
        assert not RuleBacklog.objects.exists()
        assert _agent_sees(acme) == {"Forge"}
        # from now on the trigger shares directly
        accounts.account_update(actor=acme.rep, account=mill, industry="manufacturing")
        assert _agent_sees(acme) == {"Forge", "Mill"} and not RuleBacklog.objects.exists()


def test_the_compiled_sql_binds_values_never_pastes_them(acme):
    with tenant_context(acme.tenant):
        group = services.group_save(actor=acme.admin, name="Quotes", members=[("user", acme.agent)])
        rule = services.rule_save(actor=acme.admin, object="accounts", name="Odd name", kind="criteria",
                                  criteria=[{"field": "billing_city", "op": "eq", "value": "O'Hare'); DROP TABLE x;--"}],
                                  target_group=group)
        assert "'O''Hare''); DROP TABLE x;--'" in rule.match_sql
        accounts.account_create(actor=acme.rep, name="Airport", billing_city="O'Hare'); DROP TABLE x;--")
        assert _agent_sees(acme) == {"Airport"}


def test_the_job_writes_in_steps_and_the_rules_page_shows_its_progress(acme, client_as, monkeypatch):
    """A rule's job reports after each step; the rules page shows the running percentage (the rule
    row itself only changes at the job's commit)."""
    from crm.access import maintenance, tasks
    from crm.tenancy.cache import tenant_cache

    monkeypatch.setattr(maintenance, "RULE_STEP", 2)
    with tenant_context(acme.tenant):
        group = services.group_save(actor=acme.admin, name="Industry desk", members=[("user", acme.agent)])
        for n in range(5):
            AccountFactory(tenant=acme.tenant, owner=acme.rep, name=f"Mill {n}", industry="manufacturing")
        rule = services.rule_save(actor=acme.admin, object="accounts", name="Manufacturing", kind="criteria",
                                  criteria=[{"field": "industry", "op": "eq", "value": "manufacturing"}],
                                  target_group=group, run_inline=False)
    seen = []
    real = maintenance.apply_rule_in_steps

    def watched(rule, progress):
        return real(rule, lambda percent: (seen.append(percent), progress(percent)))

    monkeypatch.setattr(maintenance, "apply_rule_in_steps", watched)
    assert tasks.calculate_rule(tenant_id=str(acme.tenant.pk), rule_id=str(rule.pk)) == 5
    assert seen == [40, 80, 99]
    with tenant_context(acme.tenant):
        assert len(_agent_sees(acme)) == 5
        # a rule still calculating: the page shows the job's figure from the cache
        SharingRule.objects.filter(pk=rule.pk).update(status="calculating", progress=0)
        tenant_cache.set(maintenance.rule_progress_key(rule.pk), 60)
    page = client_as(acme.admin).get("/settings/access/sharing-rules/").content.decode()
    assert "Calculating" in page and 'value="60"' in page
