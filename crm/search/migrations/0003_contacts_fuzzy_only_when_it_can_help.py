"""The fuzzy (trigram) branches of crm_search_contacts and crm_search_accounts run only when they
can help.

Measured on 3,000,000 contacts in one tenant (bench/RESULTS.md, customers section): searching an
exact email address found its contact through the indexed `exact` branch at once, but the fuzzy
branch still ran — it runs whenever fewer than max_rows hits were found — and matched a
33-character email against every name of the tenant: 273–347 ms, with or without RLS. A name
never looks like an email, and a query that already found its exact match needs no guesses, so
the branch now also requires `position('@' IN q) = 0 AND NOT EXISTS (SELECT 1 FROM exact)`
(prototype: 108 ms -> 1.1 ms for the same hit; other queries unchanged). The accounts' function
then held the remaining ~55 ms (the address against 1 M account names); it gets the same guard.
"""

import importlib

from django.conf import settings
from django.db import migrations

previous = importlib.import_module("crm.search.migrations.0002_contacts_secondary_email_phone")

OLD = """    WHERE c.tenant_id = t AND q <% (c.first_name || ' ' || c.last_name) AND c.erased_at IS NULL
      AND (SELECT count(*) FROM exact) + (SELECT count(*) FROM prefix) + (SELECT count(*) FROM words) < n
"""
NEW = """    WHERE c.tenant_id = t AND q <% (c.first_name || ' ' || c.last_name) AND c.erased_at IS NULL
      AND position('@' IN q) = 0 AND NOT EXISTS (SELECT 1 FROM exact)
      AND (SELECT count(*) FROM prefix) + (SELECT count(*) FROM words) < n
"""
if OLD not in previous.CONTACTS_FUNCTION:  # pragma: no cover - a guard for whoever edits 0001/0002
    raise RuntimeError("crm_search_contacts changed: update 0003's branch replacement")
CONTACTS_FUNCTION = previous.CONTACTS_FUNCTION.replace(OLD, NEW)

first = previous.first
OLD_ACCOUNTS = """    WHERE a.tenant_id = t AND q <% a.name
      AND (SELECT count(*) FROM exact) + (SELECT count(*) FROM prefix) + (SELECT count(*) FROM words) < n
"""
NEW_ACCOUNTS = """    WHERE a.tenant_id = t AND q <% a.name
      AND position('@' IN q) = 0 AND NOT EXISTS (SELECT 1 FROM exact)
      AND (SELECT count(*) FROM prefix) + (SELECT count(*) FROM words) < n
"""
if OLD_ACCOUNTS not in first.ACCOUNTS_FUNCTION:  # pragma: no cover
    raise RuntimeError("crm_search_accounts changed: update 0003's branch replacement")
ACCOUNTS_FUNCTION = first.ACCOUNTS_FUNCTION.replace(OLD_ACCOUNTS, NEW_ACCOUNTS)


def _install_accounts(schema_editor, sql: str) -> None:
    """As 0001 installs it: owned by crm_search, executable by the app role only."""
    quote = schema_editor.connection.ops.quote_name
    name, signature, role = "crm_search_accounts", first.SIGNATURE, first.SEARCH_ROLE
    with schema_editor.connection.cursor() as cursor:
        first.ensure_search_role(cursor)
        cursor.execute("SELECT similarity('a', 'a')")  # pg_trgm's setting in the SET clause (see 0001)
        cursor.execute(f"GRANT CREATE ON SCHEMA public TO {role}")
        cursor.execute(f"DROP FUNCTION IF EXISTS {name}{signature}")
        cursor.execute(sql)
        cursor.execute(f"ALTER FUNCTION {name}{signature} OWNER TO {role}")
        cursor.execute(f"REVOKE ALL ON FUNCTION {name}{signature} FROM PUBLIC")
        cursor.execute(f"GRANT EXECUTE ON FUNCTION {name}{signature} TO {quote(settings.DATABASE_APP_ROLE)}")
        cursor.execute(f"REVOKE CREATE ON SCHEMA public FROM {role}")


def forwards(apps, schema_editor):
    previous._install(schema_editor, CONTACTS_FUNCTION, previous.COLUMNS, grant=True)
    _install_accounts(schema_editor, ACCOUNTS_FUNCTION)


def backwards(apps, schema_editor):
    previous._install(schema_editor, previous.CONTACTS_FUNCTION, previous.COLUMNS, grant=True)
    _install_accounts(schema_editor, first.ACCOUNTS_FUNCTION)


class Migration(migrations.Migration):
    dependencies = [("search", "0002_contacts_secondary_email_phone")]

    operations = [migrations.RunPython(forwards, backwards)]
