from __future__ import annotations

import pytest

from accounts.models import Account
from contacts.models import Contact
from crm.tenancy.context import tenant_context


@pytest.fixture
def book(acme, globex):
    """A few records in Acme (owned by rep and rep2) and one look-alike in Globex."""
    with tenant_context(acme.tenant):
        corp = Account.objects.create(tenant=acme.tenant, name="Acme Corporation", domain="acme-corp.example",
                                      owner=acme.rep)
        Account.objects.create(tenant=acme.tenant, name="Acme Logistics", owner=acme.rep)
        Account.objects.create(tenant=acme.tenant, name="Zenith Holdings", owner=acme.rep)
        hidden = Account.objects.create(tenant=acme.tenant, name="Kalomi Private Bank", owner=acme.rep2)
        jane = Contact.objects.create(tenant=acme.tenant, first_name="Jane", last_name="Doe",
                                      email="jane.doe@acme-corp.example", phone="+4930123456", account=corp,
                                      owner=acme.rep)
        Contact.objects.create(tenant=acme.tenant, first_name="Kurt", last_name="Kalomi",
                               email="kurt@kalomi.example", owner=acme.rep2)
    with tenant_context(globex.tenant):
        theirs = Account.objects.create(tenant=globex.tenant, name="Acme Corporation (Globex's)", owner=globex.rep)
        their_contact = Contact.objects.create(tenant=globex.tenant, first_name="Jane", last_name="Doe",
                                               email="jane.doe@acme-corp.example", owner=globex.rep)
    return {"corp": corp, "hidden": hidden, "jane": jane, "theirs": theirs, "their_contact": their_contact}
