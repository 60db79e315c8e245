import pytest

from accounts.models import Account
from crm.access.policy import can, visible
from crm.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db


def make_account(company, owner, name):
    with tenant_context(company.tenant):
        return Account.objects.create(tenant=company.tenant, name=name, owner=owner)


def names_seen(company, actor):
    with tenant_context(company.tenant):
        return set(visible(Account.objects.all(), actor).values_list("name", flat=True))


def test_a_rep_sees_only_their_own_accounts(acme):
    make_account(acme, acme.rep, "Rita's")
    make_account(acme, acme.rep2, "Ravi's")
    assert names_seen(acme, acme.rep) == {"Rita's"}


def test_a_manager_sees_what_their_team_owns_but_not_other_teams(acme):
    make_account(acme, acme.rep, "Rita's")
    make_account(acme, acme.rep2, "Ravi's")
    make_account(acme, acme.agent, "Alex's")
    assert names_seen(acme, acme.manager) == {"Rita's", "Ravi's"}


def test_an_admin_sees_everything_in_the_tenant_and_nothing_elsewhere(acme, globex):
    make_account(acme, acme.rep, "Rita's")
    make_account(globex, globex.rep, "Globex's")
    assert names_seen(acme, acme.admin) == {"Rita's"}


def test_can_follows_the_same_rules(acme):
    ravis = make_account(acme, acme.rep2, "Ravi's")
    with tenant_context(acme.tenant):
        assert not can(acme.rep, "edit", ravis)
        assert can(acme.manager, "edit", ravis)
        assert can(acme.admin, "edit", ravis)
