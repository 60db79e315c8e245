"""outbox_due_messages(): how the relay, which runs in no tenant, finds the messages due across tenants.

RLS hides every OutboxMessage from a connection that has entered no tenant, and the application
role can never bypass it. Rather than weaken that, one narrow SECURITY DEFINER function, owned by
the schema owner, returns the (tenant_id, id) of due messages and nothing else: no payload, no
address, no subject. The relay then enters each message's tenant and claims and sends it under RLS
(crm/outbox/services.py). Reviewed in tests/isolation/test_rls_catalog.py.

The owner is subject to RLS too (FORCE), so a SELECT-only policy lets the owner role (and so this
function) see unsent rows. This grants nothing new: the owner owns the table and could switch RLS
off; the application role gets no such policy.
"""

from django.conf import settings
from django.db import migrations

STATUSES = "('pending', 'failed', 'sending')"  # models.DUE_STATUSES, as in the partial index


def create(apps, schema_editor):
    quote = schema_editor.connection.ops.quote_name
    app_role = settings.DATABASE_APP_ROLE
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        if cursor.fetchone()[0] == app_role:
            raise RuntimeError("Run migrations as the schema owner (CRM_DB_ROLE=owner), not the application role")
        cursor.execute(
            f"""
            CREATE OR REPLACE FUNCTION outbox_due_messages(max_rows integer)
            RETURNS TABLE (tenant_id uuid, id uuid)
            LANGUAGE sql VOLATILE SECURITY DEFINER
            SET search_path = public, pg_temp
            AS $$
                SELECT m.tenant_id, m.id
                FROM public.outbox_outboxmessage m
                WHERE m.status IN {STATUSES} AND m.next_attempt_at <= clock_timestamp()
                ORDER BY m.next_attempt_at
                LIMIT least(greatest(coalesce(max_rows, 0), 0), 1000)
            $$
            """
        )
        cursor.execute("REVOKE ALL ON FUNCTION outbox_due_messages(integer) FROM PUBLIC")
        cursor.execute(f"GRANT EXECUTE ON FUNCTION outbox_due_messages(integer) TO {quote(app_role)}")
        cursor.execute("DROP POLICY IF EXISTS outbox_relay_due ON outbox_outboxmessage")
        cursor.execute(
            f"CREATE POLICY outbox_relay_due ON outbox_outboxmessage FOR SELECT TO CURRENT_USER "
            f"USING (status IN {STATUSES})"
        )


def drop(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("DROP FUNCTION IF EXISTS outbox_due_messages(integer)")
        cursor.execute("DROP POLICY IF EXISTS outbox_relay_due ON outbox_outboxmessage")


class Migration(migrations.Migration):
    dependencies = [("outbox", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
