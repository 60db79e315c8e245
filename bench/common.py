"""Helpers shared by the benchmarks in bench/: connections to a scratch database as the owner and as
the application role, the scratch-database guard, percentiles, and "the same search without RLS"
(the reviewed search functions' bodies run by the owner with FORCE lifted).

Not imported by the product. Every function here takes explicit connections; nothing is global.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
from urllib.parse import urlparse

import psycopg2

# databases a benchmark must never write to (the development database and the test databases)
PROTECTED = {"crm", "postgres", "template0", "template1"}


def require_scratch(db: str) -> str:
    """Refuse anything but a scratch benchmark database: a name containing 'bench', never `crm`."""
    if db in PROTECTED or db.startswith("test_") or "bench" not in db:
        raise SystemExit(f"refusing to use {db!r}: a scratch database whose name contains 'bench', please")
    return db


def dsn(env: str, db: str) -> str:
    """The libpq DSN of the role in `env` (DATABASE_URL: crm_app, DATABASE_OWNER_URL: crm_owner),
    pointed at the scratch database `db` instead of the one the URL names."""
    u = urlparse(os.environ[env])
    return f"host={u.hostname} port={u.port} user={u.username} password={u.password} dbname={db}"


def url(env: str, db: str) -> str:
    """The same role's URL with the database replaced (for Django's settings)."""
    u = urlparse(os.environ[env])
    return u._replace(path="/" + db).geturl()


def connect_owner(db: str):
    return psycopg2.connect(dsn("DATABASE_OWNER_URL", require_scratch(db)))


def connect_app(db: str):
    return psycopg2.connect(dsn("DATABASE_URL", require_scratch(db)))


def enter_tenant(cur, tenant_id) -> None:
    """What crm/tenancy/context.py does at the start of a request's transaction."""
    cur.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant_id)])


def p95(xs) -> float:
    xs = sorted(xs)
    return xs[max(0, int(round(0.95 * len(xs))) - 1)]


def summary(xs) -> dict:
    return {"n": len(xs), "p50": statistics.median(xs), "p95": p95(xs), "max": max(xs)}


def machine() -> str:
    """One line for RESULTS.md: cores, memory, OS, PostgreSQL."""
    cores = os.cpu_count()
    try:
        with open("/proc/meminfo") as f:
            mem_gib = int(f.readline().split()[1]) / 1024 / 1024
    except OSError:
        mem_gib = 0
    try:
        osname = subprocess.run(["sh", "-c", ". /etc/os-release && echo $PRETTY_NAME"], capture_output=True,
                                text=True, check=False).stdout.strip()
    except OSError:
        osname = platform.platform()
    return f"{cores} cores, {mem_gib:.1f} GiB, {osname}, Python {platform.python_version()}"


# --- the same search without RLS --------------------------------------------------------------

SEARCH_FETCH = {
    "accounts": "SELECT a.id, a.name, a.domain, a.industry, a.billing_city, a.owner_id FROM accounts_account a "
                "WHERE a.tenant_id = %s AND a.id = ANY(%s::uuid[])",
    "contacts": "SELECT c.id, c.first_name, c.last_name, c.title, c.email, c.owner_id FROM contacts_contact c "
                "WHERE c.tenant_id = %s AND c.id = ANY(%s::uuid[])",
}


def create_baseline_search(owner) -> None:
    """pg_temp.base_<kind>(q, n): the reviewed search functions' bodies as SECURITY INVOKER copies in
    the owner's session, so that the owner with FORCE lifted runs the same SQL without any RLS."""
    cur = owner.cursor()
    cur.execute("SELECT similarity('a', 'a')")  # loads pg_trgm's library: its setting in SET below
    for kind in SEARCH_FETCH:
        cur.execute("SELECT prosrc FROM pg_proc WHERE proname = %s", [f"crm_search_{kind}"])
        body = cur.fetchone()[0]
        cur.execute(
            f"CREATE OR REPLACE FUNCTION pg_temp.base_{kind}(query text, max_rows integer DEFAULT 200) "
            "RETURNS TABLE (id uuid, score real) LANGUAGE plpgsql STABLE "
            "SET search_path = public, pg_temp SET plan_cache_mode = force_custom_plan "
            "SET pg_trgm.word_similarity_threshold = 0.5 AS $fn$" + body + "$fn$")
    owner.commit()


def search_sql(cur, q: str, tenant_id, *, function: str = "crm_search_{}", rows: int = 200) -> float:
    """One global search at the SQL level (what crm.search.selectors sends): per type the function's
    candidates, then the rows by id. Returns milliseconds."""
    import time

    t0 = time.perf_counter()
    for kind in SEARCH_FETCH:
        cur.execute(f"SELECT id FROM {function.format(kind)}(%s, %s)", [q, rows])
        ids = [str(r[0]) for r in cur.fetchall()]
        cur.execute(SEARCH_FETCH[kind], [str(tenant_id), ids])
        cur.fetchall()
    return (time.perf_counter() - t0) * 1000


def search_without_rls(owner, q: str, tenant_id) -> float:
    """The same search as the owner with FORCE lifted (rolled back: FORCE comes back)."""
    cur = owner.cursor()
    cur.execute("ALTER TABLE accounts_account NO FORCE ROW LEVEL SECURITY")
    cur.execute("ALTER TABLE contacts_contact NO FORCE ROW LEVEL SECURITY")
    enter_tenant(cur, tenant_id)
    ms = search_sql(cur, q, tenant_id, function="pg_temp.base_{}")
    owner.rollback()
    return ms


def search_with_rls(app, q: str, tenant_id) -> float:
    cur = app.cursor()
    enter_tenant(cur, tenant_id)
    ms = search_sql(cur, q, tenant_id)
    app.rollback()
    return ms
