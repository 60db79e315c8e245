"""Global search over accounts and contacts: trigram and full-text indexes, and one narrow search
function per table (ARCHITECTURE.md, "Speed under RLS", rule 5).

Under FORCEd RLS no condition whose function is not LEAKPROOF (`@@`, pg_trgm operators) can use an
index for the application role, nor for the owner. So each table gets one SECURITY DEFINER function
owned by the NOLOGIN BYPASSRLS role `crm_search`, which may SELECT only the columns it searches:

    crm_search_<table>(query text, max_rows integer) RETURNS TABLE (id uuid, score real)

It reads the tenant from the transaction's `app.tenant_id` itself (never a parameter; unset or
empty: no rows), names it in every branch (all indexes lead with tenant_id, btree_gin), caps the
result at 1,000 and returns ids and scores only. Visibility is not applied here: the caller fetches
the rows by id through `crm.access.policy.visible()` under RLS (crm/search/selectors.py). Reviewed
in tests/isolation/test_rls_catalog.py (REVIEWED_SECURITY_DEFINER).

Branches (a hit's score is the best of its branches):
  exact  name key (or email, phone, domain) equal to the query              1.0
  prefix the name key starts with the query (key range on the list index)   0.9
  words  every word of the query starts a word of the name/email/domain     0.6
         (full text, 'simple' configuration, prefix lexemes)
  fuzzy  trigram word similarity (typos), only when the exact branches      0.8 x similarity
         found fewer than max_rows rows, so a frequent term does not rank
         thousands of fuzzy candidates
"""

from django.conf import settings
from django.db import migrations

SEARCH_ROLE = "crm_search"

# Only what the functions read. The role sees nothing else of the tables.
COLUMNS = {
    "accounts_account": "id, tenant_id, name, name_key, domain",
    "contacts_contact": "id, tenant_id, first_name, last_name, name_key, email, phone, erased_at",
}

INDEXES = [
    # trigram (typo-tolerant, substring) and full-text indexes, leading with tenant_id (btree_gin)
    "CREATE INDEX IF NOT EXISTS account_search_trgm_idx ON accounts_account "
    "USING gin (tenant_id, name gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS account_search_fts_idx ON accounts_account "
    "USING gin (tenant_id, to_tsvector('simple'::regconfig, name || ' ' || domain))",
    "CREATE INDEX IF NOT EXISTS contact_search_trgm_idx ON contacts_contact "
    "USING gin (tenant_id, (first_name || ' ' || last_name) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS contact_search_fts_idx ON contacts_contact "
    "USING gin (tenant_id, to_tsvector('simple'::regconfig, first_name || ' ' || last_name || ' ' || email))",
]

# Shared preamble of both functions: the tenant, the cleaned query, its key and key range, the
# prefix tsquery. The upper bound of the key range is the key with its last code point bumped
# (crm.tenancy.search.prefix_range does the same in Python).
PREAMBLE = """
DECLARE
  t uuid := NULLIF(current_setting('app.tenant_id', true), '')::uuid;
  q text := left(btrim(coalesce(query, '')), 200);
  n integer := least(greatest(coalesce(max_rows, 0), 0), 1000);
  lo text COLLATE "C";
  hi text COLLATE "C";
  last_cp integer;
  tsq tsquery;
BEGIN
  IF t IS NULL OR char_length(q) < 2 OR n = 0 THEN
    RETURN;
  END IF;
  lo := casefold(q COLLATE pg_unicode_fast);
  last_cp := ascii(right(lo, 1));
  hi := CASE
    WHEN last_cp >= 1114111 THEN NULL
    WHEN last_cp = 55295 THEN left(lo, -1) || chr(57344)  -- skip the surrogates
    ELSE left(lo, -1) || chr(last_cp + 1)
  END;
  -- every word of the query as a prefix; lexemes of the 'simple' parser never hold a quote
  SELECT string_agg('''' || replace(replace(l.lexeme, '\\', ''), '''', '''''') || ''':*', ' & ')::tsquery
    INTO tsq FROM unnest(to_tsvector('simple', q)) AS l;
"""

ACCOUNTS_FUNCTION = f"""
CREATE OR REPLACE FUNCTION crm_search_accounts(query text, max_rows integer DEFAULT 200)
RETURNS TABLE (id uuid, score real)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = public, pg_temp
SET plan_cache_mode = force_custom_plan
SET pg_trgm.word_similarity_threshold = 0.5
AS $fn$
#variable_conflict use_column
{PREAMBLE}
  RETURN QUERY
  WITH exact AS (
    SELECT a.id, 1.0::real AS score FROM accounts_account a
    WHERE a.tenant_id = t AND a.name_key = lo
    UNION ALL
    SELECT a.id, 1.0::real FROM accounts_account a
    WHERE a.tenant_id = t AND a.domain = lower(q) AND position('.' IN q) > 0
    LIMIT n
  ), prefix AS (
    SELECT a.id, 0.9::real AS score FROM accounts_account a
    WHERE a.tenant_id = t AND a.name_key >= lo AND (hi IS NULL OR a.name_key < hi)
    ORDER BY a.name_key, a.id
    LIMIT n
  ), words AS (
    SELECT a.id, 0.6::real AS score FROM accounts_account a
    WHERE tsq IS NOT NULL AND a.tenant_id = t
      AND to_tsvector('simple'::regconfig, a.name || ' ' || a.domain) @@ tsq
    LIMIT n
  ), fuzzy AS (
    SELECT a.id, (0.8 * word_similarity(q, a.name))::real AS score FROM accounts_account a
    WHERE a.tenant_id = t AND q <% a.name
      AND (SELECT count(*) FROM exact) + (SELECT count(*) FROM prefix) + (SELECT count(*) FROM words) < n
    ORDER BY 2 DESC
    LIMIT n
  )
  SELECT h.id, max(h.score)::real
  FROM (SELECT * FROM exact UNION ALL SELECT * FROM prefix UNION ALL SELECT * FROM words
        UNION ALL SELECT * FROM fuzzy) AS h
  GROUP BY h.id
  ORDER BY 2 DESC, h.id
  LIMIT n;
END
$fn$
"""

CONTACTS_FUNCTION = f"""
CREATE OR REPLACE FUNCTION crm_search_contacts(query text, max_rows integer DEFAULT 200)
RETURNS TABLE (id uuid, score real)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = public, pg_temp
SET plan_cache_mode = force_custom_plan
SET pg_trgm.word_similarity_threshold = 0.5
AS $fn$
#variable_conflict use_column
{PREAMBLE}
  RETURN QUERY
  WITH exact AS (
    SELECT c.id, 1.0::real AS score FROM contacts_contact c
    WHERE c.tenant_id = t AND c.erased_at IS NULL AND c.email = lower(q) AND position('@' IN q) > 0
    UNION ALL
    SELECT c.id, 1.0::real FROM contacts_contact c
    WHERE c.tenant_id = t AND c.erased_at IS NULL
      AND c.phone = regexp_replace(q, '[^0-9+]', '', 'g') AND q ~ '^[+0-9 ()./-]{{6,}}$'
    LIMIT n
  ), prefix AS (
    SELECT c.id, 0.9::real AS score FROM contacts_contact c
    WHERE c.tenant_id = t AND c.name_key >= lo AND (hi IS NULL OR c.name_key < hi) AND c.erased_at IS NULL
    ORDER BY c.name_key, c.id
    LIMIT n
  ), words AS (
    SELECT c.id, 0.6::real AS score FROM contacts_contact c
    WHERE tsq IS NOT NULL AND c.tenant_id = t AND c.erased_at IS NULL
      AND to_tsvector('simple'::regconfig, c.first_name || ' ' || c.last_name || ' ' || c.email) @@ tsq
    LIMIT n
  ), fuzzy AS (
    SELECT c.id, (0.8 * word_similarity(q, c.first_name || ' ' || c.last_name))::real AS score
    FROM contacts_contact c
    WHERE c.tenant_id = t AND q <% (c.first_name || ' ' || c.last_name) AND c.erased_at IS NULL
      AND (SELECT count(*) FROM exact) + (SELECT count(*) FROM prefix) + (SELECT count(*) FROM words) < n
    ORDER BY 2 DESC
    LIMIT n
  )
  SELECT h.id, max(h.score)::real
  FROM (SELECT * FROM exact UNION ALL SELECT * FROM prefix UNION ALL SELECT * FROM words
        UNION ALL SELECT * FROM fuzzy) AS h
  GROUP BY h.id
  ORDER BY 2 DESC, h.id
  LIMIT n;
END
$fn$
"""

FUNCTIONS = {"crm_search_accounts": ACCOUNTS_FUNCTION, "crm_search_contacts": CONTACTS_FUNCTION}
SIGNATURE = "(text, integer)"


def ensure_search_role(cursor) -> None:
    """crm_search must exist and the migrating role must be able to act as it.

    scripts/services.py and docker/postgres-init.sql create it. On a database provided by someone
    else we create it only if we may (CREATEROLE, and BYPASSRLS or superuser, which a BYPASSRLS role
    needs); otherwise we stop with what to run.
    """
    cursor.execute("SELECT current_user, rolsuper, rolcreaterole, rolbypassrls FROM pg_roles WHERE rolname = current_user")
    me, superuser, createrole, bypass = cursor.fetchone()
    cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [SEARCH_ROLE])
    if not cursor.fetchone():
        if not (superuser or (createrole and bypass)):
            raise RuntimeError(
                f"The role {SEARCH_ROLE} does not exist and {me} may not create it. As a superuser run:\n"
                f"  CREATE ROLE {SEARCH_ROLE} NOLOGIN BYPASSRLS;\n  GRANT {SEARCH_ROLE} TO {me};\n"
                "(docker/postgres-init.sql and scripts/services.py do this; ARCHITECTURE.md, 'Speed under RLS')"
            )
        cursor.execute(f"CREATE ROLE {SEARCH_ROLE} NOLOGIN BYPASSRLS")
        if not superuser:
            cursor.execute(f"GRANT {SEARCH_ROLE} TO {me}")
    cursor.execute("SELECT pg_has_role(current_user, %s, 'SET')", [SEARCH_ROLE])
    if not cursor.fetchone()[0]:
        raise RuntimeError(f"{me} must be a member of {SEARCH_ROLE}: GRANT {SEARCH_ROLE} TO {me};")
    cursor.execute("SELECT rolsuper, rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = %s", [SEARCH_ROLE])
    superuser, bypass, login = cursor.fetchone()
    if superuser or login or not bypass:
        raise RuntimeError(f"{SEARCH_ROLE} must be NOLOGIN NOSUPERUSER BYPASSRLS")


def create(apps, schema_editor):
    quote = schema_editor.connection.ops.quote_name
    app_role = settings.DATABASE_APP_ROLE
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        if cursor.fetchone()[0] == app_role:
            raise RuntimeError("Run migrations as the schema owner (CRM_DB_ROLE=owner), not the application role")
        ensure_search_role(cursor)
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        cursor.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
        # Load pg_trgm's library in this session, so that its setting in the functions' SET clause
        # is known (a placeholder for a library not yet loaded is refused to a non-superuser).
        cursor.execute("SELECT similarity('a', 'a')")
        for sql in INDEXES:
            cursor.execute(sql)
        for table, columns in COLUMNS.items():
            cursor.execute(f"GRANT SELECT ({columns}) ON {table} TO {SEARCH_ROLE}")
        # Handing a function over needs CREATE on its schema for the new owner: for the moment only.
        cursor.execute(f"GRANT CREATE ON SCHEMA public TO {SEARCH_ROLE}")
        for name, sql in FUNCTIONS.items():
            cursor.execute(f"DROP FUNCTION IF EXISTS {name}{SIGNATURE}")
            cursor.execute(sql)
            cursor.execute(f"ALTER FUNCTION {name}{SIGNATURE} OWNER TO {SEARCH_ROLE}")
            cursor.execute(f"REVOKE ALL ON FUNCTION {name}{SIGNATURE} FROM PUBLIC")
            cursor.execute(f"GRANT EXECUTE ON FUNCTION {name}{SIGNATURE} TO {quote(app_role)}")
        cursor.execute(f"REVOKE CREATE ON SCHEMA public FROM {SEARCH_ROLE}")


def drop(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        for name in FUNCTIONS:
            cursor.execute(f"DROP FUNCTION IF EXISTS {name}{SIGNATURE}")
        for sql in INDEXES:
            index = sql.split("EXISTS ")[1].split()[0]
            cursor.execute(f"DROP INDEX IF EXISTS {index}")
        for table, columns in COLUMNS.items():
            cursor.execute(f"REVOKE SELECT ({columns}) ON {table} FROM {SEARCH_ROLE}")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial"), ("contacts", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
