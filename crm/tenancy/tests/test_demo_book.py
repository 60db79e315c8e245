"""seed_demo's book of customers (crm/tenancy/demo_book.py)."""

from __future__ import annotations

import re
import time

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import Account
from contacts.models import Activity, Contact, ContactPhone
from crm.tenancy import demo_book
from crm.tenancy.context import tenant_context
from crm.tenancy.models import Tenant

pytestmark = pytest.mark.django_db

E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def counts(tenant):
    with tenant_context(tenant):
        return (Account.objects.for_tenant(tenant).count(), Contact.objects.for_tenant(tenant).count(),
                Activity.objects.for_tenant(tenant).count())


def people(company):
    return {"admin": company.admin, "manager": company.manager, "rep": company.rep, "rep2": company.rep2,
            "agent": company.agent}


def test_a_realistic_book_for_one_company(acme, globex):
    started = time.perf_counter()
    demo_book.seed(acme.tenant, people(acme))
    assert time.perf_counter() - started < 20
    accounts, contacts, activities = counts(acme.tenant)
    assert accounts == demo_book.ACCOUNTS
    assert 2 * accounts <= contacts <= 4 * accounts
    assert activities >= 3 * accounts
    assert counts(globex.tenant) == (0, 0, 0)

    with tenant_context(acme.tenant):
        all_accounts = list(Account.objects.for_tenant(acme.tenant))
        assert len({a.name_key for a in all_accounts}) == accounts  # unique names
        assert len({a.industry for a in all_accounts}) >= 8
        assert sum(1 for a in all_accounts if a.parent_id) >= demo_book.GROUPS * 2
        by_owner = {m: sum(1 for a in all_accounts if a.owner_id == m.pk) for m in (acme.rep, acme.rep2)}
        assert all(n >= accounts // 4 for n in by_owner.values()), by_owner
        assert all(E164.match(a.phone) for a in all_accounts)
        assert all(E164.match(p.number) for p in ContactPhone.objects.for_tenant(acme.tenant))
        assert all(c.email == c.email.lower() and "@" in c.email for c in Contact.objects.for_tenant(acme.tenant))

        now = timezone.now()
        today = timezone.localdate()
        tasks = Activity.objects.for_tenant(acme.tenant).filter(kind="task", status="open")
        for rep in (acme.rep, acme.rep2):
            mine = tasks.filter(owner=rep)
            assert mine.filter(due_at__lt=now).exclude(due_at__date=today).exists(), "overdue"
            assert mine.filter(due_at__date=today).count() >= 2, "due today"
        done = Activity.objects.for_tenant(acme.tenant).filter(status="done")
        oldest = done.order_by("occurred_at").exclude(occurred_at=None).first().occurred_at
        assert (now - oldest).days > 300, "about a year of history"
        assert {"call", "meeting", "note", "email", "task"} <= set(done.values_list("kind", flat=True).distinct())


def test_seeding_is_idempotent_and_deterministic(acme):
    demo_book.seed(acme.tenant, people(acme))
    first = counts(acme.tenant)
    with tenant_context(acme.tenant):
        names = sorted(Account.objects.for_tenant(acme.tenant).values_list("name", flat=True))
    demo_book.seed(acme.tenant, people(acme))
    assert counts(acme.tenant) == first
    # the same slug gives the same book (random.Random(slug))
    import random

    assert random.Random(acme.tenant.slug).random() == random.Random("acme").random()
    assert names[0] and len(set(names)) == len(names)


def test_seed_demo_twice_is_fine_and_fast(db):
    started = time.perf_counter()
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    first_run = time.perf_counter() - started
    tenants = list(Tenant.objects.filter(slug__in=["acme", "globex"]))
    before = [counts(t) for t in tenants]
    assert all(c[0] >= demo_book.ACCOUNTS for c in before)  # + the few duplicates crm/dedup/demo.py adds
    started = time.perf_counter()
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert [counts(t) for t in tenants] == before
    assert first_run < 30 and time.perf_counter() - started < 5


def test_the_book_has_custom_fields_with_values_that_filter(acme):
    from accounts.selectors import account_list
    from crm.customfields import selectors as cf_selectors
    from crm.customfields import services as cf_services

    demo_book.seed(acme.tenant, people(acme))
    with tenant_context(acme.tenant):
        specs = cf_services.specs(acme.tenant.pk, "accounts")
        assert [s.name for s in specs] == ["segment", "contract_renewal"]
        conditions, _ = cf_selectors.parse(specs, {"cf_segment": "Enterprise"})
        enterprise = list(cf_selectors.apply(account_list(actor=acme.admin), acme.tenant.pk, conditions))
        assert enterprise and all(a.custom["segment"] == "Enterprise" and a.employees >= 1000 for a in enterprise)
        assert [s.name for s in cf_services.specs(acme.tenant.pk, "contacts")] == ["buying_role"]
