#!/usr/bin/env python
"""The customers issue's read benchmark: server time and query counts of the real pages and API,
as a rep and as an admin of the largest tenant, under RLS, with production settings.

    python bench/generate.py --db crm_bench_customers --scale 0.1        # once (see bench/README.md)
    python bench/customers.py --db crm_bench_customers [--json out.json] reads --runs 40 [--explain]
    python bench/customers.py --db crm_bench_customers [--json out.json] busy --runs 60 [--writers 1]

`reads` signs in (force_login) as members of the largest tenant that bench/generate.py built
(`bench-0000`: admin-001, who sees all; rep-001, who owns < 0.2 % and the showcase account) and
requests the real URLs through Django's test Client with `crm.settings.prod` (DEBUG off, cached
templates, HTTPS as behind the proxy; SSL redirects off and plain static storage, since the bench
runs no collectstatic), connected as crm_app, so every query runs under forced RLS and the visibility engine exactly as in production. Server time is the
time the whole request takes in-process (middleware, view, selectors, template), i.e. what gunicorn
would spend, without network; "Python CPU" is the CPU time the process itself spent on it (not
waiting for PostgreSQL, nor for a core while other processes run: the figure that noise on a shared
machine inflates least). Scenarios are interleaved round-robin; each is warmed up, then timed
`--runs` times (p50/p95/max); "first" is its first request in this process (new connection, empty
plan and template caches; the OS page cache stays warm: it cannot be dropped without root).
Queries are counted on one extra request per scenario, each timed (client side), so the table says
how much of the server time is the database and which query is the slowest (--explain prints its
EXPLAIN (ANALYZE, BUFFERS) as crm_app in the tenant).

Global search is also timed at the SQL level against the same search without RLS (the owner with
FORCE lifted running the same function bodies: bench/common.py), for the ratio the issue targets.

`busy`: small tenants' list p95, idle and while writer processes INSERT … SELECT in the largest
tenant (rolled back batch by batch), as a stand-in for that tenant's import.

More subcommands (import and export throughput) are added to SUBCOMMANDS by whoever builds them;
they share `setup_django`, `sign_in`/`Actor`, `time_requests` and `count_queries`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
import common  # noqa: E402

LARGEST = "bench-0000"


def setup_django(db: str, *, redis_db: int = 4) -> None:
    """Production settings against the scratch database, as the application role."""
    common.require_scratch(db)
    os.environ["DATABASE_URL"] = common.url("DATABASE_URL", db)
    os.environ["DATABASE_OWNER_URL"] = common.url("DATABASE_OWNER_URL", db)
    os.environ.pop("CRM_DB_ROLE", None)
    redis = os.environ.get("REDIS_URL", "redis://127.0.0.1:56379/0").rsplit("/", 1)[0]
    os.environ["REDIS_URL"] = f"{redis}/{redis_db}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "crm.settings.prod"
    os.environ.setdefault("SECRET_KEY", "bench-only-not-secret-" + "x" * 40)
    os.environ["SECURE_SSL_REDIRECT"] = "0"
    os.environ["ALLOWED_HOSTS"] = "testserver"
    import django

    django.setup()
    from django.conf import settings

    # production serves hashed names from collectstatic's manifest; the bench does not run
    # collectstatic into the shared STATIC_ROOT, and a manifest lookup is a dict access anyway
    settings.STORAGES = {**settings.STORAGES,
                         "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}


@dataclass
class Actor:
    name: str
    membership: object
    client: object
    sees: int  # accounts visible to them


def sign_in(tenant, email: str, name: str) -> Actor:
    from django.db import transaction
    from django.test import Client

    from accounts.models import Account
    from crm.access import policy
    from crm.tenancy.context import tenant_context
    from crm.tenancy.models import Membership

    with transaction.atomic(), tenant_context(tenant):
        membership = Membership.objects.for_tenant(tenant).select_related("user", "tenant").get(user__email=email)
        sees = policy.visible(Account.objects.for_tenant(tenant), membership).count()
    client = Client()
    client.force_login(membership.user)
    return Actor(name, membership, client, sees)


def cursor_at(actor: Actor, row: int) -> str:
    """The list's own keyset cursor for the `row`-th account the actor sees (name order): what
    following "Next" row/50 times would reach."""
    from django.db import transaction

    from accounts import selectors
    from crm.lists import paging
    from crm.tenancy.context import tenant_context

    with transaction.atomic(), tenant_context(actor.membership.tenant):
        qs = selectors.account_list(actor=actor.membership)
        name_key, pk = qs.values_list("name_key", "id")[row]
    return paging.encode_cursor([name_key, pk])


def get(actor: Actor, path: str):
    response = actor.client.get(path, secure=True)
    if response.status_code != 200:
        raise SystemExit(f"{actor.name} {path}: HTTP {response.status_code}")
    return response


def count_queries(actor: Actor, path: str) -> tuple[int, list[tuple[float, str, tuple]]]:
    """One request with every query recorded: (count, [(ms, sql, params)] slowest first)."""
    from django.db import connection

    seen = []

    def record(execute, sql, params, many, context):
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            seen.append(((time.perf_counter() - t0) * 1000, sql, params))

    with connection.execute_wrapper(record):
        get(actor, path)
    return len(seen), sorted(seen, key=lambda q: -q[0])


def explain(db: str, tenant_id, sql: str, params) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of one query as crm_app in the tenant (a separate connection)."""
    app = common.connect_app(db)
    cur = app.cursor()
    common.enter_tenant(cur, tenant_id)
    if sql.lstrip().upper().startswith("EXPLAIN"):  # an estimate the page asks for: plan the query itself
        sql = sql.lstrip()[len("EXPLAIN"):].lstrip()
        sql = sql[sql.index(")") + 1:] if sql.startswith("(") else sql
    cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
    plan = "\n".join(r[0] for r in cur.fetchall())
    app.rollback()
    app.close()
    return plan


def time_requests(scenarios: list[tuple[str, Actor, str]], runs: int, warmup: int = 3) -> dict:
    """{label: {"first": ms, "times": [ms…]}}: first request, warm-up, then `runs` rounds in which
    every scenario is requested once (interleaved, so noise spreads over all of them)."""
    out = {label: {"times": [], "cpu": []} for label, _, _ in scenarios}
    for label, actor, path in scenarios:
        t0 = time.perf_counter()
        get(actor, path)
        out[label]["first"] = (time.perf_counter() - t0) * 1000
    for _ in range(warmup):
        for _label, actor, path in scenarios:
            get(actor, path)
    for _ in range(runs):
        for label, actor, path in scenarios:
            c0, t0 = time.process_time(), time.perf_counter()
            get(actor, path)
            out[label]["times"].append((time.perf_counter() - t0) * 1000)
            out[label]["cpu"].append((time.process_time() - c0) * 1000)
    return out


# --- the reads -------------------------------------------------------------------------------------

def find_targets(tenant) -> dict:
    """The showcase account, a tag and an exact e-mail address of the largest tenant."""
    from django.db import transaction

    from accounts.models import Account, Tag
    from contacts.models import Contact
    from crm.tenancy.context import tenant_context

    with transaction.atomic(), tenant_context(tenant):
        showcase = Account.objects.for_tenant(tenant).get(name="Showcase Industries AG")
        tag = Tag.objects.for_tenant(tenant).get(name="VIP")
        # an address in the middle of the tenant, not the showcase's: the typical "who is this?"
        # an ordinary account of the same rep (a few contacts and activities): the 360° page's
        # query count must be the same for both
        small = (Account.objects.for_tenant(tenant).filter(owner_id=showcase.owner_id, parent__isnull=True)
                 .exclude(pk=showcase.pk).order_by("name_key", "id").first())
        email = (Contact.objects.for_tenant(tenant).exclude(email="").order_by("name_key", "id")
                 .values_list("email", flat=True)[Contact.objects.for_tenant(tenant).count() // 2])
    return {"showcase": showcase, "small": small, "tag": tag, "email": email}


def reads(args) -> dict:
    setup_django(args.db)
    from django.conf import settings

    from crm.tenancy.models import Tenant

    assert not settings.DEBUG
    print("| scenario | p50 ms | p95 ms | max ms | first ms | Python CPU p50 / p95 ms | queries | all queries ms "
          "| slowest query ms |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    tenant = Tenant.objects.get(slug=LARGEST)
    targets = find_targets(tenant)
    admin = sign_in(tenant, f"admin-001@{LARGEST}.bench.example", "admin")
    rep = sign_in(tenant, f"rep-001@{LARGEST}.bench.example", "rep")
    total = admin.sees
    print(f"{tenant.slug}: admin sees {admin.sees:,} accounts, rep sees {rep.sees:,} "
          f"({100 * rep.sees / total:.3f} %)", flush=True)
    showcase = targets["showcase"]
    deep_admin = min(100_000, admin.sees // 2)  # page 2,000 at full scale, the middle below it
    deep_rep = rep.sees // 2
    rep_id = rep.membership.pk
    scenarios = [
        ("list: first page", admin, "/accounts/"),
        (f"list: deep page (row {deep_admin:,}, page {deep_admin // 50 + 1:,})", admin,
         f"/accounts/?after={cursor_at(admin, deep_admin)}"),
        ("list: type=customer", admin, "/accounts/?type=customer"),
        ("list: type + name prefix 'acme'", admin, "/accounts/?type=customer&q=acme"),
        ("list: owner = one rep", admin, f"/accounts/?owner={rep_id}"),
        ("list: recently updated", admin, "/accounts/?sort=updated"),
        ("api: type + industry", admin, "/api/v1/accounts/?type=customer&industry=technology"),
        ("api: tag VIP", admin, "/api/v1/accounts/?tag=VIP"),
        ("list: first page", rep, "/accounts/"),
        (f"list: deep page (row {deep_rep:,})", rep, f"/accounts/?after={cursor_at(rep, deep_rep)}"),
        ("list: type=customer", rep, "/accounts/?type=customer"),
        ("api: type + industry", rep, "/api/v1/accounts/?type=customer&industry=technology"),
        ("api: tag VIP", rep, "/api/v1/accounts/?tag=VIP"),
        ("search: common prefix 'acme'", admin, "/search/?q=acme"),
        ("search: typo 'kalomy'", admin, "/search/?q=kalomy"),
        ("search: exact email", admin, f"/search/?q={targets['email']}"),
        ("search: common prefix 'acme'", rep, "/search/?q=acme"),
        ("search: typo 'kalomy'", rep, "/search/?q=kalomy"),
        ("search: exact email", rep, f"/search/?q={targets['email']}"),
        ("360°: showcase account", rep, f"/accounts/{showcase.pk}/"),
        ("360°: showcase account", admin, f"/accounts/{showcase.pk}/"),
        ("360°: an ordinary account", rep, f"/accounts/{targets['small'].pk}/"),
    ]
    if args.only:
        scenarios = [s for s in scenarios if any(o in s[0] for o in args.only.split(","))]
    if args.skip:
        scenarios = [s for s in scenarios if not any(o in s[0] for o in args.skip.split(","))]
    labelled = [(f"{actor.name} | {label}", actor, path) for label, actor, path in scenarios]
    load_before = os.getloadavg()
    timings = time_requests(labelled, args.runs)
    load_after = os.getloadavg()
    print(f"load average before {load_before[0]:.1f}, after {load_after[0]:.1f} (1 min)", flush=True)
    results = []
    for label, actor, path in labelled:
        n, queries = count_queries(actor, path)
        t = timings[label]
        row = {"scenario": label, "path": path, **common.summary(t["times"]), "first": t["first"], "queries": n,
               "python_cpu_p50": statistics.median(t["cpu"]), "python_cpu_p95": common.p95(t["cpu"]),
               "db_ms": sum(q[0] for q in queries),
               "slowest_query_ms": queries[0][0] if queries else 0,
               "slowest_query": queries[0][1][:300] if queries else ""}
        results.append(row)
        print(f"| {label} | {row['p50']:.1f} | {row['p95']:.1f} | {row['max']:.1f} | {row['first']:.1f} | "
              f"{row['python_cpu_p50']:.0f} / {row['python_cpu_p95']:.0f} | {n} | {row['db_ms']:.1f} | {row['slowest_query_ms']:.1f} |", flush=True)
        row["_slowest"] = queries[0] if queries else None
    if args.explain:
        for row in results:
            if row["_slowest"] is None:
                continue
            ms, sql, params = row["_slowest"]
            try:
                plan = explain(args.db, tenant.pk, sql, params)
            except Exception as exc:  # noqa: BLE001 - a plan is a diagnosis, not a result
                plan = f"(no plan: {exc})"
            print(f"\n{row['scenario']}: slowest query ({ms:.1f} ms)\n{sql}\n{plan}\n", flush=True)
    for row in results:
        row.pop("_slowest")
    # the ratio the issue targets: the same searches at SQL level, with and without RLS
    ratios = search_ratio(args.db, tenant.pk, ["acme", "kalomy", targets["email"]], max(20, args.runs // 2))
    return {"tenant": tenant.slug, "admin_sees": admin.sees, "rep_sees": rep.sees, "requests": results,
            "load_average": [load_before, load_after],
            "search_sql": ratios, "machine": common.machine()}


def search_ratio(db: str, tenant_id, queries: list[str], runs: int) -> list[dict]:
    app, owner = common.connect_app(db), common.connect_owner(db)
    common.create_baseline_search(owner)
    print("\n| q | rls p50 | rls p95 | base p50 | base p95 | ratio p50 | ratio p95 |\n|---|---:|---:|---:|---:|---:|---:|")
    out = []
    for q in queries:
        rls, base = [], []
        for i in range(runs + 3):
            pair = ((common.search_with_rls, app, rls), (common.search_without_rls, owner, base))
            for fn, conn, into in (pair if i % 2 else pair[::-1]):
                ms = fn(conn, q, tenant_id)
                if i >= 3:
                    into.append(ms)
        row = {"q": q, "rls": common.summary(rls), "base": common.summary(base),
               "ratio_p50": statistics.median(rls) / statistics.median(base),
               "ratio_p95": common.p95(rls) / common.p95(base)}
        out.append(row)
        print(f"| `{q}` | {row['rls']['p50']:.1f} | {row['rls']['p95']:.1f} | {row['base']['p50']:.1f} | "
              f"{row['base']['p95']:.1f} | {row['ratio_p50']:.2f} | {row['ratio_p95']:.2f} |", flush=True)
    app.close()
    owner.close()
    return out


# --- small tenants while the largest is busy ---------------------------------------------------------

def heavy_writer(db: str, tenant_id: str, stop, batch: int = 5000) -> None:
    """A stand-in for the largest tenant's import: as crm_app in that tenant, INSERT … SELECT copies
    of its accounts `batch` rows at a time (history triggers, every index, the policy's WITH CHECK),
    each batch rolled back so the data set stays as generated. Runs in its own process."""
    app = common.connect_app(db)
    cur = app.cursor()
    cur.execute("SELECT string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position) FROM "
                "information_schema.columns WHERE table_schema = 'public' AND table_name = 'accounts_account' "
                "AND is_generated = 'NEVER' AND column_name <> 'id'")
    columns = cur.fetchone()[0]
    app.rollback()
    after = "00000000-0000-0000-0000-000000000000"
    while not stop.is_set():
        common.enter_tenant(cur, tenant_id)
        cur.execute("SELECT id::text FROM (SELECT id FROM accounts_account WHERE tenant_id = %s AND id > %s "
                    "ORDER BY id LIMIT %s) AS b ORDER BY id DESC LIMIT 1", [tenant_id, after, batch])
        upto = (cur.fetchone() or [None])[0]
        if upto is None:  # wrapped around
            after = "00000000-0000-0000-0000-000000000000"
            app.rollback()
            continue
        cur.execute(f"INSERT INTO accounts_account (id, {columns}) SELECT gen_random_uuid(), {columns} "
                    "FROM accounts_account WHERE tenant_id = %s AND id > %s AND id <= %s",
                    [tenant_id, after, upto])
        after = upto
        app.rollback()
    app.close()


def busy(args) -> dict:
    """p95 of small tenants' account list, idle and while the largest tenant is busy writing."""
    import multiprocessing

    setup_django(args.db)
    from crm.tenancy.models import Tenant

    largest = Tenant.objects.get(slug=LARGEST)
    actors = []
    for number in args.tenants.split(","):
        slug = f"bench-{int(number):04d}"
        actors.append(sign_in(Tenant.objects.get(slug=slug), f"admin-001@{slug}.bench.example", slug))
    scenarios = [(f"{a.name} ({a.sees} accounts) | list: first page", a, "/accounts/") for a in actors]
    print(f"load average {os.getloadavg()[0]:.1f}", flush=True)
    print("| scenario | idle p50 | idle p95 | busy p50 | busy p95 | busy/idle p95 |")
    print("|---|---:|---:|---:|---:|---:|")
    idle = time_requests(scenarios, args.runs)
    ctx = multiprocessing.get_context("spawn")
    stop = ctx.Event()
    writers = [ctx.Process(target=heavy_writer, args=(args.db, str(largest.pk), stop)) for _ in range(args.writers)]
    for w in writers:
        w.start()
    time.sleep(3)
    try:
        if any(not w.is_alive() for w in writers):
            raise SystemExit("a writer process died: see its traceback above")
        loaded = time_requests(scenarios, args.runs)
        if any(not w.is_alive() for w in writers):
            raise SystemExit("a writer process died during the timing: see its traceback above")
    finally:
        stop.set()
        for w in writers:
            w.join(60)
    out = []
    for label, _, _ in scenarios:
        a, b = common.summary(idle[label]["times"]), common.summary(loaded[label]["times"])
        out.append({"scenario": label, "idle": a, "busy": b, "ratio_p95": b["p95"] / a["p95"]})
        print(f"| {label} | {a['p50']:.1f} | {a['p95']:.1f} | {b['p50']:.1f} | {b['p95']:.1f} | "
              f"{b['p95'] / a['p95']:.2f} |", flush=True)
    return {"busy": out, "writers": args.writers, "machine": common.machine()}


SUBCOMMANDS = {"reads": reads, "busy": busy}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, help="a scratch database filled by bench/generate.py")
    parser.add_argument("--json", help="also write the results to this file")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("reads", help="lists, search and the 360° page (the default benchmark)")
    p.add_argument("--runs", type=int, default=40)
    p.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE each scenario's slowest query")
    p.add_argument("--only", default="", help="comma-separated parts of scenario labels")
    p.add_argument("--skip", default="", help="comma-separated parts of scenario labels")
    p = sub.add_parser("busy", help="small tenants' list, idle and while the largest tenant writes")
    p.add_argument("--runs", type=int, default=40)
    p.add_argument("--tenants", default="100,500,999", help="numbers of the small tenants (bench-NNNN)")
    p.add_argument("--writers", type=int, default=1, help="concurrent writer processes in the largest tenant")
    args = parser.parse_args(argv)
    result = SUBCOMMANDS[args.command](args)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
