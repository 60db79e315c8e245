"""The one reviewed path that may change history: blanking an erased contact's personal values.

History is append-only (pghistory's `append_only` trigger on every event table raises on UPDATE
and DELETE). A GDPR erasure (contacts/gdpr.py) must nevertheless leave no old personal value in
the history of the erased contact, its emails, phones and consents, and of the activities that
were only about them. This function does that and nothing else:

    contacts_erase_history(contact uuid, activities uuid[]) RETURNS integer  -- rows blanked

Why it is safe (reviewed in tests/isolation/test_rls_catalog.py, REVIEWED_SECURITY_DEFINER):
- It reads the tenant from the transaction's `app.tenant_id` itself (never a parameter; unset:
  an error), and names it in every statement; its owner (the schema owner) is under FORCEd RLS
  too, so the tenant's policy applies a second time.
- It acts only on a contact of that tenant whose `erased_at` is set: a live record's history
  cannot be touched. Activities are only those given AND linked to that contact.
- It writes constants only (empty strings, NULL, 'Erased contact', the kind's name), never a
  value from the caller, so it can destroy personal data but never forge history. Who did what,
  when, through what (pgh_context, pgh_label, pgh_created_at, ids, foreign keys) stays.
- It lifts only the `append_only` triggers of the six event tables it updates, only for its own
  duration (pgtrigger's transaction-local `pgtrigger.ignore`, restored before it returns; an
  error aborts the transaction and with it the setting). It never deletes an event row.
- SECURITY DEFINER so that the application role could lose UPDATE/DELETE on event tables
  altogether (crm/tenancy/rls.py grants them today) and erasure would still work.
- search_path pinned; EXECUTE for the application role only, not PUBLIC.
"""

from django.conf import settings
from django.db import migrations

SIGNATURE = "contacts_erase_history(uuid, uuid[])"
TABLES = ["contacts_contactevent", "contacts_contactemailevent", "contacts_contactphoneevent",
          "contacts_consentevent", "contacts_activityevent", "contacts_activitycommentevent"]

FUNCTION = """
CREATE OR REPLACE FUNCTION contacts_erase_history(contact uuid, activities uuid[])
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $fn$
DECLARE
  t uuid := NULLIF(current_setting('app.tenant_id', true), '')::uuid;
  saved text := current_setting('pgtrigger.ignore', true);
  lifted text[];
  blanked integer := 0;
  n integer;
  acts uuid[];
BEGIN
  IF t IS NULL THEN
    RAISE EXCEPTION 'contacts_erase_history: no tenant in this transaction';
  END IF;
  PERFORM 1 FROM contacts_contact c WHERE c.tenant_id = t AND c.id = contact AND c.erased_at IS NOT NULL;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'contacts_erase_history: % is not an erased contact of this company', contact;
  END IF;
  -- only activities that are the contact's own (their contact is the erased one)
  SELECT coalesce(array_agg(a.id), '{}') INTO acts FROM contacts_activity a
   WHERE a.tenant_id = t AND a.contact_id = contact AND a.id = ANY(coalesce(activities, '{}'));

  SELECT array_agg(tg.tgname::text) INTO lifted FROM pg_trigger tg
   WHERE tg.tgrelid IN ('contacts_contactevent'::regclass, 'contacts_contactemailevent'::regclass,
                        'contacts_contactphoneevent'::regclass, 'contacts_consentevent'::regclass,
                        'contacts_activityevent'::regclass, 'contacts_activitycommentevent'::regclass)
     AND tg.tgname LIKE 'pgtrigger\\_append\\_only\\_%';
  PERFORM set_config('pgtrigger.ignore', coalesce(lifted, '{}')::text, true);

  UPDATE contacts_contactevent e SET
    salutation = '', first_name = '', last_name = 'Erased contact', title = '', department = '',
    email = '', phone = '', mailing_street = '', mailing_city = '', mailing_postal_code = '',
    mailing_region = '', mailing_country = '', preferred_channel = '', language = '', birthday = NULL,
    custom = '{}'::jsonb, reports_to_id = NULL
  WHERE e.tenant_id = t AND e.pgh_obj_id = contact;
  GET DIAGNOSTICS n = ROW_COUNT; blanked := blanked + n;

  UPDATE contacts_contactemailevent e SET email = '', label = ''
  WHERE e.tenant_id = t AND e.contact_id = contact;
  GET DIAGNOSTICS n = ROW_COUNT; blanked := blanked + n;

  UPDATE contacts_contactphoneevent e SET number = '', label = ''
  WHERE e.tenant_id = t AND e.contact_id = contact;
  GET DIAGNOSTICS n = ROW_COUNT; blanked := blanked + n;

  UPDATE contacts_consentevent e SET source = '', proof = ''
  WHERE e.tenant_id = t AND e.contact_id = contact;
  GET DIAGNOSTICS n = ROW_COUNT; blanked := blanked + n;

  UPDATE contacts_activityevent e SET subject = initcap(e.kind), body = '', outcome = '', location = ''
  WHERE e.tenant_id = t AND e.pgh_obj_id = ANY(acts);
  GET DIAGNOSTICS n = ROW_COUNT; blanked := blanked + n;

  UPDATE contacts_activitycommentevent e SET body = ''
  WHERE e.tenant_id = t AND e.activity_id = ANY(acts);
  GET DIAGNOSTICS n = ROW_COUNT; blanked := blanked + n;

  PERFORM set_config('pgtrigger.ignore', coalesce(saved, '{}'), true);
  RETURN blanked;
END
$fn$
"""


def create(apps, schema_editor):
    quote = schema_editor.connection.ops.quote_name
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        if cursor.fetchone()[0] == settings.DATABASE_APP_ROLE:
            raise RuntimeError("Run migrations as the schema owner (CRM_DB_ROLE=owner), not the application role")
        cursor.execute(FUNCTION)
        cursor.execute(f"REVOKE ALL ON FUNCTION {SIGNATURE} FROM PUBLIC")
        cursor.execute(f"GRANT EXECUTE ON FUNCTION {SIGNATURE} TO {quote(settings.DATABASE_APP_ROLE)}")


def drop(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"DROP FUNCTION IF EXISTS {SIGNATURE}")


class Migration(migrations.Migration):
    dependencies = [("contacts", "0003_remove_contact_update_update_and_more")]

    operations = [migrations.RunPython(create, drop)]
