"""Handing a book over (crm.access.transfer) at scale, on the customers' generated data.

    python bench/transfer.py --db crm_bench_customers [--accounts 10000] [--receivers 3]

In ONE transaction that is ROLLED BACK (the data set stays as generated): gives one member of the
largest tenant `--accounts` accounts with their contacts and activities (the setup, not timed),
then times transfer_book() to `--receivers` colleagues and prints the counts that moved.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from customers import LARGEST, setup_django  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--receivers", type=int, default=3)
    args = parser.parse_args()
    setup_django(args.db)

    from django.db import connection, transaction

    from crm.access import transfer
    from crm.tenancy.context import tenant_context
    from crm.tenancy.models import Membership, Role, Tenant

    tenant = Tenant.objects.get(slug=LARGEST)
    with transaction.atomic(), tenant_context(tenant):
        members = list(Membership.objects.filter(tenant=tenant, is_active=True).select_related("user").order_by("id"))
        admin = next(m for m in members if m.role == Role.ADMIN)
        reps = [m for m in members if m.role == Role.REP]
        leaver, receivers = reps[0], reps[1:1 + args.receivers]
        t = tenant.pk
        with connection.cursor() as cur:
            cur.execute("SET LOCAL statement_timeout = 0")  # the setup joins the 3 M contacts
            cur.execute("CREATE TEMP TABLE bench_book ON COMMIT DROP AS SELECT id FROM accounts_account "
                        "WHERE tenant_id = %s ORDER BY id LIMIT %s", [t, args.accounts])
            cur.execute("UPDATE accounts_account SET owner_id = %s WHERE tenant_id = %s AND id IN (SELECT id FROM bench_book)",
                        [leaver.pk, t])
            cur.execute("UPDATE contacts_contact SET owner_id = %s WHERE tenant_id = %s "
                        "AND account_id IN (SELECT id FROM bench_book)", [leaver.pk, t])
            cur.execute("UPDATE contacts_activity SET owner_id = %s WHERE tenant_id = %s "
                        "AND account_id IN (SELECT id FROM bench_book)", [leaver.pk, t])
        preview = transfer.transfer_preview(admin, leaver, receivers)
        start = time.perf_counter()
        counts = transfer.transfer_book(actor=admin, from_member=leaver, to_members=receivers)
        took = time.perf_counter() - start
        print(f"would move: {preview}")
        print(f"moved: {counts} in {took:.2f} s (rolled back)")
        transaction.set_rollback(True)


if __name__ == "__main__":
    main()
