#!/usr/bin/env python
"""What forced row-level security costs, and the trap it sets (issue section 9).

    python bench/rls_overhead.py                      # 1,000 tenants, 1,000,000 rows (the issue's scale)
    python bench/rls_overhead.py --tenants 50 --rows 20000 --reps 50     # a quick look

It builds its own database `crm_bench` on the project's PostgreSQL (scripts/services.py) with one
CRM customer table of a realistic width (the shape accounts.Account will have), under exactly the
project's policy (crm/tenancy/rls.py), loads it the way the product loads bulk data, and times the
same SQL as:

  rls   the application role crm_app (NOSUPERUSER, NOBYPASSRLS) inside a transaction that set
        app.tenant_id with set_config(..., true), as crm/tenancy/context.py does;
  base  the table owner without RLS: FORCE applies RLS to the owner too, so the script lifts it
        (ALTER TABLE ... NO FORCE ROW LEVEL SECURITY) for the duration of the timing and restores it
        afterwards; crm_app is not the owner, so FORCE makes no difference to it. Same SQL, same
        explicit `tenant_id = ...`, no policy. (--baseline superuser uses the superuser instead.)

Three groups of queries, all in the largest tenant:

  list     the list page: first page and a deep page (keyset, and OFFSET for comparison) on the
           (tenant_id, name_key, id) index, count, detail by id. Target: rls/base <= 1.10.
  trap     conditions whose function is not LEAKPROOF (lower(), ILIKE, @@, trigram, numeric
           comparison, array containment): under RLS PostgreSQL must not evaluate them before the
           policy, so their index is unusable and the query reads the whole tenant.
  pattern  what the project does instead: normalised `*_key` columns compared with leakproof
           btree operators (prefix search as a range), and one narrow SECURITY DEFINER search
           function that re-applies the tenant filter itself and returns ids.

Loading: `COPY FROM` is refused on a table under RLS for any role RLS applies to (FORCE: the owner
too), so rows go the product's way: COPY into a session-private TEMP staging table, then
`INSERT ... SELECT` into the real table as crm_app with the tenant set, the policy's WITH CHECK
verifying every row. Tenants are loaded in rounds so their rows interleave on disk as organic
growth would. The database is kept; a second run with the same scale reuses it (--reload rebuilds).

Timings are client-side (execute + fetch, what Django sees, planning included), warm cache, the two
roles interleaved, medians and p95 over --reps runs (--slow-reps for queries slower than 20 ms).
Shared buffers touched come from EXPLAIN (ANALYZE, BUFFERS): they do not depend on machine noise.
"""

from __future__ import annotations

import argparse
import csv
import gc
import io
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

import psycopg2
import psycopg2.extensions

ROOT = Path(__file__).resolve().parent.parent

# Exactly the policy of crm/tenancy/rls.py (imported when Django is importable, so a change there
# is benchmarked; the literal is the fallback for running without the project on the path).
try:
    sys.path.insert(0, str(ROOT))
    from crm.tenancy.rls import TENANT_SETTING  # noqa: E402
except Exception:  # pragma: no cover - Django settings not needed, but be robust
    TENANT_SETTING = "NULLIF(current_setting('app.tenant_id', true), '')::uuid"

TABLE = "bench_customer"
SEARCH_ROLE = "crm_bench_search"  # NOLOGIN BYPASSRLS owner of the narrow search function
SEARCH_FUNCTION = "crm_search_customer"

# ---------------------------------------------------------------------------------------------
# Schema: a CRM customer table (accounts.Account-shaped), ~25 columns.
# ---------------------------------------------------------------------------------------------

LOAD_COLUMNS = [
    ("id", "uuid NOT NULL"),
    ("tenant_id", "uuid NOT NULL"),
    ("kind", "text NOT NULL"),
    ("name", "text NOT NULL"),
    ("legal_name", "text NOT NULL"),
    ("domain", "text NOT NULL"),
    ("email", "text NOT NULL"),
    ("phone", "text NOT NULL"),
    ("street", "text NOT NULL"),
    ("postal_code", "text NOT NULL"),
    ("city", "text NOT NULL"),
    ("country", "char(2) NOT NULL"),
    ("industry", "text NOT NULL"),
    ("owner_id", "uuid NOT NULL"),
    ("status", "text NOT NULL"),
    ("annual_revenue", "numeric(14, 2)"),
    ("employees", "integer"),
    ("tags", "text[] NOT NULL"),
    ("description", "text"),
    ("created_at", "timestamptz NOT NULL"),
    ("updated_at", "timestamptz NOT NULL"),
]

# The generated columns are the pattern: normalised keys stored in real columns. `name_key` is
# casefold() under the builtin PG_UNICODE_FAST collation (full Unicode case folding, the same as
# Python's str.casefold(); the builtin provider does not change with the operating system's libc),
# stored with COLLATE "C" so comparisons are plain code-point order: deterministic, leakproof, and
# a prefix is exactly a range. crm/tenancy/search.py writes the same expression for Django.
GENERATED_COLUMNS = [
    ("name_key", 'text COLLATE "C" GENERATED ALWAYS AS (casefold(name COLLATE pg_unicode_fast)) STORED'),
    ("email_key", 'text COLLATE "C" GENERATED ALWAYS AS (casefold(email COLLATE pg_unicode_fast)) STORED'),
    ("annual_revenue_minor", "bigint GENERATED ALWAYS AS ((annual_revenue * 100)::bigint) STORED"),
    (
        "search",
        "tsvector GENERATED ALWAYS AS (to_tsvector('simple', name || ' ' || legal_name || ' ' || domain"
        " || ' ' || city)) STORED",
    ),
]

INDEXES = {
    # the list index: tenant first, the stored key, id to make the order total (keyset paging)
    "bench_customer_name_key_idx": f"CREATE INDEX bench_customer_name_key_idx ON {TABLE} (tenant_id, name_key, id)",
    "bench_customer_owner_idx": f"CREATE INDEX bench_customer_owner_idx ON {TABLE} (tenant_id, owner_id)",
    "bench_customer_updated_idx": f"CREATE INDEX bench_customer_updated_idx ON {TABLE} (tenant_id, updated_at, id)",
    "bench_customer_revenue_minor_idx": (
        f"CREATE INDEX bench_customer_revenue_minor_idx ON {TABLE} (tenant_id, annual_revenue_minor)"
    ),
    # --- indexes that only the trap queries would use: each is fine without RLS, unusable with it
    "bench_customer_lower_name_idx": f"CREATE INDEX bench_customer_lower_name_idx ON {TABLE} (tenant_id, lower(name), id)",
    "bench_customer_revenue_idx": f"CREATE INDEX bench_customer_revenue_idx ON {TABLE} (tenant_id, annual_revenue)",
    "bench_customer_tags_idx": f"CREATE INDEX bench_customer_tags_idx ON {TABLE} USING gin (tenant_id, tags)",
    # --- search indexes (btree_gin lets them lead with tenant_id); the search function uses them
    "bench_customer_name_trgm_idx": (
        f"CREATE INDEX bench_customer_name_trgm_idx ON {TABLE} USING gin (tenant_id, name gin_trgm_ops)"
    ),
    "bench_customer_search_idx": f"CREATE INDEX bench_customer_search_idx ON {TABLE} USING gin (tenant_id, search)",
}


def create_table_sql() -> str:
    cols = [f"{n} {t}" for n, t in LOAD_COLUMNS] + [f"{n} {t}" for n, t in GENERATED_COLUMNS]
    return (
        f"CREATE TABLE {TABLE} (\n  "
        + ",\n  ".join(cols)
        + f",\n  CONSTRAINT {TABLE}_pkey PRIMARY KEY (id),"
        + f"\n  CONSTRAINT {TABLE}_tenant_id_uniq UNIQUE (tenant_id, id)\n)"
    )


# The narrow search path. SECURITY DEFINER so that it runs as a role RLS does not apply to (the
# table owner will not do: FORCE applies RLS to the owner as well, and the index would stay
# unusable). It re-reads the tenant from the transaction's setting itself (never a parameter the
# caller could choose), returns ids only (the caller fetches rows under RLS, through the visibility
# engine), caps the result, pins search_path.
SEARCH_FUNCTION_SQL = f"""
CREATE FUNCTION {SEARCH_FUNCTION}(query text, max_rows integer DEFAULT 200)
RETURNS TABLE (id uuid, score real)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
  SELECT c.id,
         greatest(ts_rank(c.search, websearch_to_tsquery('simple', query)),
                  word_similarity(query, c.name)) AS score
  FROM public.{TABLE} c
  WHERE c.tenant_id = {TENANT_SETTING}
    AND (c.search @@ websearch_to_tsquery('simple', query) OR query <% c.name)
  ORDER BY score DESC, c.id
  LIMIT least(greatest(max_rows, 0), 1000)
$$
"""

# ---------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------

WORDS = (
    "Acme Globex Initech Umbrella Stark Wayne Hooli Vandelay Soylent Tyrell Cyberdyne Wonka Oscorp Massive "
    "Dunder Sterling Aperture Monarch Nakatomi Bluth Prestige Zorg Gekko Duff Krusty Virtucon Wernham Abstergo "
    "Blue Green Red Silver Golden Northern Southern Eastern Western Central Alpine Coastal Urban Royal Prime "
    "Nova Apex Summit Pioneer Horizon Beacon Harbor Meadow River Lake Forest Mountain Valley Canyon Delta "
    "Atlas Orion Vega Lyra Aurora Zenith Vertex Quantum Fusion Vector Matrix Pixel Nimbus Cobalt Titan "
    "Müller Schäfer Größe Öztürk Ørsted Åkesson Łukasz Český Société Générale Straße Zürich São İstanbul "
    "Ibáñez Niño Dvořák Jørgensen Ærø Kraków Malmö Tromsø Düsseldorf Köln Genève Málaga Córdoba Señor "
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez "
    "Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark "
    "Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Adams Nelson "
    "Baker Hall Rivera Campbell Mitchell Carter Roberts Schmidt Schneider Fischer Weber Meyer Wagner Becker "
    "Hoffmann Koch Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann Hartmann "
    "Lange Schmitt Werner Krause Meier Lehmann Köhler Maier Herrmann König Walter Mayer Huber Kaiser "
    "Fuchs Peters Lang Scholz Möller Weiß Jung Hahn Vogel Friedrich Keller Günther Frank Berger Winkler "
    "Roth Beck Lorenz Baumann Franke Albrecht Schuster Simon Ludwig Böhm Winter Kraus Martin Schumacher"
).split()
INDUSTRIES = (
    "Logistics Holdings Software Bakery Consulting Engineering Foods Motors Pharma Robotics Textiles "
    "Energy Solar Shipping Insurance Bank Capital Media Studios Games Labs Systems Networks Telecom "
    "Hotels Travel Airlines Farms Dairy Brewery Winery Furniture Design Architects Builders Construction "
    "Retail Fashion Cosmetics Health Clinic Dental Optics Security Analytics Cloud Data Mining Metals "
    "Plastics Chemicals Paper Printing Publishing Education Academy Legal Accounting Marketing Realty"
).split()
LEGAL = "GmbH AG Ltd Inc. LLC SA SAS BV NV Oy AB AS KG plc SE S.p.A. Pty Corp. Co.".split()
CITIES = [
    ("Berlin", "DE"), ("München", "DE"), ("Köln", "DE"), ("Hamburg", "DE"), ("Zürich", "CH"), ("Genève", "CH"),
    ("Wien", "AT"), ("Paris", "FR"), ("Lyon", "FR"), ("London", "GB"), ("Manchester", "GB"), ("Dublin", "IE"),
    ("Amsterdam", "NL"), ("Rotterdam", "NL"), ("Bruxelles", "BE"), ("Madrid", "ES"), ("Málaga", "ES"),
    ("Lisboa", "PT"), ("São Paulo", "BR"), ("Milano", "IT"), ("Roma", "IT"), ("Kraków", "PL"), ("Praha", "CZ"),
    ("Stockholm", "SE"), ("Malmö", "SE"), ("Oslo", "NO"), ("København", "DK"), ("Helsinki", "FI"),
    ("İstanbul", "TR"), ("New York", "US"), ("Chicago", "US"), ("Austin", "US"), ("Toronto", "CA"),
    ("Sydney", "AU"), ("Tokyo", "JP"), ("Singapore", "SG"),
]
TAGS = (
    "vip partner reseller churn-risk upsell strategic newsletter trade-show inbound outbound referral "
    "enterprise smb public-sector nonprofit key-account renewal pilot onboarding dormant"
).split()
STATUSES = ["active"] * 6 + ["prospect"] * 3 + ["churned"]
SYLLABLES = "ka lo mi ra to ve zu ni sa po de fi gu ha je ku li mo ne ru".split()
SEARCH_PREFIX = "acme"  # a common first word (~1 in 230 names) that sorts early
SEARCH_PREFIX_LATE = "wonka"  # as common, sorts late: no lucky early stop for an index walk
SEARCH_WORD = "kalomi"  # a rare brand (1 in 8,000 names): "find this customer"
SEARCH_FUZZY = "kalomy"  # the same with a typo, for the trigram (fuzzy) case
EXACT_NAME_ROWS = 1  # an exact-name lookup (duplicate check) finds one row


def brand(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(3)).capitalize()


def tenant_sizes(tenants: int, rows: int, largest: int) -> list[int]:
    """Zipf-like sizes: size(k) = largest / k**s, with s solved so that the sizes add up to `rows`."""
    if tenants == 1:
        return [rows]
    if not rows / tenants <= largest <= rows:
        raise SystemExit(f"--largest must be between rows/tenants ({rows // tenants}) and rows")
    lo, hi = 0.0, 10.0
    for _ in range(100):
        s = (lo + hi) / 2
        total = sum(largest / k**s for k in range(1, tenants + 1))
        lo, hi = (s, hi) if total > rows else (lo, s)
    sizes = [max(1, round(largest / k**s)) for k in range(1, tenants + 1)]
    sizes[0] = largest
    diff = rows - sum(sizes)
    i = 1
    while diff != 0:  # spread the rounding error over the tail, keeping the order and >= 1 row
        idx = 1 + (i % (tenants - 1))
        step = 1 if diff > 0 else -1
        if sizes[idx] + step >= 1 and (step < 0 or sizes[idx] + step <= sizes[idx - 1]):
            sizes[idx] += step
            diff -= step
        i += 1
    return sizes


def tenant_rows(seed: int, t_index: int, tenant_id: uuid.UUID, round_no: int, count: int, owners: list[str]):
    rng = random.Random(f"{seed}/{t_index}/{round_no}")
    base_time = datetime(2020, 1, 1, tzinfo=UTC)
    for _ in range(count):
        first = rng.choice(WORDS)
        b = brand(rng)
        industry = rng.choice(INDUSTRIES)
        legal = rng.choice(LEGAL)
        name = f"{first} {b} {industry}"
        city, country = rng.choice(CITIES)
        domain = f"{b.lower()}-{industry.lower()}.{country.lower()}"
        created = base_time + timedelta(seconds=rng.randrange(0, 5 * 365 * 86400))
        updated = created + timedelta(seconds=rng.randrange(0, 365 * 86400))
        revenue = f"{rng.lognormvariate(14, 2):.2f}" if rng.random() < 0.85 else ""
        employees = str(int(rng.lognormvariate(3.5, 1.5))) if rng.random() < 0.9 else ""
        tags = "{" + ",".join(rng.sample(TAGS, rng.randrange(0, 4))) + "}"
        yield (
            str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            str(tenant_id),
            "company" if rng.random() < 0.9 else "person",
            name,
            f"{name} {legal}",
            domain,
            f"{rng.choice(['info', 'sales', 'contact', 'office'])}@{domain}",
            f"+{rng.randrange(1, 99)} {rng.randrange(10, 999)} {rng.randrange(100000, 9999999)}",
            f"{rng.choice(WORDS)}str. {rng.randrange(1, 200)}",
            f"{rng.randrange(1000, 99999):05d}",
            city,
            country,
            industry,
            rng.choice(owners),
            rng.choice(STATUSES),
            revenue,
            employees,
            tags,
            f"{industry} customer in {city}, account since {created.year}. " * rng.randrange(0, 3),
            created.isoformat(),
            updated.isoformat(),
        )


# ---------------------------------------------------------------------------------------------
# Connections
# ---------------------------------------------------------------------------------------------


def services_env() -> dict[str, str]:
    out = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "services.py"), "env"], capture_output=True, text=True, check=True
    ).stdout
    env = {}
    for line in out.splitlines():
        if line.startswith("export ") and "=" in line:
            k, v = line[len("export ") :].split("=", 1)
            env[k] = v
    return env


@dataclass
class Roles:
    app: dict
    owner: dict
    superuser: dict
    db: str

    def connect(self, which: str, dbname: str | None = None, autocommit: bool = False):
        params = dict(getattr(self, which))
        params["dbname"] = dbname or self.db
        conn = psycopg2.connect(**params)
        conn.autocommit = autocommit
        return conn


def roles_from(args) -> Roles:
    env = {**services_env(), **os.environ}

    def parse(url: str) -> dict:
        u = urlparse(url)
        return {"host": u.hostname, "port": u.port or 5432, "user": u.username, "password": u.password or None}

    app = parse(env["DATABASE_URL"])
    owner = parse(env.get("DATABASE_OWNER_URL") or env["DATABASE_URL"])
    superuser = parse(args.superuser_url or f"postgres://postgres@{app['host']}:{app['port']}/postgres")
    return Roles(app=app, owner=owner, superuser=superuser, db=args.db)


def q1(conn, sql, params=None):
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchone()


def run(conn, sql, params=None):
    with conn.cursor() as cur:
        cur.execute(sql, params)


# ---------------------------------------------------------------------------------------------
# Build and load
# ---------------------------------------------------------------------------------------------


def scale_marker(args) -> str:
    return f"tenants={args.tenants} rows={args.rows} largest={args.largest} seed={args.seed} rounds={args.rounds} v3"


def database_ready(roles: Roles, args) -> bool:
    conn = roles.connect("owner", "postgres", autocommit=True)
    try:
        if not q1(conn, "SELECT 1 FROM pg_database WHERE datname = %s", [args.db]):
            return False
    finally:
        conn.close()
    conn = roles.connect("owner", autocommit=True)
    try:
        row = q1(conn, "SELECT obj_description(to_regclass(%s), 'pg_class')", [TABLE])
        return bool(row and row[0] == scale_marker(args))
    finally:
        conn.close()


def build(roles: Roles, args, tenant_ids: list[uuid.UUID], sizes: list[int]) -> dict:
    timings = {}
    t0 = time.perf_counter()
    conn = roles.connect("owner", "postgres", autocommit=True)
    # dropping needs no other session in it; WITH (FORCE) ends only our own leftovers
    run(conn, f"DROP DATABASE IF EXISTS {args.db} WITH (FORCE)")
    run(conn, f"CREATE DATABASE {args.db}")
    conn.close()

    owner = roles.connect("owner", autocommit=True)
    run(owner, "CREATE EXTENSION IF NOT EXISTS pg_trgm")  # trusted extensions: the owner may
    run(owner, "CREATE EXTENSION IF NOT EXISTS btree_gin")
    run(owner, create_table_sql())
    run(owner, f"ALTER TABLE {TABLE} ENABLE ROW LEVEL SECURITY")
    run(owner, f"ALTER TABLE {TABLE} FORCE ROW LEVEL SECURITY")
    run(
        owner,
        f"CREATE POLICY tenant_isolation ON {TABLE} USING (tenant_id = {TENANT_SETTING}) "
        f"WITH CHECK (tenant_id = {TENANT_SETTING})",
    )
    run(owner, f"GRANT SELECT, INSERT, UPDATE, DELETE ON {TABLE} TO {roles.app['user']}")

    # Load as the application role, the product's bulk path (module docstring).
    app = roles.connect("app")
    cols = ", ".join(n for n, _ in LOAD_COLUMNS)
    run(app, f"CREATE TEMP TABLE staging ({', '.join(f'{n} {t}' for n, t in LOAD_COLUMNS)})")
    app.commit()
    owners_by_tenant = []
    for t_index, size in enumerate(sizes):
        rng = random.Random(f"{args.seed}/owners/{t_index}")
        owners_by_tenant.append([str(uuid.UUID(int=rng.getrandbits(128), version=4))
                                 for _ in range(max(3, size // 400))])
    loaded = 0
    t_load = time.perf_counter()
    for round_no in range(args.rounds):
        for t_index, (tenant_id, size) in enumerate(zip(tenant_ids, sizes, strict=True)):
            count = size // args.rounds + (1 if round_no < size % args.rounds else 0)
            if not count:
                continue
            buf = io.StringIO()
            writer = csv.writer(buf)
            writer.writerows(tenant_rows(args.seed, t_index, tenant_id, round_no, count, owners_by_tenant[t_index]))
            buf.seek(0)
            with app.cursor() as cur:
                cur.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant_id)])
                cur.copy_expert(f"COPY staging ({cols}) FROM STDIN WITH (FORMAT csv)", buf)
                cur.execute(f"INSERT INTO {TABLE} ({cols}) SELECT {cols} FROM staging")
                cur.execute("TRUNCATE staging")
            app.commit()
            loaded += count
        print(f"  load round {round_no + 1}/{args.rounds}: {loaded:,} rows, "
              f"{time.perf_counter() - t_load:.0f} s", flush=True)
    app.close()
    timings["load_s"] = time.perf_counter() - t_load

    t_idx = time.perf_counter()
    run(owner, "SET maintenance_work_mem = '256MB'")
    for name, ddl in INDEXES.items():
        t = time.perf_counter()
        run(owner, ddl)
        print(f"  {name}: {time.perf_counter() - t:.1f} s", flush=True)
    timings["index_s"] = time.perf_counter() - t_idx
    t = time.perf_counter()
    run(owner, f"VACUUM (ANALYZE) {TABLE}")  # also sets the visibility map for index-only scans
    timings["vacuum_analyze_s"] = time.perf_counter() - t
    run(owner, f"COMMENT ON TABLE {TABLE} IS %s", [scale_marker(args)])
    owner.close()
    timings["build_s"] = time.perf_counter() - t0
    return timings


def install_search_function(roles: Roles, args) -> None:
    """The narrow search function, owned by a NOLOGIN BYPASSRLS role (needs a superuser once)."""
    su = roles.connect("superuser", autocommit=True)
    if not q1(su, "SELECT 1 FROM pg_roles WHERE rolname = %s", [SEARCH_ROLE]):
        run(su, f"CREATE ROLE {SEARCH_ROLE} NOLOGIN NOSUPERUSER BYPASSRLS")
    run(su, f"DROP FUNCTION IF EXISTS {SEARCH_FUNCTION}(text, integer)")
    # only the columns the search reads: the function's owner sees nothing else of the table
    run(su, f"GRANT SELECT (id, tenant_id, name, search) ON {TABLE} TO {SEARCH_ROLE}")
    run(su, SEARCH_FUNCTION_SQL)
    run(su, f"ALTER FUNCTION {SEARCH_FUNCTION}(text, integer) OWNER TO {SEARCH_ROLE}")
    run(su, f"REVOKE ALL ON FUNCTION {SEARCH_FUNCTION}(text, integer) FROM PUBLIC")
    run(su, f"GRANT EXECUTE ON FUNCTION {SEARCH_FUNCTION}(text, integer) TO {roles.app['user']}")
    su.close()


# ---------------------------------------------------------------------------------------------
# Queries
# ---------------------------------------------------------------------------------------------

LIST_COLS = "id, name, city, country, industry, status, owner_id, annual_revenue, updated_at"


@dataclass
class Query:
    key: str
    group: str  # list | trap | pattern
    label: str
    sql: str
    note: str = ""
    base: bool = True  # also time the no-RLS baseline
    params: dict = field(default_factory=dict)
    pair: tuple = ()  # the two connections compared, when not ("rls", "base")


def queries(ctx: dict) -> list[Query]:
    t = "tenant_id = %(tenant)s"
    order = "ORDER BY name_key, id LIMIT 50"
    lo, hi = ctx["prefix_lo"], ctx["prefix_hi"]
    return [
        # --- the list page: the ratio the issue targets
        Query("list_first", "list", "first page", f"SELECT {LIST_COLS} FROM {TABLE} WHERE {t} {order}"),
        Query("list_keyset", "list", "deep page, keyset at 50,000",
              f"SELECT {LIST_COLS} FROM {TABLE} WHERE {t} AND (name_key, id) > (%(cursor_key)s, %(cursor_id)s) {order}"),
        Query("list_offset", "list", "deep page, OFFSET 50,000",
              f"SELECT {LIST_COLS} FROM {TABLE} WHERE {t} {order} OFFSET %(deep)s"),
        Query("list_recent", "list", "recently updated (timestamptz keyset)",
              f"SELECT {LIST_COLS} FROM {TABLE} WHERE {t} AND updated_at < %(recent_before)s "
              "ORDER BY updated_at DESC, id DESC LIMIT 50"),
        Query("list_owner", "list", "one owner's accounts (FK index)",
              f"SELECT {LIST_COLS} FROM {TABLE} WHERE {t} AND owner_id = %(owner)s"),
        Query("count", "list", "count(*) of the tenant", f"SELECT count(*) FROM {TABLE} WHERE {t}"),
        Query("detail", "list", "detail by id", f"SELECT * FROM {TABLE} WHERE {t} AND id = %(some_id)s"),
        Query("noise_aa", "list", "A/A noise floor: first page, baseline vs a 2nd baseline connection",
              f"SELECT {LIST_COLS} FROM {TABLE} WHERE {t} {order}", pair=("base2", "base"),
              note="same role, same SQL on two connections: the ratio noise alone produces"),
        Query("count_any", "list", "count(*), tenant written as tenant_id = ANY('{…}')",
              f"SELECT count(*) FROM {TABLE} WHERE tenant_id = ANY(%(tenant_array)s::uuid[])"),
        Query("count_policy_only", "list", "count(*), tenant from the policy only (no gating Result node)",
              f"SELECT count(*) FROM {TABLE}", base=False, note="rls only; base = count's baseline"),
        Query("count_policy_expression", "list", "count(*), explicit filter written as the policy's expression",
              f"SELECT count(*) FROM {TABLE} WHERE tenant_id = {TENANT_SETTING}", base=False,
              note="rls only; base = count's baseline"),
        Query("list_first_policy_only", "list", "first page, tenant from the policy only (no explicit filter)",
              f"SELECT {LIST_COLS} FROM {TABLE} {order}", base=False,
              note="rls only; base column is the explicit-filter baseline of list_first"),
        # --- the trap: non-leakproof conditions
        Query("trap_lower_order", "trap", "ORDER BY lower(name) (expression index)",
              f"SELECT {LIST_COLS} FROM {TABLE} WHERE {t} ORDER BY lower(name), id LIMIT 50",
              note="ordering only: nothing is evaluated before the policy, the index is used"),
        Query("trap_lower_eq", "trap", "lower(name) = '…' (duplicate check)",
              f"SELECT id, name FROM {TABLE} WHERE {t} AND lower(name) = lower(%(exact)s)"),
        Query("trap_ilike_prefix", "trap", f"name ILIKE '{SEARCH_PREFIX}%' (trigram GIN)",
              f"SELECT id, name FROM {TABLE} WHERE {t} AND name ILIKE %(prefix_like)s {order}"),
        Query("trap_ilike_prefix_late", "trap", f"name ILIKE '{SEARCH_PREFIX_LATE}%' (trigram GIN)",
              f"SELECT id, name FROM {TABLE} WHERE {t} AND name ILIKE %(late_like)s {order}"),
        Query("trap_ilike_substring", "trap", f"name ILIKE '%{SEARCH_WORD}%' (trigram GIN)",
              f"SELECT id, name FROM {TABLE} WHERE {t} AND name ILIKE %(word_like)s {order}"),
        Query("trap_trigram", "trap", f"'{SEARCH_FUZZY}' <% name (trigram word similarity)",
              f"SELECT id, name FROM {TABLE} WHERE {t} AND %(fuzzy)s <%% name {order}"),
        Query("trap_fts", "trap", f"search @@ websearch_to_tsquery('{SEARCH_WORD}')",
              f"SELECT id, name FROM {TABLE} WHERE {t} AND search @@ websearch_to_tsquery('simple', %(word)s) {order}"),
        Query("trap_numeric", "trap", "annual_revenue >= 1e9 (numeric is not leakproof)",
              f"SELECT id, name FROM {TABLE} WHERE {t} AND annual_revenue >= 1000000000 ORDER BY annual_revenue LIMIT 50"),
        Query("trap_tags", "trap", "tags @> '{vip,pilot}' (array GIN)",
              f"SELECT id, name FROM {TABLE} WHERE {t} AND tags @> %(tags)s::text[] {order}"),
        # --- the project's pattern
        Query("pattern_prefix_range", "pattern", f"prefix '{SEARCH_PREFIX}' as a name_key range",
              f"SELECT id, name FROM {TABLE} WHERE {t} AND name_key >= %(lo)s AND name_key < %(hi)s {order}",
              note=f"bounds from search.prefix_range(): [{lo!r}, {hi!r})"),
        Query("pattern_prefix_range_late", "pattern", f"prefix '{SEARCH_PREFIX_LATE}' as a name_key range",
              f"SELECT id, name FROM {TABLE} WHERE {t} AND name_key >= %(late_lo)s AND name_key < %(late_hi)s {order}"),
        Query("pattern_prefix_starts_with", "pattern", "prefix as name_key ^@ (starts_with, leakproof)",
              f"SELECT id, name FROM {TABLE} WHERE {t} AND name_key ^@ %(lo)s {order}"),
        Query("pattern_key_eq", "pattern", "name_key = casefold(…) COLLATE \"C\" (duplicate check)",
              f"SELECT id, name FROM {TABLE} WHERE {t} AND name_key = casefold(%(exact)s COLLATE pg_unicode_fast) COLLATE \"C\""),
        Query("pattern_numeric_minor", "pattern", "annual_revenue_minor >= 1e11 (bigint generated column)",
              f"SELECT id, name FROM {TABLE} WHERE {t} AND annual_revenue_minor >= 100000000000 "
              "ORDER BY annual_revenue_minor LIMIT 50"),
        Query("pattern_search_fn", "pattern", f"search function ('{SEARCH_WORD}'), rows fetched by id under RLS",
              f"SELECT {LIST_COLS} FROM {TABLE} WHERE {t} AND id = ANY (ARRAY(SELECT id FROM {SEARCH_FUNCTION}(%(word)s, 200))) {order}",
              base=False, note="the function bypasses RLS by design; base = the trap's no-RLS time"),
        Query("pattern_search_fn_fuzzy", "pattern", f"search function ('{SEARCH_FUZZY}', typo), by id",
              f"SELECT {LIST_COLS} FROM {TABLE} WHERE {t} AND id = ANY (ARRAY(SELECT id FROM {SEARCH_FUNCTION}(%(fuzzy)s, 200))) {order}",
              base=False),
        Query("pattern_search_fn_prefix", "pattern", f"search function ('{SEARCH_PREFIX}', common word), by id",
              f"SELECT {LIST_COLS} FROM {TABLE} WHERE {t} AND id = ANY (ARRAY(SELECT id FROM {SEARCH_FUNCTION}(%(prefix)s, 200))) {order}",
              base=False),
    ]


def prefix_range(text: str) -> tuple[str, str | None]:
    """Same as crm.tenancy.search.prefix_range (kept here so the bench runs without Django)."""
    try:
        from crm.tenancy.search import prefix_range as project_prefix_range

        return project_prefix_range(text)
    except Exception:
        key = text.casefold()
        chars = list(key)
        while chars and ord(chars[-1]) == 0x10FFFF:
            chars.pop()
        if not chars:
            return key, None
        nxt = ord(chars[-1]) + 1
        if 0xD800 <= nxt <= 0xDFFF:
            nxt = 0xE000
        return key, "".join(chars[:-1]) + chr(nxt)


def context(roles: Roles, tenant_ids, sizes) -> dict:
    su = roles.connect("superuser", autocommit=True)
    tenant = str(tenant_ids[0])
    deep = min(50_000, max(0, sizes[0] - 50))
    row = q1(su, f"SELECT name_key, id FROM {TABLE} WHERE tenant_id = %s ORDER BY name_key, id OFFSET %s LIMIT 1",
             [tenant, max(0, deep - 1)])
    some = q1(su, f"SELECT id, name, owner_id, updated_at FROM {TABLE} WHERE tenant_id = %s "
                  "ORDER BY updated_at DESC OFFSET %s LIMIT 1", [tenant, sizes[0] // 2])
    counts = q1(su, f"""SELECT count(*) FILTER (WHERE name_key ^@ %(p)s),
                               count(*) FILTER (WHERE name_key ^@ %(pl)s),
                               count(*) FILTER (WHERE search @@ websearch_to_tsquery('simple', %(w)s)),
                               count(*) FILTER (WHERE %(f)s <%% name),
                               count(*) FILTER (WHERE annual_revenue >= 1000000000),
                               count(*) FILTER (WHERE tags @> '{{vip,pilot}}'),
                               count(*) FILTER (WHERE lower(name) = lower(%(n)s))
                        FROM {TABLE} WHERE tenant_id = %(t)s""",
                {"p": SEARCH_PREFIX, "pl": SEARCH_PREFIX_LATE, "w": SEARCH_WORD, "f": SEARCH_FUZZY, "n": some[1], "t": tenant})
    su.close()
    lo, hi = prefix_range(SEARCH_PREFIX)
    late_lo, late_hi = prefix_range(SEARCH_PREFIX_LATE)
    return {
        "tenant_array": [tenant],
        "late_like": SEARCH_PREFIX_LATE + "%",
        "late_lo": late_lo,
        "late_hi": late_hi,
        "tenant": tenant,
        "tenant_rows": sizes[0],
        "cursor_key": row[0],
        "cursor_id": str(row[1]),
        "deep": deep,
        "some_id": str(some[0]),
        "exact": some[1],
        "owner": str(some[2]),
        "recent_before": some[3],
        "prefix": SEARCH_PREFIX,
        "prefix_like": SEARCH_PREFIX + "%",
        "lo": lo,
        "hi": hi,
        "prefix_lo": lo,
        "prefix_hi": hi,
        "word": SEARCH_WORD,
        "word_like": f"%{SEARCH_WORD}%",
        "fuzzy": SEARCH_FUZZY,
        "tags": ["vip", "pilot"],
        "matches": dict(zip(["prefix", "prefix_late", "word", "fuzzy", "revenue_1e9", "tags", "exact_name"], counts, strict=True)),
    }


# ---------------------------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------------------------


class Runner:
    """One connection per role; every run is its own transaction, tenant set as the product does."""

    def __init__(self, roles: Roles, tenant: str, baseline: str):
        self.tenant = tenant
        self.conns = {"rls": roles.connect("app"), "base": roles.connect(baseline),
                      "base2": roles.connect(baseline)}
        for conn in self.conns.values():
            run(conn, "SET application_name = 'bench/rls_overhead.py'")
            conn.commit()

    def once(self, who: str, sql: str, params: dict) -> float:
        conn = self.conns[who]
        with conn.cursor() as cur:
            cur.execute("SELECT set_config('app.tenant_id', %s, true)", [self.tenant])
            start = time.perf_counter_ns()
            cur.execute(sql, params)
            cur.fetchall()
            elapsed = time.perf_counter_ns() - start
        conn.rollback()  # read-only; ends the transaction and with it the setting
        return elapsed / 1e6

    def server(self, who: str, sql: str, params: dict) -> tuple[float, float]:
        """Planning + execution time measured by the server (no client, no network, no per-node
        timing): EXPLAIN (ANALYZE, TIMING OFF)."""
        conn = self.conns[who]
        with conn.cursor() as cur:
            cur.execute("SELECT set_config('app.tenant_id', %s, true)", [self.tenant])
            cur.execute("EXPLAIN (ANALYZE, TIMING OFF, SUMMARY ON, FORMAT JSON) " + sql, params)
            plan = cur.fetchone()[0][0]
        conn.rollback()
        return plan["Planning Time"], plan["Execution Time"]

    def explain(self, who: str, sql: str, params: dict) -> dict:
        conn = self.conns[who]
        with conn.cursor() as cur:
            cur.execute("SELECT set_config('app.tenant_id', %s, true)", [self.tenant])
            cur.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, params)
            plan = cur.fetchone()[0][0]
        conn.rollback()
        return plan

    def set_config_cost(self, reps: int) -> float:
        conn = self.conns["rls"]
        out = []
        for _ in range(reps):
            with conn.cursor() as cur:
                cur.execute("SELECT 1")  # opens the transaction
                start = time.perf_counter_ns()
                cur.execute("SELECT set_config('app.tenant_id', %s, true)", [self.tenant])
                cur.fetchall()
                out.append((time.perf_counter_ns() - start) / 1e6)
            conn.rollback()
        return statistics.median(out)

    def close(self):
        for conn in self.conns.values():
            conn.close()


def p95(values: list[float]) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(0.95 * len(s)) - 1))]


def plan_summary(plan: dict) -> dict:
    """Node types (with index names) in pre-order, buffers, and where the conditions ended up."""
    nodes, filters = [], []

    def walk(node, depth):
        label = node["Node Type"]
        if node.get("Index Name"):
            label += f" [{node['Index Name']}]"
        if node.get("One-Time Filter"):
            label += " (one-time filter)"
        nodes.append("  " * depth + label)
        if node.get("Filter"):
            filters.append(f"{node['Node Type']}: {node['Filter']}")
        for child in node.get("Plans", []):
            walk(child, depth + 1)

    top = plan["Plan"]
    walk(top, 0)
    return {
        "nodes": nodes,
        "filters": filters,
        "buffers": top.get("Shared Hit Blocks", 0) + top.get("Shared Read Blocks", 0),
        "rows": top.get("Actual Rows"),
        "execution_ms": plan.get("Execution Time"),
        "planning_ms": plan.get("Planning Time"),
        "jit": "JIT" in plan,
    }


def time_queries(runner: Runner, qs: list[Query], ctx: dict, args) -> list[dict]:
    results = []
    for q in qs:
        params = {**ctx, **q.params}
        who = list(q.pair) if q.pair else (["rls", "base"] if q.base else ["rls"])
        # warm up (and find out whether this is a slow query)
        first = {w: [runner.once(w, q.sql, params) for _ in range(3)] for w in who}
        slow = max(min(v) for v in first.values()) > 20
        reps = args.slow_reps if slow else (args.list_reps if q.group == "list" else args.reps)
        server_timing = q.group == "list" and len(who) == 2
        samples = {w: [] for w in who}
        server = {w: [] for w in who}
        gc.disable()
        try:
            for i in range(reps):
                order = who if i % 2 == 0 else list(reversed(who))
                for w in order:
                    samples[w].append(runner.once(w, q.sql, params))
                if server_timing:
                    for w in order:
                        server[w].append(runner.server(w, q.sql, params))
        finally:
            gc.enable()
        plans = {w: plan_summary(runner.explain(w, q.sql, params)) for w in who}
        row = {"key": q.key, "group": q.group, "label": q.label, "note": q.note, "reps": reps, "roles": who,
               "plans": {("rls" if w == who[0] else "base"): plans[w] for w in who}}
        for name, w in zip(("rls", "base"), who, strict=False):
            row[f"{name}_median"] = statistics.median(samples[w])
            row[f"{name}_p95"] = p95(samples[w])
            if server_timing:
                row[f"{name}_server_median"] = statistics.median(p + e for p, e in server[w])
                row[f"{name}_planning_median"] = statistics.median(p for p, _ in server[w])
                row[f"{name}_execution_median"] = statistics.median(e for _, e in server[w])
        if len(who) == 2:
            a, b = samples[who[0]], samples[who[1]]
            row["ratio"] = row["rls_median"] / row["base_median"]
            row["paired_ratio"] = statistics.median(x / y for x, y in zip(a, b, strict=True))
            if server_timing:
                row["server_ratio"] = row["rls_server_median"] / row["base_server_median"]
        results.append(row)
        print_row(row)
    # rows whose baseline is another query's
    by_key = {r["key"]: r for r in results}
    pairs = {
        "list_first_policy_only": "list_first",
        "count_policy_only": "count",
        "count_policy_expression": "count",
        "pattern_search_fn": "trap_fts",
        "pattern_search_fn_fuzzy": "trap_trigram",
        "pattern_search_fn_prefix": "trap_ilike_prefix",
    }
    for key, base_key in pairs.items():
        if key in by_key and base_key in by_key and "base_median" not in by_key[key]:
            r, b = by_key[key], by_key[base_key]
            r["base_median"], r["base_p95"] = b["base_median"], b["base_p95"]
            r["ratio"] = r["rls_median"] / r["base_median"]
            r["base_from"] = base_key
    return results


def print_row(r: dict) -> None:
    base = f"{r['base_median']:9.3f} {r['base_p95']:9.3f}" if "base_median" in r else f"{'-':>9} {'-':>9}"
    ratio = f"{r['ratio']:7.2f}" if "ratio" in r else f"{'-':>7}"
    extra = ""
    if "paired_ratio" in r:
        extra += f" paired={r['paired_ratio']:.2f}"
    if "server_ratio" in r:
        extra += (f" server={r['rls_server_median']:.3f}/{r['base_server_median']:.3f}"
                  f"={r['server_ratio']:.2f} (plan {r['rls_planning_median']:.3f}/{r['base_planning_median']:.3f}"
                  f" exec {r['rls_execution_median']:.3f}/{r['base_execution_median']:.3f})")
    print(f"{r['key']:28} {r['rls_median']:9.3f} {r['rls_p95']:9.3f} {base} {ratio}  {extra}  "
          f"bufs rls={r['plans']['rls']['buffers']}"
          + (f" base={r['plans']['base']['buffers']}" if "base" in r["plans"] else "")
          + f" reps={r['reps']}", flush=True)
    for who, p in r["plans"].items():
        print(f"    {who}: " + " / ".join(n.strip() for n in p["nodes"]) + (" [JIT]" if p["jit"] else ""))
        for f in p["filters"]:
            print(f"         filter {f[:150]}")


# ---------------------------------------------------------------------------------------------
# Side experiments: policy variants and LEAKPROOF
# ---------------------------------------------------------------------------------------------

USER_SETTING = "NULLIF(current_setting('app.user_id', true), '')::uuid"
# label -> (tenant expression, extra permissive SELECT policy or None)
POLICY_VARIANTS = {
    "project (rls.py)": (TENANT_SETTING, None),
    "scalar subquery (InitPlan)": (f"(SELECT {TENANT_SETTING})", None),
    "STABLE SQL function": ("bench_current_tenant()", None),
    # a second permissive policy is OR'd with the first (tenancy_membership has one: own rows)
    "tenant OR own rows (2 policies)": (TENANT_SETTING, f"owner_id = {USER_SETTING}"),
}


def policy_variants(roles: Roles, runner: Runner, ctx: dict, args) -> list[dict]:
    owner = roles.connect("owner", autocommit=True)
    run(owner, f"CREATE OR REPLACE FUNCTION bench_current_tenant() RETURNS uuid LANGUAGE sql STABLE "
               f"AS $$ SELECT {TENANT_SETTING} $$")
    probe = [q for q in queries(ctx) if q.key in ("list_first", "list_keyset", "list_first_policy_only", "count")]
    out = []
    try:
        for label, (expr, extra) in POLICY_VARIANTS.items():
            run(owner, f"ALTER POLICY tenant_isolation ON {TABLE} USING (tenant_id = {expr}) "
                       f"WITH CHECK (tenant_id = {expr})")
            run(owner, f"DROP POLICY IF EXISTS bench_extra ON {TABLE}")
            if extra:
                run(owner, f"CREATE POLICY bench_extra ON {TABLE} FOR SELECT USING ({extra})")
            for q in probe:
                warm = [runner.once("rls", q.sql, ctx) for _ in range(3)]
                reps = args.slow_reps if min(warm) > 20 else args.reps
                samples = [runner.once("rls", q.sql, ctx) for _ in range(reps)]
                plan = plan_summary(runner.explain("rls", q.sql, ctx))
                out.append({"variant": label, "key": q.key, "rls_median": statistics.median(samples),
                            "rls_p95": p95(samples), "nodes": plan["nodes"], "buffers": plan["buffers"]})
                print(f"  {label:28} {q.key:24} {out[-1]['rls_median']:8.3f} ms  "
                      + " / ".join(n.strip() for n in plan["nodes"]), flush=True)
    finally:
        run(owner, f"DROP POLICY IF EXISTS bench_extra ON {TABLE}")
        run(owner, f"ALTER POLICY tenant_isolation ON {TABLE} USING (tenant_id = {TENANT_SETTING}) "
                   f"WITH CHECK (tenant_id = {TENANT_SETTING})")
        run(owner, "DROP FUNCTION IF EXISTS bench_current_tenant()")
        owner.close()
    return out


def leakproof_experiment(roles: Roles, runner: Runner, ctx: dict, args) -> dict:
    """Can we just mark the function LEAKPROOF? Only a superuser can; measured, then undone."""
    out = {}
    owner = roles.connect("owner", autocommit=True)
    try:
        run(owner, "CREATE FUNCTION bench_try_leakproof(text) RETURNS text LANGUAGE sql IMMUTABLE LEAKPROOF "
                   "AS $$ SELECT $1 $$")
        out["owner_create_leakproof"] = "allowed (unexpected)"
        run(owner, "DROP FUNCTION bench_try_leakproof(text)")
    except psycopg2.Error as exc:
        out["owner_create_leakproof"] = exc.pgerror.strip().splitlines()[0]
    owner.close()
    q = next(q for q in queries(ctx) if q.key == "trap_fts")
    su = roles.connect("superuser", autocommit=True)
    try:
        run(su, "ALTER FUNCTION ts_match_vq(tsvector, tsquery) LEAKPROOF")
        for _ in range(3):
            runner.once("rls", q.sql, ctx)
        samples = [runner.once("rls", q.sql, ctx) for _ in range(args.reps)]
        plan = plan_summary(runner.explain("rls", q.sql, ctx))
        out["trap_fts_with_leakproof_ts_match_vq"] = {
            "rls_median": statistics.median(samples), "rls_p95": p95(samples),
            "nodes": plan["nodes"], "buffers": plan["buffers"],
        }
        print(f"  trap_fts with ts_match_vq LEAKPROOF: {statistics.median(samples):.3f} ms  "
              + " / ".join(n.strip() for n in plan["nodes"]), flush=True)
    finally:
        run(su, "ALTER FUNCTION ts_match_vq(tsvector, tsquery) NOT LEAKPROOF")
        su.close()
    return out


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------


def machine() -> dict:
    info = {"date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "nproc": os.cpu_count(),
            "python": platform.python_version(), "kernel": platform.release()}
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["memory_gb"] = round(int(line.split()[1]) / 1024 / 1024, 1)
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return info


def server_info(roles: Roles) -> dict:
    su = roles.connect("superuser", autocommit=True)
    out = {"version": q1(su, "SELECT version()")[0]}
    for name in ("shared_buffers", "work_mem", "effective_cache_size", "random_page_cost", "jit",
                 "max_parallel_workers_per_gather", "fsync", "synchronous_commit"):
        out[name] = q1(su, f"SHOW {name}")[0]
    out["table_size"] = q1(su, f"SELECT pg_size_pretty(pg_table_size('{TABLE}'))")[0]
    out["indexes_size"] = q1(su, f"SELECT pg_size_pretty(pg_indexes_size('{TABLE}'))")[0]
    su.close()
    return out


def markdown(results: list[dict]) -> str:
    lines = [
        "| group | query | rls median | rls p95 | base median | base p95 | rls/base (medians) | paired | server-side | "
        "buffers rls / base | plan under RLS |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        base = r["plans"].get("base", {}).get("buffers", "-")
        rls_plan = " → ".join(n.strip() for n in r["plans"]["rls"]["nodes"])
        if r["plans"]["rls"].get("jit"):
            rls_plan += " (JIT)"
        bm = f"{r['base_median']:.3f}" if "base_median" in r else "-"
        bp = f"{r['base_p95']:.3f}" if "base_p95" in r else "-"
        ratio = f"{r['ratio']:.2f}" if "ratio" in r else "-"
        if r.get("base_from"):
            ratio += f" (vs {r['base_from']} base)"
        paired = f"{r['paired_ratio']:.2f}" if "paired_ratio" in r else "-"
        server = (f"{r['rls_server_median']:.3f} / {r['base_server_median']:.3f} = {r['server_ratio']:.2f} "
                  f"(planning {r['rls_planning_median']:.3f} / {r['base_planning_median']:.3f})"
                  if "server_ratio" in r else "-")
        lines.append(f"| {r['group']} | {r['label']} | {r['rls_median']:.3f} | {r['rls_p95']:.3f} | {bm} | {bp} | "
                     f"{ratio} | {paired} | {server} | {r['plans']['rls']['buffers']} / {base} | {rls_plan} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tenants", type=int, default=1000)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--largest", type=int, help="rows of the largest tenant (default rows/10)")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--rounds", type=int, default=10, help="load rounds: tenants' rows interleave on disk")
    ap.add_argument("--reps", type=int, default=200, help="timed runs per role and query")
    ap.add_argument("--list-reps", type=int, default=600, help="timed runs for the list queries (the target)")
    ap.add_argument("--slow-reps", type=int, default=30, help="timed runs for queries slower than 20 ms")
    ap.add_argument("--db", default="crm_bench")
    ap.add_argument("--baseline", choices=["owner", "superuser"], default="owner",
                    help="who reads without RLS: the owner with FORCE lifted, or the superuser")
    ap.add_argument("--superuser-url", help="default postgres://postgres@<app host:port>/postgres")
    ap.add_argument("--reload", action="store_true", help="rebuild the database even if the scale matches")
    ap.add_argument("--only", help="comma-separated query keys to time")
    ap.add_argument("--skip-experiments", action="store_true", help="skip policy variants and LEAKPROOF")
    ap.add_argument("--json", help="write every figure and plan to this file")
    ap.add_argument("--markdown", help="write the results table (markdown) to this file")
    args = ap.parse_args()
    args.largest = args.largest or max(1, args.rows // 10)

    roles = roles_from(args)
    rng = random.Random(args.seed)
    tenant_ids = [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(args.tenants)]
    sizes = tenant_sizes(args.tenants, args.rows, args.largest)
    print(f"tenants={args.tenants} rows={sum(sizes):,} largest={sizes[0]:,} median={sorted(sizes)[len(sizes) // 2]:,} "
          f"smallest={sizes[-1]:,}", flush=True)

    build_timings = {}
    if args.reload or not database_ready(roles, args):
        print(f"building {args.db} ...", flush=True)
        build_timings = build(roles, args, tenant_ids, sizes)
        print(f"built in {build_timings['build_s']:.0f} s ({build_timings})", flush=True)
    else:
        print(f"reusing {args.db} (same scale; --reload to rebuild)", flush=True)
    install_search_function(roles, args)

    ctx = context(roles, tenant_ids, sizes)
    print(f"largest tenant {ctx['tenant']} ({ctx['tenant_rows']:,} rows); matches there: {ctx['matches']}", flush=True)
    runner = Runner(roles, ctx["tenant"], args.baseline)
    if args.baseline == "owner":
        owner = roles.connect("owner", autocommit=True)
        run(owner, f"ALTER TABLE {TABLE} NO FORCE ROW LEVEL SECURITY")  # the owner's baseline: no RLS
    try:
        results, experiments, setcfg = measure(roles, runner, ctx, args)
    finally:
        if args.baseline == "owner":
            run(owner, f"ALTER TABLE {TABLE} FORCE ROW LEVEL SECURITY")
            owner.close()
        runner.close()
    report(roles, args, build_timings, ctx, setcfg, results, experiments)


def measure(roles: Roles, runner: Runner, ctx: dict, args):
    setcfg = runner.set_config_cost(args.reps)
    print(f"set_config round trip (once per transaction): {setcfg:.3f} ms median", flush=True)

    qs = queries(ctx)
    if args.only:
        keep = set(args.only.split(","))
        qs = [q for q in qs if q.key in keep]
    print(f"\n{'query':28} {'rls med':>9} {'rls p95':>9} {'base med':>9} {'base p95':>9} {'ratio':>7}   (ms)")
    results = time_queries(runner, qs, ctx, args)

    experiments = {}
    if not args.skip_experiments:
        print("\npolicy expression variants (rls role only):", flush=True)
        experiments["policy_variants"] = policy_variants(roles, runner, ctx, args)
        print("\nLEAKPROOF:", flush=True)
        experiments["leakproof"] = leakproof_experiment(roles, runner, ctx, args)
    return results, experiments, setcfg


def report(roles, args, build_timings, ctx, setcfg, results, experiments):
    info = {"machine": machine(), "server": server_info(roles), "args": vars(args), "build": build_timings,
            "set_config_ms": setcfg, "context": {k: str(v) for k, v in ctx.items()}}
    list_ratios = [r["ratio"] for r in results
                   if r["group"] == "list" and "ratio" in r and not r.get("base_from") and not r["key"].startswith("noise")]
    if list_ratios:
        worst = max(list_ratios)
        print(f"\nlist queries: worst rls/base ratio of medians {worst:.2f} (target <= 1.10): "
              f"{'PASS' if worst <= 1.10 else 'MISS'}")
    print(json.dumps(info["server"], indent=1))
    if args.markdown:
        Path(args.markdown).write_text(markdown(results) + "\n")
    if args.json:
        Path(args.json).write_text(json.dumps({"info": info, "results": results, "experiments": experiments},
                                              indent=1, default=str))


if __name__ == "__main__":
    main()
