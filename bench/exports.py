#!/usr/bin/env python
"""The lists issue's benchmark: export throughput (CSV, XLSX) and list page server time at depth.

    python bench/generate.py --db crm_bench_lists --scale 0.1          # once (bench/README.md)
    python bench/exports.py --db crm_bench_lists export [--rows 100000]
    python bench/exports.py --db crm_bench_lists pages --runs 30

`export` writes the largest tenant's accounts (as its admin, who sees all) with the list's default
columns plus a few more (owner names and tags are batch look-ups, as in the product) through the
same code the worker runs (crm.lists.exports.write_csv / write_xlsx, keyset batches under RLS as
crm_app), into an in-memory file, and prints rows/s. `pages` times the real list pages through
Django's test client with production settings (bench/customers.py setup): first page, a deep page,
the last page, filters (built-in and "my accounts"), as the admin and as a rep who sees < 0.2 %,
with the number of queries of each.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
import common  # noqa: E402
import customers  # noqa: E402

COLUMNS = ["name", "type", "industry", "country", "city", "rating", "owner", "phone", "employees", "annual_revenue",
           "tags", "updated"]


def export(args) -> None:
    customers.setup_django(args.db, redis_db=5)
    from django.db import transaction
    from django.http import QueryDict

    from crm.lists import exports, registry, selectors
    from crm.tenancy.context import tenant_context
    from crm.tenancy.models import Membership, Tenant

    tenant = Tenant.objects.get(slug=customers.LARGEST)
    with transaction.atomic(), tenant_context(tenant):
        admin = Membership.objects.for_tenant(tenant).select_related("user", "tenant").get(
            user__email=f"admin-001@{customers.LARGEST}.bench.example")
    definition = registry.get("accounts")
    print(common.machine())
    for fmt in args.formats.split(","):
        for _ in range(args.repeat):
            with transaction.atomic(), tenant_context(tenant):
                state = selectors.resolve(admin, definition, QueryDict(), columns=args.columns.split(","))
                if args.rows:
                    # the first --rows accounts by name: an upper bound on name_key
                    from accounts.models import Account

                    qs = Account.objects.for_tenant(tenant).order_by("name_key", "id")
                    last = qs.values_list("name_key", flat=True)[args.rows - 1]
                    original = definition.queryset
                    definition.queryset = lambda actor, _o=original, _l=last: _o(actor).filter(name_key__lte=_l)
                buffer = io.BytesIO()
                c0, t0 = time.process_time(), time.perf_counter()
                writer = exports.write_xlsx if fmt == "xlsx" else exports.write_csv
                rows = writer(state, buffer)
                seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
                if args.rows:
                    definition.queryset = original
            print(f"{fmt}: {rows:,} rows x {len(state.columns)} columns in {seconds:.2f} s = "
                  f"{rows / seconds:,.0f} rows/s (Python CPU {cpu:.2f} s = {rows / cpu:,.0f} rows/s), "
                  f"{buffer.tell() / 1e6:.1f} MB; load average {os.getloadavg()[0]:.1f}", flush=True)


def pages(args) -> None:
    customers.setup_django(args.db, redis_db=5)
    from django.db import transaction

    from accounts.models import Account
    from crm.tenancy.context import tenant_context
    from crm.tenancy.models import Tenant

    tenant = Tenant.objects.get(slug=customers.LARGEST)
    admin = customers.sign_in(tenant, f"admin-001@{customers.LARGEST}.bench.example", "admin")
    rep = customers.sign_in(tenant, f"rep-001@{customers.LARGEST}.bench.example", "rep")
    print(common.machine())
    print(f"{tenant.slug}: admin sees {admin.sees:,} accounts, rep sees {rep.sees:,} "
          f"({100 * rep.sees / admin.sees:.3f} %)", flush=True)
    with transaction.atomic(), tenant_context(tenant):
        industry = Account.objects.for_tenant(tenant).exclude(industry="").values_list("industry", flat=True)[:1][0]
    deep = admin.sees // 2
    scenarios = [
        ("accounts: first page", admin, "/accounts/"),
        (f"accounts: deep page (row {deep:,})", admin, f"/accounts/?after={customers.cursor_at(admin, deep)}"),
        ("accounts: last page", admin, "/accounts/?last=1"),
        (f"accounts: industry={industry}", admin, f"/accounts/?industry={industry}"),
        ("accounts: status=inactive", admin, "/accounts/?status=inactive"),
        ("accounts: recently updated", admin, "/accounts/?sort=updated"),
        ("accounts: my accounts", admin, "/accounts/?view=mine"),
        ("contacts: first page", admin, "/contacts/"),
        ("activities: first page", admin, "/activities/"),
        ("accounts: first page", rep, "/accounts/"),
        ("accounts: last page", rep, "/accounts/?last=1"),
        (f"accounts: industry={industry}", rep, f"/accounts/?industry={industry}"),
        ("contacts: first page", rep, "/contacts/"),
        ("activities: first page", rep, "/activities/"),
    ]
    scenarios = [(f"{actor.name}: {label}", actor, path) for label, actor, path in scenarios]
    timed = customers.time_requests(scenarios, args.runs)
    print(f"{'page':55} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8}")
    for label, actor, path in scenarios:
        n, _slowest = customers.count_queries(actor, path)
        summary = common.summary(timed[label]["times"])
        print(f"{label:55} {summary['p50']:8.1f} {summary['p95']:8.1f} {n:8d}", flush=True)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="crm_bench_lists")
    sub = parser.add_subparsers(dest="command", required=True)
    e = sub.add_parser("export")
    e.add_argument("--rows", type=int, default=0, help="only the first N accounts (default: all the admin sees)")
    e.add_argument("--repeat", type=int, default=1)
    e.add_argument("--formats", default="csv,xlsx", help="comma-separated: csv, xlsx")
    e.add_argument("--columns", default=",".join(COLUMNS), help="comma-separated column keys of the accounts list")
    p = sub.add_parser("pages")
    p.add_argument("--runs", type=int, default=30)
    args = parser.parse_args(argv)
    {"export": export, "pages": pages}[args.command](args)


if __name__ == "__main__":
    main()
