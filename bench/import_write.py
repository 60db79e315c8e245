"""Where the time of an import's write goes: EXPLAIN ANALYZE of the statement that moves one chunk of
contacts from the staging table into contacts_contact (crm/imports/writing.py), taken apart by
switching one cost off at a time, each in a transaction that is rolled back.

    cd /work/main && . .venv/bin/activate && eval $(python scripts/services.py env)
    python bench/imports.py --db crm_import_bench_b --rows 100000     # a tenant with contacts
    python bench/import_write.py --db crm_import_bench_b --rows 20000

The chunk is a copy of the newest bench tenant's contacts with new ids. Variants (as the schema
owner, who is under FORCEd RLS like the application role; `app` runs the same as crm_app):
  app       as the application role, as the import runs it
  owner     the same as the owner
  -history  the history trigger of contacts_contact disabled
  -rls      and FORCE ROW LEVEL SECURITY lifted (no WITH CHECK per row)
  -indexes  and every index but the primary key dropped
  -gin      (history, RLS on) only the two GIN search indexes dropped
  gin-list  (everything on) gin_pending_list_limit raised to 64 MB for the transaction
  -event-indexes  (everything on) the history table's copied-foreign-key indexes dropped (only its
            key and (tenant_id, pgh_obj_id), the one history is read through, stay)
Foreign-key checks are deferred to commit in the schema; the statement runs with SET CONSTRAINTS
ALL IMMEDIATE so that their cost shows up as triggers in the plan ("RI_ConstraintTrigger").
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import connect_app, connect_owner, enter_tenant, machine, require_scratch  # noqa: E402


def columns(cur) -> list[str]:
    cur.execute("SELECT column_name FROM information_schema.columns WHERE table_name = 'contacts_contact' "
                "AND is_generated = 'NEVER' ORDER BY ordinal_position")
    return [c for (c,) in cur.fetchall()]


def stage(cur, tenant, rows: int, cols: list[str]) -> None:
    others = [c for c in cols if c not in ("id", "email")]
    cur.execute(f"CREATE TEMP TABLE chunk ON COMMIT DROP AS SELECT uuidv7() AS id, 'x' || email AS email, "
                f"{', '.join(others)} FROM contacts_contact WHERE tenant_id = %s LIMIT %s", [tenant, rows])
    cur.execute("ANALYZE chunk")


def explain(cur, cols: list[str]) -> dict:
    cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
    names = ", ".join(cols)
    cur.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) INSERT INTO contacts_contact ({names}) "
                f"SELECT {names} FROM chunk")
    return cur.fetchone()[0][0]


def run(conn, tenant, rows, variant: str) -> dict:
    with conn.cursor() as cur:
        cur.execute("BEGIN")
        try:
            enter_tenant(cur, tenant)
            cur.execute("SELECT set_config('pgtrigger.ignore', '{}', true)")
            cols = columns(cur)
            stage(cur, tenant, rows, cols)
            if variant == "-gin":  # only the two GIN search indexes dropped, everything else on
                cur.execute("SELECT i.indexrelid::regclass::text FROM pg_index i JOIN pg_class c ON "
                            "c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam "
                            "WHERE i.indrelid = 'contacts_contact'::regclass AND am.amname = 'gin'")
                for (index,) in cur.fetchall():
                    cur.execute(f"DROP INDEX {index}")
            if variant == "-event-indexes":  # the history table keeps only its key and (tenant, pgh_obj)
                cur.execute("SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = "
                            "'contacts_contactevent'::regclass AND NOT indisprimary "
                            "AND indexrelid::regclass::text NOT LIKE '%%pgh_obj_id%%'")
                for (index,) in cur.fetchall():
                    cur.execute(f"DROP INDEX {index}")
            if variant == "gin-list":  # a larger GIN pending list for this transaction
                cur.execute("SET LOCAL gin_pending_list_limit = '64MB'")
            if variant in ("-history", "-rls", "-indexes"):
                cur.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = 'contacts_contact'::regclass "
                            "AND tgname LIKE 'pgtrigger_insert_insert_%'")
                cur.execute(f"ALTER TABLE contacts_contact DISABLE TRIGGER {cur.fetchone()[0]}")
            if variant in ("-rls", "-indexes"):
                cur.execute("ALTER TABLE contacts_contact NO FORCE ROW LEVEL SECURITY")
            if variant == "-indexes":
                cur.execute("SELECT i.indexrelid::regclass::text FROM pg_index i LEFT JOIN pg_constraint c "
                            "ON c.conindid = i.indexrelid WHERE i.indrelid = 'contacts_contact'::regclass "
                            "AND NOT i.indisprimary AND c.oid IS NULL")
                for (index,) in cur.fetchall():
                    cur.execute(f"DROP INDEX {index}")
            return explain(cur, cols)
        finally:
            cur.execute("ROLLBACK")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default="crm_import_bench")
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--variants", default="app,owner,-history,-rls,-indexes",
                        help="comma-separated, of: app owner -history -rls -indexes -gin gin-list -event-indexes")
    args = parser.parse_args()
    db = require_scratch(args.db)
    owner = connect_owner(db)
    app = connect_app(db)
    with owner.cursor() as cur:
        cur.execute("SELECT t.id FROM tenancy_tenant t WHERE t.name LIKE 'Bench 1%%' ORDER BY t.created_at DESC LIMIT 1")
        tenant = cur.fetchone()[0]
        owner.rollback()
    for variant in args.variants.split(","):
        for n in range(args.repeat):
            plan = run(app if variant == "app" else owner, tenant, args.rows, variant)
            triggers = {}
            for t in plan.get("Triggers", []):
                name = "RI (foreign keys)" if t["Trigger Name"].startswith("RI_") else t["Trigger Name"]
                calls, ms = triggers.get(name, (0, 0.0))
                triggers[name] = (calls + t["Calls"], ms + t["Time"])
            print(f"{variant:9} #{n + 1}: {plan['Execution Time']:8.0f} ms total, insert node "
                  f"{plan['Plan']['Actual Total Time']:7.0f} ms; "
                  + "; ".join(f"{k}: {c:,} calls {ms:.0f} ms" for k, (c, ms) in triggers.items()))
    print(machine())


if __name__ == "__main__":
    main()
