"""Accounts for tests. Pass tenant= and owner=; rows are made inside that tenant's context (RLS
checks the tenant on insert)."""

import factory

from accounts.models import Account
from crm.tenancy.context import tenant_context


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    name = factory.Sequence(lambda n: f"Account {n:04d}")
    type = Account.Type.CUSTOMER

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        with tenant_context(kwargs["tenant"]):
            return super()._create(model_class, *args, **kwargs)


def make_contacts(company, account, n, owner=None):
    from contacts.models import Contact

    with tenant_context(company.tenant):
        return Contact.objects.bulk_create([
            Contact(tenant=company.tenant, first_name=f"Person{i}", last_name=f"Contact{i:03d}", title="Buyer",
                    email=f"p{i}@customer.example", account=account, owner=owner or account.owner)
            for i in range(n)
        ])
