"""Global search does not match on a field hidden from the searcher (field-level security).

A hidden field must not be an oracle: searching for the exact email of a contact whose email is
hidden from me must not find that contact. Both functions gain a third parameter,

    crm_search_<table>(query text, max_rows integer DEFAULT 200, hide text[] DEFAULT '{}')

naming the fields the caller may not see (crm/search/selectors.py passes
`crm.access.fields.hidden(actor, key)` narrowed to the searched ones):

  accounts  domain      the exact-domain branch is off; the words branch must also match the name
  contacts  email       the exact-email branches (contact and secondary addresses) are off;
                        the words branch must also match without the address
            phone       the exact-phone branches (contact and secondary numbers) are off
            first_name  the key prefix must lie within the last name; words and fuzzy match
                        the last name (and the visible address) only

The plans stay what 0001-0003 made them: each branch keeps its indexed condition, and the checks
on `hide` are either constants (a switched-off branch is a one-time filter `false` under the
functions' plan_cache_mode = force_custom_plan, so its scan never runs) or a recheck of the rows
the index found (a name-only tsvector is a subset of the indexed name+domain/email one). An empty
`hide` (no restriction) folds every check to true. The tenant is still never a parameter; the
owner, grants and the columns crm_search may read are unchanged.
"""

import importlib

from django.conf import settings
from django.db import migrations

previous = importlib.import_module("crm.search.migrations.0003_contacts_fuzzy_only_when_it_can_help")
first = previous.first

SEARCH_ROLE = first.SEARCH_ROLE
OLD_SIGNATURE = first.SIGNATURE  # (text, integer)
SIGNATURE = "(text, integer, text[])"

PREAMBLE = first.PREAMBLE.replace(
    "DECLARE\n",
    "DECLARE\n"
    "  no_domain boolean := 'domain' = ANY(coalesce(hide, '{}'::text[]));\n"
    "  no_email boolean := 'email' = ANY(coalesce(hide, '{}'::text[]));\n"
    "  no_phone boolean := 'phone' = ANY(coalesce(hide, '{}'::text[]));\n"
    "  no_first boolean := 'first_name' = ANY(coalesce(hide, '{}'::text[]));\n",
    1,
)

ACCOUNTS_FUNCTION = f"""
CREATE OR REPLACE FUNCTION crm_search_accounts(query text, max_rows integer DEFAULT 200,
                                               hide text[] DEFAULT '{{}}'::text[])
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
    WHERE NOT no_domain AND a.tenant_id = t AND a.domain = lower(q) AND position('.' IN q) > 0
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
      AND (NOT no_domain OR to_tsvector('simple'::regconfig, a.name) @@ tsq)
    LIMIT n
  ), fuzzy AS (
    SELECT a.id, (0.8 * word_similarity(q, a.name))::real AS score FROM accounts_account a
    WHERE a.tenant_id = t AND q <% a.name
      AND position('@' IN q) = 0 AND NOT EXISTS (SELECT 1 FROM exact)
      AND (SELECT count(*) FROM prefix) + (SELECT count(*) FROM words) < n
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
CREATE OR REPLACE FUNCTION crm_search_contacts(query text, max_rows integer DEFAULT 200,
                                               hide text[] DEFAULT '{{}}'::text[])
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
    WHERE NOT no_email AND c.tenant_id = t AND c.erased_at IS NULL AND c.email = lower(q)
      AND position('@' IN q) > 0
    UNION ALL
    SELECT c.id, 1.0::real FROM contacts_contact c
    WHERE NOT no_phone AND c.tenant_id = t AND c.erased_at IS NULL
      AND c.phone = regexp_replace(q, '[^0-9+]', '', 'g') AND q ~ '^[+0-9 ()./-]{{6,}}$'
    UNION ALL
    SELECT e.contact_id, 1.0::real FROM contacts_contactemail e
    WHERE NOT no_email AND e.tenant_id = t AND e.email = lower(q) AND position('@' IN q) > 0
      AND EXISTS (SELECT 1 FROM contacts_contact c
                  WHERE c.tenant_id = t AND c.id = e.contact_id AND c.erased_at IS NULL)
    UNION ALL
    SELECT p.contact_id, 1.0::real FROM contacts_contactphone p
    WHERE NOT no_phone AND p.tenant_id = t AND p.number = regexp_replace(q, '[^0-9+]', '', 'g')
      AND q ~ '^[+0-9 ()./-]{{6,}}$'
      AND EXISTS (SELECT 1 FROM contacts_contact c
                  WHERE c.tenant_id = t AND c.id = p.contact_id AND c.erased_at IS NULL)
    LIMIT n
  ), prefix AS (
    SELECT c.id, 0.9::real AS score FROM contacts_contact c
    WHERE c.tenant_id = t AND c.name_key >= lo AND (hi IS NULL OR c.name_key < hi) AND c.erased_at IS NULL
      -- the key is "last first": without the first name, the query may not reach past the last name
      AND (NOT no_first OR char_length(lo) <= char_length(c.last_name))
    ORDER BY c.name_key, c.id
    LIMIT n
  ), words AS (
    SELECT c.id, 0.6::real AS score FROM contacts_contact c
    WHERE tsq IS NOT NULL AND c.tenant_id = t AND c.erased_at IS NULL
      AND to_tsvector('simple'::regconfig, c.first_name || ' ' || c.last_name || ' ' || c.email) @@ tsq
      AND (NOT (no_first OR no_email)
           OR to_tsvector('simple'::regconfig,
                          CASE WHEN no_first THEN '' ELSE c.first_name END || ' ' || c.last_name || ' '
                          || CASE WHEN no_email THEN '' ELSE c.email END) @@ tsq)
    LIMIT n
  ), fuzzy AS (
    SELECT c.id,
           (0.8 * word_similarity(q, CASE WHEN no_first THEN c.last_name
                                          ELSE c.first_name || ' ' || c.last_name END))::real AS score
    FROM contacts_contact c
    WHERE c.tenant_id = t AND q <% (c.first_name || ' ' || c.last_name) AND c.erased_at IS NULL
      AND (NOT no_first OR q <% c.last_name)
      AND position('@' IN q) = 0 AND NOT EXISTS (SELECT 1 FROM exact)
      AND (SELECT count(*) FROM prefix) + (SELECT count(*) FROM words) < n
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
PREVIOUS = {"crm_search_accounts": previous.ACCOUNTS_FUNCTION, "crm_search_contacts": previous.CONTACTS_FUNCTION}


def _install(schema_editor, functions: dict, drop: str, signature: str) -> None:
    """As 0001 installs them: owned by crm_search, executable by the application role only."""
    quote = schema_editor.connection.ops.quote_name
    app_role = settings.DATABASE_APP_ROLE
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        if cursor.fetchone()[0] == app_role:
            raise RuntimeError("Run migrations as the schema owner (CRM_DB_ROLE=owner), not the application role")
        first.ensure_search_role(cursor)
        cursor.execute("SELECT similarity('a', 'a')")  # pg_trgm's setting in the SET clause (see 0001)
        cursor.execute(f"GRANT CREATE ON SCHEMA public TO {SEARCH_ROLE}")
        for name, sql in functions.items():
            cursor.execute(f"DROP FUNCTION IF EXISTS {name}{drop}")
            cursor.execute(f"DROP FUNCTION IF EXISTS {name}{signature}")
            cursor.execute(sql)
            cursor.execute(f"ALTER FUNCTION {name}{signature} OWNER TO {SEARCH_ROLE}")
            cursor.execute(f"REVOKE ALL ON FUNCTION {name}{signature} FROM PUBLIC")
            cursor.execute(f"GRANT EXECUTE ON FUNCTION {name}{signature} TO {quote(app_role)}")
        cursor.execute(f"REVOKE CREATE ON SCHEMA public FROM {SEARCH_ROLE}")


def forwards(apps, schema_editor):
    _install(schema_editor, FUNCTIONS, drop=OLD_SIGNATURE, signature=SIGNATURE)


def backwards(apps, schema_editor):
    _install(schema_editor, PREVIOUS, drop=SIGNATURE, signature=OLD_SIGNATURE)


class Migration(migrations.Migration):
    dependencies = [("search", "0003_contacts_fuzzy_only_when_it_can_help")]

    operations = [migrations.RunPython(forwards, backwards)]
