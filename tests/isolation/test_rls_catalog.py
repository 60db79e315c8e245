"""Kept for ever: every tenant table is under forced row-level security, and the known ways
around it are closed. These read PostgreSQL's catalog, so a table added by any later issue is
checked without anyone remembering to."""

import pytest
from django.conf import settings
from django.db import connection

from crm.tenancy import rls

pytestmark = pytest.mark.django_db


def fetch(sql, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchall()


def test_there_are_tenant_tables_to_check():
    tables = {m._meta.db_table for m in rls.tenant_models()}
    assert {"tenancy_membership", "tenancy_apitoken", "audit_securityevent"} <= tables


@pytest.mark.parametrize("model", rls.tenant_models(), ids=lambda m: m._meta.db_table)
def test_tenant_table_has_forced_rls_and_the_tenant_policy(model):
    table = model._meta.db_table
    [(enabled, forced)] = fetch(
        "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = %s", [table]
    )
    assert enabled and forced, f"{table}: RLS must be ENABLED and FORCED"
    policies = dict(fetch("SELECT policyname, qual FROM pg_policies WHERE tablename = %s", [table]))
    assert rls.POLICY in policies, f"{table} has no {rls.POLICY} policy"
    assert "current_setting('app.tenant_id'" in policies[rls.POLICY]
    assert "NULLIF" in policies[rls.POLICY], "an empty setting must mean no rows, not an error"


@pytest.mark.parametrize("model", rls.tenant_models(), ids=lambda m: m._meta.db_table)
def test_tenant_column_is_not_null(model):
    [(nullable,)] = fetch(
        "SELECT is_nullable FROM information_schema.columns WHERE table_name = %s AND column_name = 'tenant_id'",
        [model._meta.db_table],
    )
    assert nullable == "NO"


@pytest.mark.parametrize("model", rls.tenant_models(), ids=lambda m: m._meta.db_table)
def test_every_index_and_unique_constraint_leads_with_tenant(model):
    table = model._meta.db_table
    rows = fetch(
        """
        SELECT i.relname, a.attname, ix.indisprimary
        FROM pg_index ix
        JOIN pg_class t ON t.oid = ix.indrelid
        JOIN pg_class i ON i.oid = ix.indexrelid
        LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ix.indkey[0]
        WHERE t.relname = %s
        """,
        [table],
    )
    allowed = {"membership_user_idx"}  # the user's own memberships across tenants, see models.py
    for index, first_column, primary in rows:
        if primary or index in allowed:
            continue  # the UUIDv7 key; see ARCHITECTURE.md "Moving to Citus"
        assert first_column == "tenant_id", f"{table}.{index} must lead with tenant_id"


@pytest.mark.parametrize("model", rls.tenant_models(), ids=lambda m: m._meta.db_table)
def test_references_between_tenant_tables_include_the_tenant(model):
    for field, _target in rls.tenant_references(model):
        name = rls.composite_fk_name(model, field)
        rows = fetch("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = %s", [name])
        assert rows, f"{model._meta.db_table}.{field.column} needs a composite (tenant_id, …) foreign key"
        assert rows[0][0].startswith("FOREIGN KEY (tenant_id, ")


def test_the_application_role_cannot_bypass_rls():
    [(user, superuser, bypass)] = fetch(
        "SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
    )
    assert user == settings.DATABASE_APP_ROLE
    assert not superuser and not bypass


def test_the_application_role_owns_no_table_view_or_function():
    owned = fetch(
        """
        SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND pg_get_userbyid(c.relowner) = current_user
        UNION ALL
        SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'public' AND pg_get_userbyid(p.proowner) = current_user
        """
    )
    assert owned == []


def test_the_application_role_has_a_statement_timeout():
    [(timeout,)] = fetch("SHOW statement_timeout")
    assert timeout not in ("0", "0ms")


def test_every_view_is_security_invoker():
    views = fetch(
        """
        SELECT c.relname, coalesce(array_to_string(c.reloptions, ','), '')
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind = 'v' AND n.nspname = 'public'
        """
    )
    for name, options in views:
        assert "security_invoker=true" in options or "security_invoker=on" in options, name


def test_there_are_no_materialized_views():
    assert fetch("SELECT matviewname FROM pg_matviews WHERE schemaname = 'public'") == []


# SECURITY DEFINER functions run with their owner's rights and skip RLS. None may exist unless it
# re-applies the tenant filter itself; list such a function here with the reason it is safe.
REVIEWED_SECURITY_DEFINER: dict[str, str] = {
    "outbox_due_messages": (
        "the outbox relay runs in no tenant; it returns only (tenant_id, id) of due messages, no content, "
        "and every claim and send then happens inside that tenant under RLS (crm/outbox/migrations/0002)"
    ),
    "crm_search_accounts": (
        "global search: owned by the NOLOGIN BYPASSRLS crm_search (SELECT on the searched columns only) so the "
        "trigram/full-text indexes work under FORCEd RLS; reads the tenant from app.tenant_id itself (unset: no "
        "rows), filters every branch by it, returns capped (id, score) only; the caller fetches rows by id under "
        "RLS through visible() (crm/search/migrations/0001, crm/search/tests/test_search_function.py)"
    ),
    "crm_search_contacts": "global search over contacts: the same as crm_search_accounts (crm/search/migrations/0001)",
    "contacts_erase_history": (
        "GDPR erasure's one way to change history: blanks the personal columns of the event rows of a contact whose "
        "erased_at is set (and of its emails, phones, consents and its own activities) with constants only; tenant "
        "from app.tenant_id (unset: error), owner under FORCEd RLS too; lifts only those tables' append_only "
        "triggers for its own duration; never deletes (contacts/migrations/0004, contacts/tests/test_gdpr.py)"
    ),
}


def test_no_unreviewed_security_definer_function():
    rows = fetch(
        """
        SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE p.prosecdef AND n.nspname NOT IN ('pg_catalog', 'information_schema')
        """
    )
    for (name,) in rows:
        assert name in REVIEWED_SECURITY_DEFINER, f"SECURITY DEFINER function {name} is not reviewed"


def test_the_tenant_setting_is_transaction_local():
    """A session-level setting would ride a pooled connection into the next request."""
    from crm.tenancy.context import tenant_context
    from crm.tenancy.tests.factories import TenantFactory

    tenant = TenantFactory()
    with tenant_context(tenant):
        assert fetch("SELECT current_setting('app.tenant_id', true)")[0][0] == str(tenant.pk)
    assert fetch("SELECT current_setting('app.tenant_id', true)")[0][0] in ("", None)
