"""An import writes in bulk (COPY into a stage, then INSERT … SELECT / UPDATE … FROM): the rows it
creates or changes are re-evaluated against the criteria sharing rules in the same statement, by the
table's trigger (crm/access/maintenance.py), like every other write."""

import pytest

from accounts.models import Account
from crm.access import engine, services
from crm.tenancy.context import tenant_context
from crm.tenancy.models import Membership

from .conftest import csv_file

pytestmark = pytest.mark.django_db


def test_imported_accounts_are_shared_by_a_criteria_rule_at_once(acme, run_import):
    with tenant_context(acme.tenant):
        desk = services.group_save(actor=acme.admin, name="Industry desk", members=[("user", acme.agent)])
        services.rule_save(actor=acme.admin, object="accounts", name="Manufacturing", kind="criteria",
                           criteria=[{"field": "industry", "op": "eq", "value": "manufacturing"}], target_group=desk)
    text = "Name,Industry\nSteelworks,manufacturing\nBookshop,retail\n"
    job = run_import(acme.rep, "accounts", csv_file(text), mapping={"Name": "name", "Industry": "industry"})
    assert job.status == "done", (job.message, job.errors)
    with tenant_context(acme.tenant):
        agent = Membership.objects.get(pk=acme.agent.pk)
        assert set(engine.visible(Account.objects.all(), agent).values_list("name", flat=True)) == {"Steelworks"}
