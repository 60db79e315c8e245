"""Contacts, activities (and the accounts they hang on) for tests. Pass tenant= and owner=; rows are
made inside that tenant's context (RLS checks the tenant on insert)."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from accounts.models import Account
from contacts.models import Activity, Contact
from crm.tenancy.context import tenant_context


class _InTenant(factory.django.DjangoModelFactory):
    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        with tenant_context(kwargs["tenant"]):
            return super()._create(model_class, *args, **kwargs)


class AccountFactory(_InTenant):
    class Meta:
        model = Account

    name = factory.Sequence(lambda n: f"Customer {n:04d}")


class ContactFactory(_InTenant):
    class Meta:
        model = Contact

    first_name = factory.Sequence(lambda n: f"Anna{n}")
    last_name = factory.Sequence(lambda n: f"Person{n:04d}")
    email = factory.LazyAttribute(lambda c: f"{c.first_name.lower()}@customer.example")


class ActivityFactory(_InTenant):
    class Meta:
        model = Activity

    kind = Activity.Kind.CALL
    subject = factory.Sequence(lambda n: f"Call {n}")
    occurred_at = factory.Sequence(lambda n: timezone.now() - timedelta(minutes=n + 1))
    status = Activity.Status.DONE


class TaskFactory(ActivityFactory):
    kind = Activity.Kind.TASK
    subject = factory.Sequence(lambda n: f"Task {n}")
    status = Activity.Status.OPEN
    due_at = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=1))
