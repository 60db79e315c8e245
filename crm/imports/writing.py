"""The write phase: the validated rows, from the spool files, into the real tables, set-based.

`COPY FROM` into a table under row-level security is refused for the application role, so the
rows are COPYed into a TEMP staging table (temp tables have no RLS: they are private to the
session and dropped at commit) and moved with `INSERT … SELECT` in the tenant: the policy's
WITH CHECK verifies every row's tenant, the composite foreign keys every reference, and the
pghistory triggers record every created/changed record under the "import" source, once per
statement (one trigger call per chunk and table, not per row).

All of it runs in ONE transaction (the caller's `tenant_context`): a crash, a kill of the worker
or an exception at any point leaves nothing behind (tests/test_crash.py raises after the first
chunk). The work is cut into chunks of CHUNK rows, COPY → INSERT/UPDATE → TRUNCATE, so that no
statement runs long (crm_app's statement_timeout is 30 s), memory stays flat, and progress can be
reported after each chunk. Progress is written by a second, short-lived connection in its own
tiny transactions (`ProgressReporter`): the main transaction's rows stay invisible until commit,
the job's progress column does not.
"""

from __future__ import annotations

import io
import itertools
from pathlib import Path

from django.db import connection, connections

CHUNK = 20_000
# tests set this to a callable(chunk_number) to simulate a crash in the middle of the write
after_chunk = None

# Columns handled outside the generic SET list on updates (contacts: the match key and the phone,
# which has its own rows)
NOT_UPDATED = {"email", "phone"}


class ProgressReporter:
    """Writes `processed` of a job through its own connection, committed at once, while the main
    transaction is still open. Skips (never waits) when the job row is locked."""

    def __init__(self, tenant_id, job_id):
        self.tenant_id, self.job_id = str(tenant_id), str(job_id)
        self.conn = None

    def __call__(self, processed: int) -> None:
        try:
            if self.conn is None:
                self.conn = connections.create_connection("default")
            with self.conn.cursor() as cursor:
                cursor.execute("BEGIN")
                cursor.execute("SELECT set_config('app.tenant_id', %s, true)", [self.tenant_id])
                cursor.execute(
                    "UPDATE imports_importjob SET processed = %s WHERE tenant_id = %s AND id IN "
                    "(SELECT id FROM imports_importjob WHERE tenant_id = %s AND id = %s FOR UPDATE SKIP LOCKED)",
                    [processed, self.tenant_id, self.tenant_id, self.job_id],
                )
                cursor.execute("COMMIT")
        except Exception:  # progress is a courtesy: it never fails an import
            self.close()

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            finally:
                self.conn = None


def _column_types(model, columns: list[str]) -> list[tuple[str, str, object]]:
    """(db column, SQL type, default for a new record) per staging column."""
    out = []
    for key in columns:
        f = model._meta.get_field(key)
        sql_type = f.db_type(connection)
        if f.is_relation:
            sql_type = "uuid"
        if f.has_default():
            default = f.get_default()
        elif f.null:
            default = None
        else:
            default = ""
        out.append((f.column, sql_type, default))
    return out


def write(*, actor, importer, job, columns: list[str], mapped: set[str], directory: Path, specs: list,
          progress=None) -> tuple[int, int]:
    """Create and update the records of the spool files. Returns (created, updated). Runs inside
    the caller's transaction and tenant.

    Field-level security: the rows are written in bulk, so crm.access.fields.guard() does not see
    each record; the mapping check is the guard (objects.guard_mapping: no column goes to a field
    hidden or read only for the actor, so no such field is ever among `columns`/`mapped`). It is
    asked again here, whoever calls this, before anything is written."""
    from .objects import guard_mapping

    guard_mapping(actor, importer, job.header, job.mapping)
    model = importer.model
    table = model._meta.db_table
    tenant = str(actor.tenant_id)
    typed = _column_types(model, columns)
    has_created_by = any(f.name == "created_by" for f in model._meta.fields)
    has_modified_by = any(f.name == "modified_by" for f in model._meta.fields)
    with connection.cursor() as cursor:
        # The audit triggers stay on; they fire once per statement (crm/audit/history.py) and record
        # a whole chunk with one INSERT … SELECT. Each first asks pgtrigger whether it is switched
        # off by reading the setting `pgtrigger.ignore` inside an EXCEPTION block; unset, that read
        # raises and is caught (a subtransaction per trigger call). An empty list, local to this
        # transaction, makes the read succeed and ignores nothing.
        cursor.execute("SELECT set_config('pgtrigger.ignore', '{}', true)")
        # dropped at commit; a savepoint (tests) may have left one in this transaction
        cursor.execute("DROP TABLE IF EXISTS pg_temp.import_stage, pg_temp.import_values")
        cursor.execute(
            "CREATE TEMP TABLE import_stage (line int, action text, id uuid, "
            + ", ".join(f'"{col}" {sql_type}' for col, sql_type, _ in typed)
            + ", custom jsonb) ON COMMIT DROP"
        )
        cursor.execute("CREATE TEMP TABLE import_values (record_id uuid, field_id uuid, text_key text, "
                       "number float8, date date, flag boolean) ON COMMIT DROP")
        created = updated = done = 0
        chunk_number = 0
        with open(directory / "records.copy", encoding="utf-8") as spool:
            while True:
                lines = list(itertools.islice(spool, CHUNK))
                if not lines:
                    break
                chunk_number += 1
                cursor.execute("TRUNCATE import_stage")
                cursor.cursor.copy_expert("COPY import_stage FROM STDIN", io.StringIO("".join(lines)))
                cursor.execute("ANALYZE import_stage")  # temp tables have no statistics: good join plans
                c, u = _move(cursor, importer, table, tenant, actor, typed, mapped, has_created_by, has_modified_by)
                created += c
                updated += u
                done += len(lines)
                if after_chunk is not None:
                    after_chunk(chunk_number)
                if progress:
                    progress(done)
        with open(directory / "values.copy", encoding="utf-8") as spool:
            while True:
                lines = list(itertools.islice(spool, CHUNK * 2))
                if not lines:
                    break
                cursor.execute("TRUNCATE import_values")
                cursor.cursor.copy_expert("COPY import_values FROM STDIN", io.StringIO("".join(lines)))
                cursor.execute("ANALYZE import_values")
                if updated:
                    cursor.execute(
                        "DELETE FROM customfields_customvalue cv USING (SELECT DISTINCT record_id, field_id "
                        "FROM import_values) v WHERE cv.tenant_id = %s AND cv.record_id = v.record_id "
                        "AND cv.field_id = v.field_id", [tenant])
                cursor.execute(
                    "INSERT INTO customfields_customvalue (id, tenant_id, created_at, updated_at, field_id, "
                    "record_id, text_key, number, date, flag) SELECT uuidv7(), %s, now(), now(), field_id, "
                    "record_id, text_key, number, date, flag FROM import_values", [tenant])
    return created, updated


def _move(cursor, importer, table, tenant, actor, typed, mapped, has_created_by, has_modified_by) -> tuple[int, int]:
    actor_id = str(actor.pk)
    names = [col for col, _, _ in typed]
    insert_cols = ["id", "tenant_id", "created_at", "updated_at", *names, "custom"]
    select = ["s.id", "%s", "now()", "now()"]
    params: list = [tenant]
    for col, sql_type, default in typed:
        if default is None:
            select.append(f's."{col}"')
        else:
            select.append(f's."{col}"' if col == "owner_id" else f'COALESCE(s."{col}", %s::{sql_type})')
            if col != "owner_id":
                params.append(default)
    select.append("COALESCE(s.custom, '{}'::jsonb)")
    for col, value in _other_defaults(importer.model, names):  # NOT NULL columns no row fills
        insert_cols.append(col)
        select.append("%s")
        params.append(value)
    if has_created_by:
        insert_cols.append("created_by_id")
        select.append("%s")
        params.append(actor_id)
    if has_modified_by:
        insert_cols.append("modified_by_id")
        select.append("%s")
        params.append(actor_id)
    cursor.execute(
        f"INSERT INTO {table} ({', '.join(insert_cols)}) SELECT {', '.join(select)} "
        "FROM import_stage s WHERE s.action = 'create'", params)
    created = cursor.rowcount
    updated = 0
    cursor.execute("SELECT EXISTS (SELECT 1 FROM import_stage WHERE action = 'update')")
    if importer.match and cursor.fetchone()[0]:
        sets = [f'"{col}" = COALESCE(s."{col}", c."{col}")' for col, _, _ in typed
                if _key_of(col) in mapped and _key_of(col) not in NOT_UPDATED]
        sets += ["custom = c.custom || COALESCE(s.custom, '{}'::jsonb)", "updated_at = now()"]
        params = [tenant]
        if has_modified_by:
            sets.append("modified_by_id = %s")
            params.insert(0, actor_id)
        from crm.access import policy

        # checked per row already; checked again here, through the engine, by key: a right lost
        # between the check and the write leaves that record as it was
        cursor.execute("SELECT id FROM import_stage WHERE action = 'update'")
        staged = [pk for (pk,) in cursor.fetchall()]
        editable = policy.visible(importer.model.objects.for_tenant(tenant).filter(id__in=staged), actor, "edit")
        params.append([str(pk) for pk in editable.values_list("id", flat=True)])
        cursor.execute(
            f"UPDATE {table} c SET {', '.join(sets)} FROM import_stage s "
            f"WHERE c.tenant_id = %s AND c.id = s.id AND s.action = 'update' AND c.id = ANY(%s::uuid[])", params)
        updated = cursor.rowcount
    if importer.key == "contacts":
        cursor.execute(
            "INSERT INTO contacts_contactemail (id, tenant_id, created_at, updated_at, contact_id, email, label, "
            "is_primary) SELECT uuidv7(), %s, now(), now(), s.id, s.email, '', true FROM import_stage s "
            "WHERE s.action = 'create' AND s.email <> ''", [tenant])
        cursor.execute(
            "INSERT INTO contacts_contactphone (id, tenant_id, created_at, updated_at, contact_id, number, label, "
            "is_primary) SELECT uuidv7(), %s, now(), now(), s.id, s.phone, '', true FROM import_stage s "
            "WHERE s.action = 'create' AND s.phone <> ''", [tenant])
        if updated and "phone" in mapped:
            # a new number on an existing contact: primary when they had none, else one more number
            cursor.execute(
                "UPDATE contacts_contact c SET phone = s.phone FROM import_stage s WHERE c.tenant_id = %s "
                "AND c.id = s.id AND s.action = 'update' AND s.phone <> '' AND c.phone = ''", [tenant])
            cursor.execute(
                "INSERT INTO contacts_contactphone (id, tenant_id, created_at, updated_at, contact_id, number, "
                "label, is_primary) SELECT uuidv7(), %s, now(), now(), s.id, s.phone, '', c.phone = s.phone "
                "FROM import_stage s JOIN contacts_contact c ON c.tenant_id = %s AND c.id = s.id "
                "WHERE s.action = 'update' AND s.phone <> '' ON CONFLICT DO NOTHING", [tenant, tenant])
    return created, updated


SET_ELSEWHERE = {"id", "tenant_id", "created_at", "updated_at", "custom", "created_by_id", "modified_by_id"}


def _other_defaults(model, names: list[str]) -> list[tuple[str, object]]:
    """(column, value) for the model's NOT NULL columns that are not imported: their default, or
    "" for text (so a later field on the model does not break its import)."""
    out = []
    for f in model._meta.concrete_fields:
        if f.column in names or f.column in SET_ELSEWHERE or f.null or getattr(f, "generated", False):
            continue
        out.append((f.column, f.get_default() if f.has_default() else ""))
    return out


def _key_of(column: str) -> str:
    return column[:-3] if column.endswith("_id") else column
