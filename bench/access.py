"""The access model's benchmark (issue 5), on the customers' generated data (bench/generate.py).

    python bench/access.py --db crm_bench_customers setup      # once: the configuration below
    python bench/access.py --db crm_bench_customers measure [--runs 30]
    python bench/access.py --db crm_bench_customers transfer [--runs 3]
    python bench/access.py --db crm_bench_customers cold [--runs 20]   # restarts the project's PostgreSQL

`setup` turns the largest tenant (1 M accounts, 3 M contacts) into the issue's shape, through the
real services as its admin: 500 members, an 8-level role tree (1 → 2 → 4 → … → 128 roles; one
member in each of the 127 upper roles, the others spread over the 128 leaf roles), 40 public
groups (members, roles, roles with subordinates, nested groups), 50 sharing rules (25 owner-based,
25 criteria-based, a few thousand accounts each), private defaults.

`measure` prints, as a leaf rep who sees under 0.2 %, a mid-level manager (level 4) and the
admin (view all): the account list's first page and a search, each against the same query with
no visibility filter (the ratio the issue targets, medians, in one run); `can()` on a record
page (with and without the per-request context load); moving a leaf rep's role (with their
records) to another branch; a criteria rule over ~100,000 accounts (created and rolled back).

`transfer` gives a leaf rep a book of 10,000 accounts (topped up once from the admin's queue, with
the accounts' contacts and open activities; committed) and times handing it to another leaf rep:
the preview, then `transfer_book` in one transaction with its deferred constraints checked, rolled
back so that it can run again.

`cold` times the leaf rep's first list page on an empty cache: PostgreSQL restarted and the
kernel's page cache dropped before every run (root; the project's own PostgreSQL from
scripts/services.py, not a DATABASE_URL one), a new connection, then the page.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
import common  # noqa: E402
from customers import LARGEST, setup_django  # noqa: E402

LEVELS = 8
MEMBERS = 500


def _tenant():
    from crm.tenancy.models import Tenant

    return Tenant.objects.get(slug=LARGEST)


def setup(args) -> None:
    from django.db import transaction

    from accounts.models import Account
    from crm.access import services
    from crm.access.models import GroupMember, SharingRule, UserRole
    from crm.tenancy.context import tenant_context
    from crm.tenancy.models import Membership, Role, User

    rnd = random.Random(42)
    tenant = _tenant()
    started = time.perf_counter()
    with transaction.atomic(), tenant_context(tenant):
        if UserRole.objects.filter(tenant=tenant, name="L0 Chief executive").exists():
            print("already set up")
            return
        # the generator loads members with COPY (no signals): give them profiles and roles first
        from crm.access.defaults import setup_tenant

        setup_tenant(tenant.pk)
        admin = Membership.objects.filter(tenant=tenant, role=Role.ADMIN).order_by("created_at").first()
        members = list(Membership.objects.filter(tenant=tenant).exclude(pk=admin.pk).select_related("user")
                       .order_by("created_at", "id"))
        for n in range(len(members), MEMBERS - 1):
            user = User.objects.create_user(email=f"extra{n}@{tenant.slug}.bench", password=None,
                                            full_name=f"Extra Rep {n}")
            members.append(Membership.objects.create(tenant=tenant, user=user, role=Role.REP))
        t = time.perf_counter()
        levels = [[services.role_create(actor=admin, name="L0 Chief executive")]]
        for depth in range(1, LEVELS):
            levels.append([services.role_create(actor=admin, name=f"L{depth} role {i}", parent=levels[-1][i // 2])
                           for i in range(2 ** depth)])
        print(f"{sum(map(len, levels))} roles in {time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        services.assign(actor=admin, membership=admin, role=levels[0][0])
        # the reps (who own the accounts) go to the leaves; the others fill the upper roles
        owners = set(Account.objects.filter(tenant=tenant).values_list("owner_id", flat=True).distinct())
        upper = [m for m in members if m.pk not in owners]
        reps = [m for m in members if m.pk in owners]
        upper_roles = [role for level in levels[1:-1] for role in level]
        while len(upper) < len(upper_roles):
            upper.append(reps.pop())
        for member, role in zip(upper, upper_roles, strict=False):
            services.assign(actor=admin, membership=member, role=role)
        rest = upper[len(upper_roles):] + reps
        for n, member in enumerate(rest):
            services.assign(actor=admin, membership=member, role=levels[-1][n % len(levels[-1])])
        print(f"{len(members) + 1} members placed in {time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        all_roles = [role for level in levels for role in level]
        groups = []
        for n in range(40):
            picks = [(GroupMember.Kind.USER, m) for m in rnd.sample(members, 5)]
            picks += [(rnd.choice([GroupMember.Kind.ROLE, GroupMember.Kind.ROLE_SUB]), r)
                      for r in rnd.sample(all_roles[31:], 2)]
            if groups and n % 4 == 0:
                picks.append((GroupMember.Kind.GROUP, rnd.choice(groups)))
            groups.append(services.group_save(actor=admin, name=f"Group {n:02d}", members=picks))
        print(f"40 groups in {time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        industries = [c for c, _ in Account.Industry.choices]
        for n in range(25):
            source = services.role_group(rnd.choice(levels[5]), subordinates=True)
            services.rule_save(actor=admin, object="accounts", name=f"Owner rule {n:02d}", kind=SharingRule.Kind.OWNER,
                               source_group=source, target_group=rnd.choice(groups), access=rnd.choice([1, 2]))
        for n in range(25):
            criteria = [{"field": "industry", "op": "eq", "value": rnd.choice(industries)},
                        {"field": "rating", "op": "eq", "value": "hot"},
                        {"field": "type", "op": "eq", "value": "partner"}]
            services.rule_save(actor=admin, object="accounts", name=f"Criteria rule {n:02d}",
                               kind=SharingRule.Kind.CRITERIA, criteria=criteria, target_group=rnd.choice(groups),
                               access=rnd.choice([1, 2]))
        print(f"50 rules in {time.perf_counter() - t:.1f} s")
    print(f"setup {time.perf_counter() - started:.1f} s")


def _timed(fn, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def measure(args) -> None:
    from django.db import connection, transaction

    from accounts import selectors
    from accounts.models import Account
    from crm.access import engine, maintenance, services
    from crm.access.models import RoleAssignment, SharingRule, UserRole
    from crm.tenancy.context import tenant_context
    from crm.tenancy.models import Membership, Role

    tenant = _tenant()
    runs = args.runs
    print(common.machine())
    # earlier runs of this script roll back 450,000 share rows (the two rules below): dead rows that
    # a sequential scan of access_share would wade through until autovacuum passes
    owner = common.connect_owner(args.db)
    owner.autocommit = True
    with owner.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) access_share")
    owner.close()
    with transaction.atomic(), tenant_context(tenant):
        manager = Membership.objects.get(pk=RoleAssignment.objects.get(role__name="L4 role 3").membership_id)
        admin = Membership.objects.filter(tenant=tenant, role=Role.ADMIN).order_by("created_at").first()
        total = Account.objects.for_tenant(tenant).count()
        # the leaf rep who sees least (the hard case: under 0.2 %)
        leaf_members = list(Membership.objects.filter(tenant=tenant, pk__in=RoleAssignment.objects.filter(
            role__name__startswith="L7 ").values("membership_id")).order_by("created_at")[:60])
        rep = min(leaf_members, key=lambda m: engine.visible(Account.objects.all(),
                                                             Membership.objects.get(pk=m.pk)).count())
        leaf_role = RoleAssignment.objects.get(membership=rep).role
        rows = []
        filters = selectors.AccountFilter(q="acme")
        for label, who in (("leaf rep", rep), ("level-4 manager", manager), ("admin (view all)", admin)):
            fresh = Membership.objects.get(pk=who.pk)
            seen = engine.visible(Account.objects.all(), fresh).count()

            def page(member=who, f=None):
                m = Membership.objects.get(pk=member.pk)
                list(selectors.account_list(actor=m, filters=f)[:51])

            # the same query with no visibility filter: the admin's (view all adds no condition)
            timings = {}
            for name, fn in (("list", lambda: page()), ("list, no filter", lambda: page(admin)),
                             ("search", lambda: page(f=filters)), ("search, no filter", lambda: page(admin, filters))):
                fn()
                timings[name] = _timed(fn, runs)
            rows.append((label, seen, timings))
        print(f"accounts: {total:,}")
        print("| as | sees | list p50 / p95 | unfiltered p50 | ratio | search p50 / p95 | unfiltered p50 | ratio |")
        print("|---|---:|---|---:|---:|---|---:|---:|")
        for label, seen, tm in rows:
            lm, sm = statistics.median(tm["list"]), statistics.median(tm["search"])
            lb, sb = statistics.median(tm["list, no filter"]), statistics.median(tm["search, no filter"])
            print(f"| {label} | {seen:,} ({seen / total:.2%}) | {lm:.1f} / {common.p95(tm['list']):.1f} | {lb:.1f} | "
                  f"{lm / lb:.2f} | {sm:.1f} / {common.p95(tm['search']):.1f} | {sb:.1f} | {sm / sb:.2f} |")

        record = Account.objects.filter(tenant=tenant, owner=rep).order_by("id").first()
        other = Account.objects.filter(tenant=tenant).exclude(owner=rep).order_by("id").first()
        warm = Membership.objects.get(pk=rep.pk)
        engine.context(warm)
        can_warm = _timed(lambda: engine.can(warm, "edit", other), runs * 10)

        def can_cold():
            m = Membership.objects.get(pk=rep.pk)
            engine.can(m, "read", record)
        can_with_context = _timed(can_cold, runs * 10)
        print(f"can(): p50 {statistics.median(can_warm):.2f} / p95 {common.p95(can_warm):.2f} ms (context loaded); "
              f"with the member and context loaded: p50 {statistics.median(can_with_context):.2f} / "
              f"p95 {common.p95(can_with_context):.2f} ms")

    # role move: the leaf rep's role (with its holders' records) under another branch
    with transaction.atomic(), tenant_context(tenant):
        owned = Account.objects.filter(tenant=tenant, owner_id__in=RoleAssignment.objects.filter(role=leaf_role)
                                       .values("membership_id")).count()
        target = UserRole.objects.get(tenant=tenant, name="L6 role 40")
        t = time.perf_counter()
        services.role_update(actor=admin, role=leaf_role, parent=target)
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        moved = (time.perf_counter() - t) * 1000
        print(f"role move (a leaf role whose holders own {owned:,} accounts): {moved:.0f} ms")
        transaction.set_rollback(True)

    # a criteria rule over ~100,000 accounts, in one transaction (rolled back)
    with transaction.atomic(), tenant_context(tenant):
        group = services.role_group(UserRole.objects.get(tenant=tenant, name="L5 role 7"), subordinates=True)
        criteria = [{"field": "type", "op": "eq", "value": "other"}]  # 99,896 of the 1 M
        matching = Account.objects.filter(tenant=tenant, type="other").count()
        t = time.perf_counter()
        rule = services.rule_save(actor=admin, object="accounts", name="Bench rule", kind=SharingRule.Kind.CRITERIA,
                                  criteria=criteria, target_group=group, access=1, run_inline=True)
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        took = (time.perf_counter() - t) * 1000
        print(f"criteria rule over {matching:,} accounts, one transaction: {took:.0f} ms ({rule.status})")
        transaction.set_rollback(True)

    # a rule too large for the request: saved `calculating`, written by its job in steps (rolled back)
    from crm.access import tasks

    with transaction.atomic(), tenant_context(tenant):
        group = services.role_group(UserRole.objects.get(tenant=tenant, name="L5 role 7"), subordinates=True)
        criteria = [{"field": "type", "op": "eq", "value": "customer"}]
        matching = Account.objects.filter(tenant=tenant, type="customer").count()
        rule = services.rule_save(actor=admin, object="accounts", name="Bench job rule", kind=SharingRule.Kind.CRITERIA,
                                  criteria=criteria, target_group=group, access=1, run_inline=False)
        t = time.perf_counter()
        written = tasks.calculate_rule(tenant_id=str(tenant.pk), rule_id=str(rule.pk))
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        took = (time.perf_counter() - t) * 1000
        print(f"criteria rule over {matching:,} accounts by its job (steps of {maintenance.RULE_STEP:,}, "
              f"progress after each): {took:.0f} ms, {written:,} rows")
        transaction.set_rollback(True)


def _leaf_reps(tenant):
    from accounts.models import Account
    from crm.access.models import RoleAssignment
    from crm.tenancy.models import Membership

    owners = Account.objects.filter(tenant=tenant).values("owner_id")
    return list(Membership.objects.filter(tenant=tenant, pk__in=RoleAssignment.objects.filter(
        role__name__startswith="L7 ").values("membership_id")).filter(pk__in=owners).order_by("created_at", "id")[:2])


BOOK = 10_000


def transfer(args) -> None:
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from accounts.models import Account
    from contacts.models import Activity, Contact
    from contacts.transfer import open_activities
    from crm.access.transfer import transfer_book, transfer_preview
    from crm.tenancy.context import tenant_context
    from crm.tenancy.models import Membership, Role

    tenant = _tenant()
    print(common.machine())
    with transaction.atomic(), tenant_context(tenant):
        admin = Membership.objects.filter(tenant=tenant, role=Role.ADMIN).order_by("created_at").first()
        leaver, receiver = _leaf_reps(tenant)
        owned = Account.objects.filter(tenant=tenant, owner=leaver).count()
        if owned < BOOK:
            ids = list(Account.objects.filter(tenant=tenant, owner=admin).order_by("id")
                       .values_list("id", flat=True)[:BOOK - owned])
            Account.objects.filter(tenant=tenant, id__in=ids).update(owner=leaver)
            Contact.objects.filter(tenant=tenant, account_id__in=ids).update(owner=leaver)
            Activity.objects.filter(open_activities(), tenant=tenant, account_id__in=ids).update(owner=leaver)
            print(f"the leaving rep's book topped up from {owned:,} to {BOOK:,} accounts")
    for _ in range(args.runs):
        with transaction.atomic(), tenant_context(tenant):
            leaver, receiver = (Membership.objects.select_related("user").get(pk=m.pk) for m in _leaf_reps(tenant))
            t = time.perf_counter()
            preview = transfer_preview(admin, leaver, [receiver])
            previewed = (time.perf_counter() - t) * 1000
            t = time.perf_counter()
            with CaptureQueriesContext(connection) as queries:
                counts = transfer_book(actor=admin, from_member=leaver, to_members=[receiver])
                with connection.cursor() as cursor:
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            took = time.perf_counter() - t
            moved = sum(v for k, v in counts.items() if k not in ("shares", "teams"))
            print(f"transfer: {', '.join(f'{v:,} {k}' for k, v in counts.items())} ({moved:,} records) "
                  f"in {took:.1f} s, one transaction; preview {previewed:.0f} ms ({preview})")
            slowest = sorted(queries.captured_queries, key=lambda q: -float(q["time"]))[:12]
            in_sql = sum(float(q["time"]) for q in queries.captured_queries)
            print(f"  {len(queries.captured_queries)} queries, {in_sql:.1f} s in SQL; the slowest:")
            for q in slowest:
                print(f"  {float(q['time']) * 1000:8.0f} ms  {' '.join(q['sql'].split())[:150]}")
            transaction.set_rollback(True)


def cold(args) -> None:
    import subprocess

    from django.db import connection, transaction

    from accounts import selectors
    from crm.tenancy.context import tenant_context
    from crm.tenancy.models import Membership

    sys.path.insert(0, str(HERE.parent / "scripts"))
    import services as local_services

    tenant = _tenant()
    print(common.machine())
    with transaction.atomic(), tenant_context(tenant):
        rep = _leaf_reps(tenant)[0]
    out = []
    for _ in range(args.runs):
        connection.close()
        local_services.pg_down()
        subprocess.run(["sync"], check=True)
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
        local_services.pg_up()
        connection.ensure_connection()
        t = time.perf_counter()
        with transaction.atomic(), tenant_context(tenant):
            member = Membership.objects.get(pk=rep.pk)
            list(selectors.account_list(actor=member, filters=None)[:51])
        out.append((time.perf_counter() - t) * 1000)
    out.sort()
    print(f"leaf rep's first list page, cold (PostgreSQL restarted, page cache dropped), {args.runs} runs: "
          f"p50 {statistics.median(out):.0f} / p95 {common.p95(out):.0f} / max {out[-1]:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("setup")
    m = sub.add_parser("measure")
    m.add_argument("--runs", type=int, default=30)
    sub.add_parser("transfer").add_argument("--runs", type=int, default=3)
    sub.add_parser("cold").add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    setup_django(args.db)
    {"setup": setup, "measure": measure, "transfer": transfer, "cold": cold}[args.command](args)


if __name__ == "__main__":
    main()
