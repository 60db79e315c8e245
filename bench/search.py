"""Global search on a large tenant: p50/p95 of the search functions (as crm_app, under RLS, with the
rows then fetched by id through the same filter the selectors use), against the same queries run
inline by the owner with RLS lifted (NO FORCE). Not a test; run by hand on a scratch database:

    createdb crm_search_bench (as crm_owner); migrate it (CRM_DB_ROLE=owner, both URLs pointing at it)
    python bench/search.py --db crm_search_bench --accounts 1000000 --contacts 300000 [--load]

Only ever --load a scratch database: it switches the user triggers (history) of the two tables off
while loading and lifts FORCE during the baseline timing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import psycopg2

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402  (bench/common.py: shared by the benchmarks)

TENANT = "00000000-0000-7000-8000-00000000b16e"
OTHER = "00000000-0000-7000-8000-0000000000a2"
MEMBER = "00000000-0000-7000-8000-0000000b0b01"
OTHER_MEMBER = "00000000-0000-7000-8000-0000000b0b02"

FILLERS = {"uuid": "gen_random_uuid()", "timestamp with time zone": "now()", "date": "current_date",
           "jsonb": "'{}'::jsonb", "boolean": "false", "integer": "0", "bigint": "0", "smallint": "0"}

WORDS = ("Nord Süd Alpen Baltic Atlas Pacific Summit Harbor Crown Silver Golden Blue Green Red Iron Stone "
         "River Lake Valley Ridge Cedar Oak Maple Pine Falcon Eagle Lion Tiger Phoenix Orion Vega Nova Polar "
         "Coastal Central United Global Metro Urban Rural Prime First Royal Liberty Horizon Pioneer Vertex "
         "Quantum Fusion Apex Zenith Omega Delta Sigma Helix Matrix Vector Pixel Cobalt Copper Amber Ivory").split()
TRADES = ("Logistics Bakery Motors Pharma Foods Textiles Energy Solar Robotics Software Systems Analytics "
          "Consulting Construction Brewing Dental Clinic Insurance Capital Partners Media Studios Labs Works "
          "Tools Metals Plastics Farms Hotels Travel Freight Marine Aviation Telecom Networks Security").split()
SUFFIXES = "GmbH AG Ltd Inc LLC SARL SpA BV Oy AB KG".split()
FIRST = "Anna Ben Clara David Emma Felix Greta Hugo Ida Jonas Karl Lena Max Nina Oskar Paula".split()
LAST = ("Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Koch Richter Klein "
        "Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann Hartmann Lange Schmitt Werner").split()

QUERIES = [
    ("rare brand", "kalomi"),
    ("rare typo", "kalomy"),
    ("frequent prefix", "acme"),
    ("frequent word", "logistics"),
    ("two words", "nord bakery"),
    ("typo, two words", "zenith robotcs"),
    ("short prefix", "ac"),
    ("exact email (contacts)", "hugo.zimmermann.177@example.com"),
    ("phone-like digits", "+49 30 1234567"),
    ("person", "lena krüger"),
]


def _arr(words):
    return "ARRAY[" + ",".join("'" + w.replace("'", "''") + "'" for w in words) + "]"


def _insert(cur, table, values, rows=1, first=1):
    cur.execute(
        "SELECT column_name, data_type, character_maximum_length FROM information_schema.columns "
        "WHERE table_schema='public' AND table_name=%s AND is_nullable='NO' AND column_default IS NULL "
        "AND is_generated='NEVER' AND is_identity='NO'", [table])
    exprs = dict(values)
    for column, data_type, length in cur.fetchall():
        exprs.setdefault(column, FILLERS.get(data_type) or f"left(md5(random()::text), {length or 32})")
    cur.execute(f"INSERT INTO {table} ({', '.join(exprs)}) SELECT {', '.join(exprs.values())} "
                f"FROM generate_series({first}, {first + rows - 1}) AS g")


def load(owner, accounts, contacts):
    cur = owner.cursor()
    for table in ("accounts_account", "contacts_contact"):
        cur.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
    cur.execute("SELECT set_config('app.tenant_id', %s, false)", [TENANT])
    _insert(cur, "tenancy_tenant", {"id": f"'{TENANT}'", "slug": "'bench-big'"})
    _insert(cur, "tenancy_tenant", {"id": f"'{OTHER}'", "slug": "'bench-other'"})
    _insert(cur, "tenancy_user", {"id": f"'{MEMBER}'", "email": "'bench@example.com'"})
    _insert(cur, "tenancy_membership", {"id": f"'{MEMBER}'", "tenant_id": f"'{TENANT}'", "user_id": f"'{MEMBER}'"})
    pick = "({arr})[1 + (hashint4({g} * {k}) & 2147483647) % {n}]"

    def p(words, k, g="g"):
        return pick.format(arr=_arr(words), g=g, k=k, n=len(words))

    # "<Word> <Trade> <Suffix>"; every 200th "Acme …" (5,000 in 1M), 11 "Kalomi …"
    name = (f"CASE WHEN g % 200 = 0 THEN 'Acme ' WHEN g % 90001 = 7 THEN 'Kalomi ' ELSE '' END || "
            f"{p(WORDS, 3)} || ' ' || {p(TRADES, 5)} || ' ' || {p(SUFFIXES, 7)}")
    t0 = time.perf_counter()
    for start in range(0, accounts, 100_000):
        n = min(100_000, accounts - start)
        _insert(cur, "accounts_account", {
            "tenant_id": f"'{TENANT}'", "owner_id": f"'{MEMBER}'", "name": name,
            "domain": f"lower({p(WORDS, 11)}) || g::text || '.example'",
            "kind": "'company'", "custom": "'{}'::jsonb"}, n, start + 1)
        owner.commit()
        cur.execute("SELECT set_config('app.tenant_id', %s, false)", [TENANT])
        print(f"accounts {start + n:,} ({time.perf_counter() - t0:.0f} s)", flush=True)
    for start in range(0, contacts, 100_000):
        n = min(100_000, contacts - start)
        _insert(cur, "contacts_contact", {
            "tenant_id": f"'{TENANT}'", "owner_id": f"'{MEMBER}'", "first_name": p(FIRST, 13),
            "last_name": p(LAST, 17),
            "email": f"lower({p(FIRST, 13)}) || '.' || replace(lower({p(LAST, 17)}), 'ü', 'ue') || '.' "
                     "|| g::text || '@example.com'",
            "custom": "'{}'::jsonb"}, n, start + 1)
        owner.commit()
        cur.execute("SELECT set_config('app.tenant_id', %s, false)", [TENANT])
        print(f"contacts {start + n:,} ({time.perf_counter() - t0:.0f} s)", flush=True)
    # a small second tenant with look-alikes
    cur.execute("SELECT set_config('app.tenant_id', %s, false)", [OTHER])
    _insert(cur, "tenancy_user", {"id": f"'{OTHER_MEMBER}'", "email": "'bench2@example.com'"})
    _insert(cur, "tenancy_membership", {"id": f"'{OTHER_MEMBER}'", "tenant_id": f"'{OTHER}'",
                                        "user_id": f"'{OTHER_MEMBER}'"})
    _insert(cur, "accounts_account", {"tenant_id": f"'{OTHER}'", "owner_id": f"'{OTHER_MEMBER}'",
                                      "name": "'Kalomi Other ' || g", "domain": "'x.example'",
                                      "custom": "'{}'::jsonb"}, 1000)
    owner.commit()
    finish(owner)


def finish(owner):
    cur = owner.cursor()
    for table in ("accounts_account", "contacts_contact"):
        cur.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
    owner.commit()
    owner.autocommit = True
    cur.execute("VACUUM ANALYZE accounts_account")
    cur.execute("VACUUM ANALYZE contacts_contact")
    owner.autocommit = False


def run(dsn_app, dsn_owner, runs):
    app = psycopg2.connect(dsn_app)
    owner = psycopg2.connect(dsn_owner)
    # Baseline: the same functions, but created by the owner as SECURITY INVOKER copies, run by the
    # owner with FORCE lifted (no RLS at all): "the same search without RLS" (bench/common.py).
    common.create_baseline_search(owner)
    results = []
    for label, q in QUERIES:
        rls, base = [], []
        for i in range(runs):
            for side in ((0, 1) if i % 2 else (1, 0)):  # interleaved
                if side == 0:
                    rls.append(common.search_with_rls(app, q, TENANT))
                else:
                    base.append(common.search_without_rls(owner, q, TENANT))
        cur = app.cursor()
        common.enter_tenant(cur, TENANT)
        cur.execute("SELECT count(*) FROM crm_search_accounts(%s, 200)", [q])
        n_acc = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM crm_search_contacts(%s, 200)", [q])
        n_con = cur.fetchone()[0]
        app.rollback()

        row = (label, q, n_acc, n_con, statistics.median(rls), common.p95(rls), statistics.median(base),
               common.p95(base))
        results.append(row)
        print("| {} | `{}` | {} / {} | {:.1f} | {:.1f} | {:.1f} | {:.1f} | {:.2f} |".format(
            *row, statistics.median(rls) / statistics.median(base)), flush=True)
    return results


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default="crm_search_bench")
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--contacts", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--load", action="store_true")
    args = parser.parse_args()
    common.require_scratch(args.db)

    def dsn(env):
        return common.dsn(env, args.db)

    if args.load:
        owner = psycopg2.connect(dsn("DATABASE_OWNER_URL"))
        load(owner, args.accounts, args.contacts)
        owner.close()
    print("| query | q | candidates acc / con | rls median | rls p95 | base median | base p95 | ratio |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    run(dsn("DATABASE_URL"), dsn("DATABASE_OWNER_URL"), args.runs)


if __name__ == "__main__":
    main()
