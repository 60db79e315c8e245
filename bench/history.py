"""What the change history costs a bulk write: accounts_change_owner() on N accounts (the service a
bulk "Change owner" on the accounts list calls), on a scratch database, as the application role
(RLS on), history triggers on.

    cd /work/main && . .venv/bin/activate && eval $(python scripts/services.py env)
    python bench/history.py --db crm_import_bench_b --accounts 10000

Creates a tenant with N accounts (one INSERT … SELECT), then hands them all to a second rep and
back, `--repeat` times, each in its own transaction; prints each time, the median, and the number
of history rows the changes recorded (one per changed account). The scratch database is created
and migrated when it does not exist yet (bench/imports.py's ensure_database).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import connect_owner, machine, require_scratch, url  # noqa: E402
from bench.imports import ensure_database  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default="crm_import_bench")
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    db = require_scratch(args.db)
    ensure_database(db)
    os.environ["DATABASE_URL"] = url("DATABASE_URL", db)
    os.environ["DATABASE_OWNER_URL"] = url("DATABASE_OWNER_URL", db)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings.dev")
    import django

    django.setup()
    from django.db import connection

    from accounts import services
    from accounts.models import Account
    from crm.audit.history import history_source
    from crm.tenancy.context import tenant_context
    from crm.tenancy.models import Membership, Role, Tenant, User

    stamp = str(int(time.time()))
    tenant = Tenant.objects.create(name=f"Bench owners {stamp}", slug=f"bench-owners-{stamp}")
    with tenant_context(tenant):
        admin = Membership.objects.create(tenant=tenant, role=Role.ADMIN,
                                          user=User.objects.create_user(f"admin-{stamp}@bench.example", "x"))
        reps = [Membership.objects.create(tenant=tenant, role=Role.REP, reports_to=admin,
                                          user=User.objects.create_user(f"rep{n}-{stamp}@bench.example", "x"))
                for n in range(2)]
        with connection.cursor() as cur:
            cur.execute(
                "INSERT INTO accounts_account (id, tenant_id, created_at, updated_at, name, kind, type, industry, "
                "website, domain, phone, billing_street, billing_city, billing_postal_code, billing_region, "
                "billing_country, shipping_street, shipping_city, shipping_postal_code, shipping_region, "
                "shipping_country, currency, owner_id, source, rating, status, description, custom) "
                "SELECT uuidv7(), %s, now(), now(), 'Account ' || g, 'company', 'prospect', '', '', "
                "'account' || g || '.example', '', '', 'Berlin', '', '', 'DE', '', '', '', '', '', 'EUR', %s, "
                "'', '', 'active', '', '{}' FROM generate_series(1, %s) g",
                [tenant.pk, reps[0].pk, args.accounts])
    owner = connect_owner(db)
    owner.autocommit = True
    with owner.cursor() as cur:
        cur.execute("ANALYZE accounts_account")
        cur.execute("ANALYZE accounts_accountevent")
    owner.close()
    with tenant_context(tenant):
        ids = list(Account.objects.for_tenant(tenant).values_list("id", flat=True))

    times = []
    for n in range(args.repeat * 2):
        target = reps[(n + 1) % 2]
        t = time.perf_counter()
        with tenant_context(tenant), history_source("page", actor=admin):
            changed = services.accounts_change_owner(actor=admin, ids=ids, owner=target)
        times.append(time.perf_counter() - t)
        print(f"change owner of {changed:,} accounts: {times[-1]:.2f} s")
    with tenant_context(tenant), connection.cursor() as cur:
        cur.execute("SELECT count(*), count(*) FILTER (WHERE pgh_context->>'source' = 'page') "
                    "FROM accounts_accountevent WHERE tenant_id = %s AND pgh_label = 'update'", [tenant.pk])
        events, with_context = cur.fetchone()
    print(f"median {statistics.median(times):.2f} s for {args.accounts:,} accounts; "
          f"{events:,} update events ({with_context:,} with their context)")
    print(machine())


if __name__ == "__main__":
    main()
