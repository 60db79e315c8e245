"""The reviewed search functions, from the catalog, and the plans of the queries inside them.

They are SECURITY DEFINER (tests/isolation/test_rls_catalog.py lists them), so what makes them
safe is checked here: owned by the NOLOGIN BYPASSRLS crm_search, which may read the searched
columns only; search_path pinned; no EXECUTE for PUBLIC. And what makes them fast: run as
crm_search, each branch's condition (tenant included) is an index condition.
"""

from __future__ import annotations

import json

import psycopg2
import pytest
from django.conf import settings
from django.db import connection

pytestmark = pytest.mark.django_db

FUNCTIONS = ["crm_search_accounts", "crm_search_contacts"]


def fetch(sql, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchall()


@pytest.mark.parametrize("name", FUNCTIONS)
def test_function_is_security_definer_owned_by_crm_search_with_a_pinned_search_path(name):
    [(secdef, owner, config, acl, volatile)] = fetch(
        """
        SELECT p.prosecdef, pg_get_userbyid(p.proowner), p.proconfig, p.proacl::text[], p.provolatile
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'public' AND p.proname = %s
        """,
        [name],
    )
    assert secdef
    assert owner == "crm_search"
    assert "search_path=public, pg_temp" in config
    grantees = {entry.split("=")[0] for entry in acl}
    assert "" not in grantees, "PUBLIC must not execute it"
    assert grantees <= {"crm_search", settings.DATABASE_APP_ROLE}
    assert volatile == "s"


def test_crm_search_is_nologin_bypassrls_and_reads_only_the_searched_columns():
    [(login, superuser, bypass)] = fetch(
        "SELECT rolcanlogin, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = 'crm_search'"
    )
    assert not login and not superuser and bypass
    tables = fetch(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v', 'p') "
        "AND has_table_privilege('crm_search', c.oid, 'SELECT, INSERT, UPDATE, DELETE')"
    )
    assert tables == [], "no table-wide privilege: columns only"
    readable = {}
    for table, column in fetch(
        "SELECT c.relname, a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped "
        "AND has_column_privilege('crm_search', c.oid, a.attnum, 'SELECT')"
    ):
        readable.setdefault(table, set()).add(column)
    assert readable == {
        "accounts_account": {"id", "tenant_id", "name", "name_key", "domain"},
        "contacts_contact": {"id", "tenant_id", "first_name", "last_name", "name_key", "email", "phone", "erased_at"},
        "contacts_contactemail": {"tenant_id", "contact_id", "email"},
        "contacts_contactphone": {"tenant_id", "contact_id", "number"},
    }


def test_the_application_role_cannot_call_a_search_function_for_another_tenant():
    """The tenant is never a parameter: the signature is (query, max_rows, hide) (hide: the fields
    the searcher may not see, 0004)."""
    rows = fetch(
        "SELECT p.proname, pg_get_function_identity_arguments(p.oid) FROM pg_proc p WHERE p.proname = ANY(%s)",
        [FUNCTIONS],
    )
    assert sorted(rows) == [(name, "query text, max_rows integer, hide text[]") for name in FUNCTIONS]


# --- plans, as the function's owner sees them -----------------------------------------------------

TENANT = "00000000-0000-7000-8000-0000000a11ce"
TABLES = ["accounts_account", "contacts_contact", "contacts_contactemail", "contacts_contactphone"]
BRANCHES = [
    # (table, the branch's condition as the function writes it, the index it must use)
    ("accounts_account", "a.tenant_id = %(t)s AND 'kalomy' <%% a.name", "account_search_trgm_idx"),
    ("accounts_account",
     "a.tenant_id = %(t)s AND to_tsvector('simple'::regconfig, a.name || ' ' || a.domain) @@ 'acme:*'::tsquery",
     "account_search_fts_idx"),
    ("accounts_account", "a.tenant_id = %(t)s AND a.name_key >= 'acme' AND a.name_key < 'acmf'",
     "account_name_key_idx"),
    ("contacts_contact", "a.tenant_id = %(t)s AND 'kalomy' <%% (a.first_name || ' ' || a.last_name)",
     "contact_search_trgm_idx"),
    ("contacts_contact",
     "a.tenant_id = %(t)s AND to_tsvector('simple'::regconfig, a.first_name || ' ' || a.last_name || ' ' || a.email)"
     " @@ 'jane:*'::tsquery",
     "contact_search_fts_idx"),
    ("contacts_contact", "a.tenant_id = %(t)s AND a.email = 'jane@acme.example'", "contact_email_idx"),
    # the words branches without a hidden domain / address / first name (0004): the indexed
    # condition, then a recheck of the rows it found
    ("accounts_account",
     "a.tenant_id = %(t)s AND to_tsvector('simple'::regconfig, a.name || ' ' || a.domain) @@ 'acme:*'::tsquery"
     " AND to_tsvector('simple'::regconfig, a.name) @@ 'acme:*'::tsquery",
     "account_search_fts_idx"),
    ("contacts_contact",
     "a.tenant_id = %(t)s AND to_tsvector('simple'::regconfig, a.first_name || ' ' || a.last_name || ' ' || a.email)"
     " @@ 'jane:*'::tsquery AND to_tsvector('simple'::regconfig, '' || ' ' || a.last_name || ' ' || '') @@ 'jane:*'::tsquery",
     "contact_search_fts_idx"),
    # secondary emails and phones (0002): exact lookups on their own indexes
    ("contacts_contactemail", "a.tenant_id = %(t)s AND a.email = 'jane@home.example'", "contactemail_email_idx"),
    ("contacts_contactphone", "a.tenant_id = %(t)s AND a.number = '+4930123456'", "contactphone_number_idx"),
]

FILLERS = {
    "uuid": "gen_random_uuid()",
    "timestamp with time zone": "now()",
    "date": "current_date",
    "jsonb": "'{}'::jsonb",
    "boolean": "false",
    "integer": "0",
    "bigint": "0",
    "smallint": "0",
}
ROWS = {
    "accounts_account": {
        "tenant_id": f"'{TENANT}'", "owner_id": "gen_random_uuid()",
        "name": "initcap(md5(g::text)) || ' ' || (ARRAY['GmbH', 'Ltd', 'Inc', 'Bank', 'Corp'])[1 + g % 5]",
        "domain": "md5(g::text) || '.example'",
    },
    "contacts_contact": {
        "tenant_id": f"'{TENANT}'", "owner_id": "gen_random_uuid()", "first_name": "left(md5(g::text), 8)",
        "last_name": "left(md5((g + 1)::text), 10)", "email": "md5(g::text) || '@x.example'",
    },
    "contacts_contactemail": {
        "tenant_id": f"'{TENANT}'", "contact_id": "gen_random_uuid()", "email": "md5(g::text) || '@y.example'",
    },
    "contacts_contactphone": {
        "tenant_id": f"'{TENANT}'", "contact_id": "gen_random_uuid()", "number": "'+49' || (30000000 + g)::text",
    },
}


def _copy_with_rows(cursor, table: str, rows: int) -> None:
    """pg_temp.<table>: the table's columns (generated ones included) and every one of its indexes,
    under the same names, filled with `rows` rows of one tenant. A session's own copy: the shared
    table, its statistics and its heap stay untouched for the other tests."""
    cursor.execute(f"CREATE TEMP TABLE {table} (LIKE public.{table} INCLUDING DEFAULTS INCLUDING GENERATED) "
                   "ON COMMIT DROP")
    cursor.execute(
        "SELECT column_name, data_type, character_maximum_length FROM information_schema.columns "
        "WHERE table_schema = 'public' AND table_name = %s AND is_nullable = 'NO' AND column_default IS NULL "
        "AND is_generated = 'NEVER' AND is_identity = 'NO'",
        [table],
    )
    exprs = dict(ROWS[table])
    for column, data_type, length in cursor.fetchall():
        exprs.setdefault(column, FILLERS.get(data_type) or f"left(md5(random()::text), {length or 32})")
    cursor.execute(f"INSERT INTO pg_temp.{table} ({', '.join(exprs)}) "
                   f"SELECT {', '.join(exprs.values())} FROM generate_series(1, {rows}) AS g")
    # indexes built over the rows (as a real table's are, after its GIN pending list is merged)
    cursor.execute("SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = %s::regclass",
                   [f"public.{table}"])
    for (definition,) in cursor.fetchall():
        cursor.execute(definition.replace(f" ON public.{table} ", f" ON pg_temp.{table} "))
    cursor.execute(f"ANALYZE pg_temp.{table}")
    cursor.execute(f"GRANT SELECT ON pg_temp.{table} TO crm_search")


@pytest.fixture
def as_search_role():
    """A second connection to the test database as the owner, with session-private copies of the
    searched tables (same columns, same indexes, a tenant of 3,000 rows so the planner has statistics
    to choose by), then acting as crm_search, the functions' identity. Dropped at the end."""
    owner = settings.DATABASE_OWNER
    conn = psycopg2.connect(
        dbname=connection.settings_dict["NAME"], user=owner["USER"], password=owner["PASSWORD"],
        host=owner["HOST"], port=owner["PORT"] or 5432,
    )
    try:
        with conn.cursor() as cursor:
            for table in TABLES:
                _copy_with_rows(cursor, table, 3000)
            cursor.execute("SET LOCAL ROLE crm_search")
            cursor.execute("SET LOCAL enable_seqscan = off")
        yield conn
    finally:
        conn.rollback()
        conn.close()


def _nodes(plan):
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


@pytest.mark.parametrize(("table", "condition", "index"), BRANCHES, ids=[b[2] + str(i) for i, b in enumerate(BRANCHES)])
def test_each_branch_of_the_function_is_an_index_condition_including_the_tenant(as_search_role, table, condition,
                                                                               index):
    with as_search_role.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) SELECT a.id FROM pg_temp.{table} a WHERE {condition}",
                       {"t": TENANT})
        raw = cursor.fetchone()[0]
    plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
    scans = [n for n in _nodes(plan) if n.get("Index Name") == index]
    assert scans, json.dumps(plan, indent=1)
    cond = scans[0].get("Index Cond", "")
    # the tenant AND the search condition are index conditions (not the tenant alone, then a
    # row-by-row Filter: the shape of the trap). A trigram scan may recheck its lossy operator.
    assert "tenant_id" in cond and " AND " in cond, cond


# --- the migration on a database provided by someone else -----------------------------------------

class FakeCursor:
    """Answers ensure_search_role()'s catalog questions from a script; records what it runs."""

    def __init__(self, *, me=("crm_owner", False, False, False), role_exists=False, member=True,
                 role=(False, True, False)):
        self.answers = {"current_user": [me], "FROM pg_roles WHERE rolname = %s": [(1,)] if role_exists else [],
                        "pg_has_role": [(member,)], "rolcanlogin": [role]}
        self.ran: list[str] = []
        self.last = []

    def execute(self, sql, params=None):
        self.ran.append(sql)
        for key in ("current_user, rolsuper", "rolcanlogin", "pg_has_role", "FROM pg_roles WHERE rolname = %s"):
            if key in sql:
                self.last = self.answers["current_user" if key == "current_user, rolsuper" else key]
                return
        self.last = []

    def fetchone(self):
        return self.last[0] if self.last else None


def _ensure():
    import importlib

    return importlib.import_module("crm.search.migrations.0001_search_functions").ensure_search_role


def test_a_missing_search_role_stops_the_migration_with_what_to_run():
    with pytest.raises(RuntimeError, match=r"CREATE ROLE crm_search NOLOGIN BYPASSRLS;\n  GRANT crm_search TO crm_owner"):
        _ensure()(FakeCursor(role_exists=False))


def test_a_missing_search_role_is_created_by_an_owner_who_may():
    cursor = FakeCursor(me=("boss", False, True, True), role_exists=False)
    _ensure()(cursor)
    assert "CREATE ROLE crm_search NOLOGIN BYPASSRLS" in cursor.ran
    assert "GRANT crm_search TO boss" in cursor.ran


def test_the_owner_must_be_able_to_act_as_the_search_role():
    with pytest.raises(RuntimeError, match="must be a member of crm_search"):
        _ensure()(FakeCursor(role_exists=True, member=False))
    with pytest.raises(RuntimeError, match="NOLOGIN NOSUPERUSER BYPASSRLS"):
        _ensure()(FakeCursor(role_exists=True, role=(False, False, False)))
