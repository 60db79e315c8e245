"""The history triggers fire once per statement (a 20,000-row import chunk is one trigger call, not
20,000), and never write to pghistory's global context table. What they record is checked where
people see it (accounts/tests/test_history_bulk.py, crm/imports/tests/test_history.py)."""

import pytest
from django.db import connection

from crm.audit.history import event_model_of
from crm.tenancy import rls

pytestmark = pytest.mark.django_db

TRACKED = [m for m in rls.tenant_models() if event_model_of(m) is not None]


def history_triggers(table):
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT t.tgname, (t.tgtype & 1) = 1 AS per_row, pg_get_functiondef(t.tgfoid)
            FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
            WHERE c.relname = %s AND NOT t.tgisinternal AND t.tgname ~ '^pgtrigger_(insert|update|delete)_'
            """,
            [table],
        )
        return cursor.fetchall()


def test_there_are_tracked_tables_to_check():
    assert {"accounts_account", "contacts_contact", "tenancy_membership"} <= {m._meta.db_table for m in TRACKED}


@pytest.mark.parametrize("model", TRACKED, ids=lambda m: m._meta.db_table)
def test_history_triggers_fire_once_per_statement_and_keep_the_context_on_the_event(model):
    triggers = history_triggers(model._meta.db_table)
    assert len(triggers) == 3, "migrate"
    for name, per_row, body in triggers:
        assert not per_row, f"{name} is a row-level trigger: track the model with crm.audit.history.track()"
        assert "_pgh_attach_context" not in body, f"{name} writes to the global pghistory_context table"
        assert "pghistory.context_metadata" in body
