"""Demo data: two companies, Acme and Globex, each with its admin, manager, two reps and an agent.

Idempotent: what exists is left as it is (a user who changed their password keeps it), only
what is missing is created. Later issues add customers, deals, orders and tickets here through
`DEMO_SEEDERS` (each takes the company's memberships and must be idempotent too).
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from crm.tenancy import demo_book
from crm.tenancy.context import tenant_context
from crm.tenancy.models import Membership, Role, Tenant, User

PASSWORD = "Demo-pass-2026"
COMPANIES = [("acme", "Acme", Tenant.Plan.BUSINESS), ("globex", "Globex", Tenant.Plan.TEAM)]
PEOPLE = [
    ("admin", Role.ADMIN, "Ada Admin", None),
    ("manager", Role.MANAGER, "Max Manager", None),
    ("rep", Role.REP, "Rita Rep", "manager"),
    ("rep2", Role.REP, "Ravi Rep", "manager"),
    ("agent", Role.AGENT, "Alex Agent", None),
]
DEMO_SEEDERS: list = [  # callables (tenant, people: dict[str, Membership]) -> None
    demo_book.seed,  # accounts, contacts, a year of activities
    # later apps append theirs from their AppConfig.ready() (crm/dedup: a few duplicates)
]


class Command(BaseCommand):
    help = "Create the demo companies and users (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options):
        for slug, name, plan in COMPANIES:
            tenant, created = Tenant.objects.get_or_create(slug=slug, defaults={"name": name, "plan": plan})
            people: dict[str, Membership] = {}
            with tenant_context(tenant):
                for local, role, full_name, boss in PEOPLE:
                    email = f"{local}@{slug}.example"
                    user = User.objects.filter(email=email).first()
                    if user is None:
                        user = User.objects.create_user(email=email, password=PASSWORD,
                                                        full_name=f"{full_name.split()[0]} {name}")
                    membership, _ = Membership.objects.for_tenant(tenant).get_or_create(
                        tenant=tenant, user=user,
                        defaults={"role": role, "reports_to": people.get(boss), "is_default": True},
                    )
                    people[local] = membership
                for seeder in DEMO_SEEDERS:
                    seeder(tenant, people)
            self.stdout.write(f"{'created' if created else 'kept'} {name} ({slug})")
        self.stdout.write(self.style.SUCCESS(f"Demo users: admin|manager|rep|rep2|agent@<acme|globex>.example / {PASSWORD}"))
