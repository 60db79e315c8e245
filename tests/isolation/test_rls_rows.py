"""Kept for ever: as the application role in tenant A, raw SQL on every tenant table returns no
row of tenant B, and with no tenant at all it returns nothing (and no error)."""

import pytest
from django.db import connection, transaction

from crm.tenancy import rls
from crm.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db

TABLES = [m._meta.db_table for m in rls.tenant_models()]


def tenant_ids_seen(table):
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT DISTINCT tenant_id FROM "{table}"')
        return {row[0] for row in cursor.fetchall()}


@pytest.fixture
def two_tenants_with_data(acme, globex):
    from tests.isolation.populate import populate_every_tenant_table

    populate_every_tenant_table(acme)
    populate_every_tenant_table(globex)
    return acme, globex


def test_raw_sql_in_tenant_a_returns_no_row_of_tenant_b(two_tenants_with_data):
    """One test over every table (populating two tenants is the slow part, so it is done once)."""
    acme, globex = two_tenants_with_data
    leaks = []
    for table in TABLES:
        with tenant_context(acme.tenant):
            if globex.tenant.pk in tenant_ids_seen(table):
                leaks.append(f"{table}: Acme sees Globex")
        with tenant_context(globex.tenant):
            if acme.tenant.pk in tenant_ids_seen(table):
                leaks.append(f"{table}: Globex sees Acme")
    assert leaks == []


def test_with_no_tenant_a_query_returns_nothing_and_no_error(two_tenants_with_data):
    seen = {}
    for table in TABLES:
        with transaction.atomic():
            rows = tenant_ids_seen(table)
        if rows:
            seen[table] = rows
    assert seen == {}


def test_every_tenant_table_was_populated_for_the_test_above(two_tenants_with_data):
    acme, _ = two_tenants_with_data
    empty = []
    with tenant_context(acme.tenant):
        for table in TABLES:
            if not tenant_ids_seen(table):
                empty.append(table)
    assert empty == [], f"populate.py makes no rows for {empty}: teach it, so the isolation test means something"


def test_writing_a_row_into_another_tenant_is_refused(acme, globex):
    from django.db import DatabaseError

    with tenant_context(acme.tenant), pytest.raises(DatabaseError):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "UPDATE tenancy_membership SET tenant_id = %s WHERE id = %s",
                [globex.tenant.pk, acme.rep.pk],
            )
