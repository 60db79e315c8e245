"""Global search finds a contact by any of their email addresses or phone numbers (exact match),
not only the primary ones mirrored on contacts_contact.

crm_search_contacts gains two branches in its `exact` part, each one index range under the
function's owner crm_search:

    contacts_contactemail  tenant_id = t AND email = lower(q)          contactemail_email_idx
    contacts_contactphone  tenant_id = t AND number = <digits of q>    contactphone_number_idx

and returns the row's contact_id, if that contact is not erased. crm_search may read only the
columns these branches need (tenant_id, contact_id, email / number). Everything else about the
function (tenant from app.tenant_id, capped ids and scores only, owner, grants) is as in 0001.
"""

import importlib

from django.conf import settings
from django.db import migrations

first = importlib.import_module("crm.search.migrations.0001_search_functions")

SEARCH_ROLE = first.SEARCH_ROLE
COLUMNS = {
    "contacts_contactemail": "tenant_id, contact_id, email",
    "contacts_contactphone": "tenant_id, contact_id, number",
}

OLD_EXACT = """    SELECT c.id, 1.0::real FROM contacts_contact c
    WHERE c.tenant_id = t AND c.erased_at IS NULL
      AND c.phone = regexp_replace(q, '[^0-9+]', '', 'g') AND q ~ '^[+0-9 ()./-]{{6,}}$'
    LIMIT n
"""
NEW_EXACT = """    SELECT c.id, 1.0::real FROM contacts_contact c
    WHERE c.tenant_id = t AND c.erased_at IS NULL
      AND c.phone = regexp_replace(q, '[^0-9+]', '', 'g') AND q ~ '^[+0-9 ()./-]{6,}$'
    UNION ALL
    SELECT e.contact_id, 1.0::real FROM contacts_contactemail e
    WHERE e.tenant_id = t AND e.email = lower(q) AND position('@' IN q) > 0
      AND EXISTS (SELECT 1 FROM contacts_contact c
                  WHERE c.tenant_id = t AND c.id = e.contact_id AND c.erased_at IS NULL)
    UNION ALL
    SELECT p.contact_id, 1.0::real FROM contacts_contactphone p
    WHERE p.tenant_id = t AND p.number = regexp_replace(q, '[^0-9+]', '', 'g') AND q ~ '^[+0-9 ()./-]{6,}$'
      AND EXISTS (SELECT 1 FROM contacts_contact c
                  WHERE c.tenant_id = t AND c.id = p.contact_id AND c.erased_at IS NULL)
    LIMIT n
"""

# 0001's text is an f-string template ({{ }} for literal braces); the rendered function has single ones
_rendered_old = OLD_EXACT.replace("{{", "{").replace("}}", "}")
if _rendered_old not in first.CONTACTS_FUNCTION:  # pragma: no cover - a guard for whoever edits 0001
    raise RuntimeError("crm_search_contacts in 0001 changed: update 0002's branch replacement")
CONTACTS_FUNCTION = first.CONTACTS_FUNCTION.replace(_rendered_old, NEW_EXACT)
NAME = "crm_search_contacts"


def _install(schema_editor, sql: str, columns: dict, grant: bool) -> None:
    quote = schema_editor.connection.ops.quote_name
    app_role = settings.DATABASE_APP_ROLE
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        if cursor.fetchone()[0] == app_role:
            raise RuntimeError("Run migrations as the schema owner (CRM_DB_ROLE=owner), not the application role")
        first.ensure_search_role(cursor)
        cursor.execute("SELECT similarity('a', 'a')")  # pg_trgm's setting in the SET clause (see 0001)
        for table, cols in columns.items():
            verb = "GRANT" if grant else "REVOKE"
            cursor.execute(f"{verb} SELECT ({cols}) ON {table} {'TO' if grant else 'FROM'} {SEARCH_ROLE}")
        cursor.execute(f"GRANT CREATE ON SCHEMA public TO {SEARCH_ROLE}")
        cursor.execute(f"DROP FUNCTION IF EXISTS {NAME}{first.SIGNATURE}")
        cursor.execute(sql)
        cursor.execute(f"ALTER FUNCTION {NAME}{first.SIGNATURE} OWNER TO {SEARCH_ROLE}")
        cursor.execute(f"REVOKE ALL ON FUNCTION {NAME}{first.SIGNATURE} FROM PUBLIC")
        cursor.execute(f"GRANT EXECUTE ON FUNCTION {NAME}{first.SIGNATURE} TO {quote(app_role)}")
        cursor.execute(f"REVOKE CREATE ON SCHEMA public FROM {SEARCH_ROLE}")


def forwards(apps, schema_editor):
    _install(schema_editor, CONTACTS_FUNCTION, COLUMNS, grant=True)


def backwards(apps, schema_editor):
    _install(schema_editor, first.CONTACTS_FUNCTION, COLUMNS, grant=False)


class Migration(migrations.Migration):
    dependencies = [("search", "0001_search_functions"), ("contacts", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
