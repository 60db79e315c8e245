"""The contact import at scale: a generated CSV of N contacts (1 % bad rows) checked and written by
the same code a Celery worker runs (crm.imports.services.job_validate / job_run), on a scratch
database, as the application role (RLS on), with the audit triggers on.

    cd /work/main && . .venv/bin/activate && eval $(python scripts/services.py env)
    python bench/imports.py --db crm_import_bench --rows 1000000

Prints the check time (with its error report), the write time, rows/s and the peak RSS of the
process (resource.getrusage: the check and the write run in this one process, as in a worker).
The scratch database is created (as crm_owner) and migrated when it does not exist yet.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import connect_owner, machine, require_scratch, url  # noqa: E402


def ensure_database(db: str) -> None:
    import psycopg2

    from bench.common import dsn

    conn = psycopg2.connect(dsn("DATABASE_OWNER_URL", "postgres"))
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db])
        if cur.fetchone() is None:
            cur.execute(f'CREATE DATABASE "{db}"')
    conn.close()
    env = dict(os.environ, CRM_DB_ROLE="owner", DATABASE_URL=url("DATABASE_URL", db),
               DATABASE_OWNER_URL=url("DATABASE_OWNER_URL", db), DJANGO_SETTINGS_MODULE="crm.settings.dev")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    connect_owner(db).close()


def generate(path: Path, rows: int, owners: list[str], bad_share: float) -> int:
    """A realistic export: names, email, phone, city, country, owner, a custom picklist, birthday."""
    rnd = random.Random(42)
    first = ["Anna", "Bo", "Chen", "Dana", "Emil", "Fatima", "Gustav", "Hanna", "Ivan", "Jana", "Jürgen", "Søren"]
    last = ["Berg", "Lund", "Wang", "Müller", "Nowak", "Rossi", "Dubois", "Smith", "Kowalski", "García"]
    cities = [("Berlin", "DE", "+49 30 {:07d}"), ("Paris", "FR", "+33 1 4{:07d}"), ("Oslo", "NO", "+47 22 {:06d}"),
              ("London", "GB", "+44 20 7{:07d}")]
    bad = 0
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write("First name,Last name,Email,Phone,City,Country,Owner,Segment,Birthday\n")
        for i in range(rows):
            city, country, phone = cities[i % len(cities)]
            cells = [first[i % len(first)], f"{last[i % len(last)]}{i}", f"person{i}@customer{i % 997}.example",
                     phone.format(100000 + i % 899999), city, country, owners[i % len(owners)],
                     ("SMB", "Mid-market", "Enterprise")[i % 3], f"19{50 + i % 50}-0{1 + i % 9}-1{i % 9}"]
            if rnd.random() < bad_share:
                bad += 1
                kind = bad % 4
                if kind == 0:
                    cells[2] = f"person{i}@"  # bad email
                elif kind == 1:
                    cells[6] = "nobody@nowhere.example"  # unknown owner
                elif kind == 2:
                    cells[7] = "Huge"  # unknown picklist value
                else:
                    cells[8] = "31/31/1990"  # date in the wrong format
            fh.write(",".join(cells) + "\n")
    return bad


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default="crm_import_bench")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--bad", type=float, default=0.01)
    parser.add_argument("--check-only", action="store_true", help="stop after the check (the dry run)")
    parser.add_argument("--processes", type=int, default=None,
                        help="processes for the check, this one and its parse helpers (default: "
                             "crm.imports.validation.check_processes(), 2 on two cores; 1 = no helper)")
    parser.add_argument("--profile", action="store_true",
                        help="run the check under cProfile and print the top functions (implies --check-only)")
    args = parser.parse_args()
    db = require_scratch(args.db)
    ensure_database(db)
    os.environ["DATABASE_URL"] = url("DATABASE_URL", db)
    os.environ["DATABASE_OWNER_URL"] = url("DATABASE_OWNER_URL", db)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings.dev")
    import django

    django.setup()
    if args.processes is not None:
        from django.conf import settings

        settings.IMPORT_CHECK_PROCESSES = args.processes
    from django.core.files import File

    from crm.customfields import services as customfields
    from crm.imports import reading, services
    from crm.tenancy.context import tenant_context
    from crm.tenancy.models import Membership, Role, Tenant, User

    stamp = str(int(time.time()))
    tenant = Tenant.objects.create(name=f"Bench {stamp}", slug=f"bench-{stamp}")
    with tenant_context(tenant):
        admin = Membership.objects.create(tenant=tenant, role=Role.ADMIN,
                                          user=User.objects.create_user(f"admin-{stamp}@bench.example", "x"))
        owners = [admin.user.email]
        for n in range(4):
            user = User.objects.create_user(f"rep{n}-{stamp}@bench.example", "x")
            Membership.objects.create(tenant=tenant, user=user, role=Role.REP, reports_to=admin)
            owners.append(user.email)
        customfields.field_create(actor=admin, object="contacts", label="Segment", type="picklist",
                                  options=["SMB", "Mid-market", "Enterprise"])
    # fresh statistics, as autovacuum keeps them on a live database (the planner must know the
    # tables' sizes to pick the (tenant_id, email) index for the duplicate lookups)
    owner = connect_owner(db)
    owner.autocommit = True
    with owner.cursor() as cur:
        cur.execute("ANALYZE")
    owner.close()
    path = Path(f"/tmp/contacts-{args.rows}.csv")
    t = time.perf_counter()
    bad = generate(path, args.rows, owners, args.bad)
    print(f"generated {args.rows:,} rows ({bad:,} bad), {path.stat().st_size / 1e6:.0f} MB in "
          f"{time.perf_counter() - t:.1f} s")

    with tenant_context(tenant), open(path, "rb") as fh:
        job = services.job_create(actor=admin, object="contacts", upload=File(fh, name=path.name),
                                  mode="valid_rows")
    def children_cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    t, cpu, helpers_cpu = time.perf_counter(), time.process_time(), children_cpu()
    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        job = profiler.runcall(services.job_validate, job_id=job.pk, tenant=tenant)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
        args.check_only = True
    else:
        job = services.job_validate(job_id=job.pk, tenant=tenant)
    check, check_cpu = time.perf_counter() - t, time.process_time() - cpu
    helpers_cpu = children_cpu() - helpers_cpu  # the parse helpers (reaped at the end of the check)
    rss_check = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rss_helper = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"check: {check:.1f} s ({job.rows / check:,.0f} rows/s; Python CPU {check_cpu:.1f} s here + "
          f"{helpers_cpu:.1f} s in parse helpers = {(job.rows / max(check_cpu + helpers_cpu, 1e-9)):,.0f} rows/s/core), "
          f"valid {job.valid:,}, invalid {job.invalid:,}, errors {job.error_count:,}; peak RSS so far {rss_check:.0f} MB "
          f"(largest child {rss_helper:.0f} MB)")
    if args.check_only:
        shutil.rmtree(reading.upload_path(job).parent, ignore_errors=True)  # the upload and spools: scratch
        return
    t, cpu = time.perf_counter(), time.process_time()
    job = services.job_run(job_id=job.pk, tenant=tenant)
    write, write_cpu = time.perf_counter() - t, time.process_time() - cpu
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"write: {write:.1f} s ({job.created / write:,.0f} rows/s; Python CPU {write_cpu:.1f} s), "
          f"created {job.created:,}; status {job.status}")
    print(f"total {check + write:.1f} s; peak RSS {rss:.0f} MB")
    with tenant_context(tenant):
        from django.db import connection

        with connection.cursor() as cur:
            for table in ("contacts_contact", "contacts_contactemail", "contacts_contactphone",
                          "customfields_customvalue", "contacts_contactevent"):
                cur.execute(f"SELECT count(*) FROM {table} WHERE tenant_id = %s", [tenant.pk])
                print(f"  {table}: {cur.fetchone()[0]:,}")
    shutil.rmtree(reading.upload_path(job).parent, ignore_errors=True)
    print(machine())


if __name__ == "__main__":
    main()
