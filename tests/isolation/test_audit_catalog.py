"""Kept for ever: every tenant model has a change history, unless listed below with the reason it
needs none, and every history table is as private and as secret-free as the data it describes.
A model added by a later issue is checked without anyone remembering to."""

import pytest
from django.conf import settings
from django.db import connection
from pghistory.models import Event

from crm.audit.history import TenantEvent, event_model_of, is_secret_field
from crm.tenancy import rls

pytestmark = pytest.mark.django_db

# Tenant models without a change history, by label, each with the reason. Grow it only with one.
NOT_TRACKED = {
    "audit.securityevent": "an append-only log of security facts itself; its history would be a copy of it",
    "outbox.outboxmessage": "transport queue, not business data",
    "customfields.customvalue": "a derived, filterable copy of the record's `custom` column, whose history covers it",
    "lists.recentview": "which records a person opened, upserted on every record page: a log of reads, not business data",
    "lists.exportjob": "a transient job (status, progress, file name) that expires after a day",
    "lists.trashbatch": "the snapshot behind Undo of a bulk delete; the deletes and restores are in the records' own history",
    "access.roleclosure": "derived from the role tree (UserRole, tracked) by crm.access.maintenance",
    "access.groupuser": "derived from groups, their members and roles (all tracked) by crm.access.maintenance",
    "access.share": "manual shares are in the security log; rule, team and collaboration rows derive from tracked "
                    "SharingRule/TeamMember/CollaborationMember (a criteria rule writes up to 100,000s of rows)",
    "access.rulebacklog": "a work queue of record ids for a calculating rule's job, emptied by it; the records' own "
                          "history says what changed",
}

EVENT_MODELS = [m for m in rls.tenant_models() if issubclass(m, Event)]
RECORD_MODELS = [m for m in rls.tenant_models() if not issubclass(m, Event)]


def fetch(sql, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchall()


def test_there_are_histories_to_check():
    assert {"tenancy_membershipevent", "tenancy_invitationevent", "tenancy_apitokenevent"} <= {
        m._meta.db_table for m in EVENT_MODELS
    }


@pytest.mark.parametrize("model", RECORD_MODELS, ids=lambda m: m._meta.label_lower)
def test_every_tenant_model_keeps_a_history_of_inserts_updates_and_deletes(model):
    if model._meta.label_lower in NOT_TRACKED:
        pytest.skip(NOT_TRACKED[model._meta.label_lower])
    trackers = getattr(model, "pgh_event_models", {})
    assert {"insert", "update", "delete"} <= set(trackers), (
        f"{model._meta.label} has no change history: decorate it with crm.audit.history.track(), "
        "or list it in NOT_TRACKED with the reason"
    )
    assert issubclass(event_model_of(model), TenantEvent), "track it with crm.audit.history.track()"


@pytest.mark.parametrize("model", RECORD_MODELS, ids=lambda m: m._meta.db_table)
def test_the_history_triggers_are_installed_in_the_database(model):
    if model._meta.label_lower in NOT_TRACKED:
        pytest.skip(NOT_TRACKED[model._meta.label_lower])
    rows = fetch(
        """
        SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
        WHERE c.relname = %s AND NOT t.tgisinternal AND t.tgenabled <> 'D'
        """,
        [model._meta.db_table],
    )
    names = " ".join(name for (name,) in rows)
    for label in ("insert", "update", "delete"):
        assert f"pgtrigger_{label}_{label}_" in names, f"{model._meta.db_table}: no {label} history trigger (migrate)"


@pytest.mark.parametrize("model", EVENT_MODELS, ids=lambda m: m._meta.db_table)
def test_history_is_kept_on_the_tenants_own_rows(model):
    """Who and through what live on the event row, under its tenant's RLS (rls.py puts every table
    with a tenant under it; test_rls_catalog.py checks the policy and the indexes)."""
    assert not model._meta.get_field("tenant").null
    context = model._meta.get_field("pgh_context")
    assert not context.is_relation, "context must be a JSON column on the event, not the global table"


@pytest.mark.parametrize("model", EVENT_MODELS, ids=lambda m: m._meta.db_table)
def test_no_history_column_holds_a_secret(model):
    columns = [c for (c,) in fetch(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s", [model._meta.db_table]
    )]
    assert columns, model._meta.db_table
    assert [c for c in columns if is_secret_field(c)] == []


@pytest.mark.parametrize("model", EVENT_MODELS, ids=lambda m: m._meta.db_table)
def test_history_is_append_only(model):
    rows = fetch(
        """
        SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
        WHERE c.relname = %s AND NOT t.tgisinternal AND t.tgenabled <> 'D'
        """,
        [model._meta.db_table],
    )
    assert any(name.startswith("pgtrigger_append_only_") for (name,) in rows)


@pytest.mark.parametrize("model", EVENT_MODELS, ids=lambda m: m._meta.db_table)
def test_the_application_cannot_rewrite_history(model):
    """Even with the append-only trigger switched off (pgtrigger.ignore is a session setting the
    app role may set), the app role holds no UPDATE or DELETE on a history table."""
    role = settings.DATABASE_APP_ROLE
    table = model._meta.db_table
    assert fetch("SELECT has_table_privilege(%s, %s, 'UPDATE'), has_table_privilege(%s, %s, 'DELETE'), "
                 "has_table_privilege(%s, %s, 'INSERT')", [role, table] * 3) == [(False, False, True)]


def test_the_global_history_context_table_stays_empty(acme):
    """pghistory's own context table has no tenant and no RLS: nothing may ever be written there."""
    from crm.audit.history import history_source
    from crm.tenancy import services
    from crm.tenancy.context import tenant_context
    from crm.tenancy.models import Role

    with tenant_context(acme.tenant), history_source("page", actor=acme.admin):
        services.membership_change_role(actor=acme.admin, membership=acme.rep, role=Role.MANAGER)
        assert fetch("SELECT count(*) FROM tenancy_membershipevent WHERE pgh_context IS NOT NULL")[0][0] > 0
    assert fetch("SELECT count(*) FROM pghistory_context") == [(0,)]


def test_the_history_middleware_runs_first_inside_the_tenant_transaction():
    """Inside: the context must be set in the request's transaction. First: so nothing a later
    middleware writes goes unattributed."""
    middleware = settings.MIDDLEWARE
    tenant = middleware.index("crm.tenancy.middleware.TenantMiddleware")
    assert middleware[tenant + 1] == "crm.audit.middleware.HistoryContextMiddleware"
