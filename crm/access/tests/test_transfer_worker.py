"""The real thing: the page queues the hand-over and a real Celery worker moves the book."""

import time

import pytest

from accounts.models import Account
from contacts.tests.factories import AccountFactory, ContactFactory
from crm.tenancy.context import tenant_context

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_hand_over_runs_in_a_worker_and_shows_the_result(acme, client_as, celery_worker):
    accounts = [AccountFactory(tenant=acme.tenant, owner=acme.rep, name=f"A{i}") for i in range(4)]
    ContactFactory(tenant=acme.tenant, owner=acme.rep, account=accounts[0])
    client = client_as(acme.admin)
    response = client.post("/settings/access/transfer/", {
        "from_member": str(acme.rep.pk), "to_members": [str(acme.rep2.pk), str(acme.manager.pk)], "confirm": "1"})
    assert response.status_code == 302
    deadline = time.monotonic() + 60
    page = ""
    while time.monotonic() < deadline:
        page = client.get(response["Location"], HTTP_HX_REQUEST="true").content.decode()
        if "Handed over" in page or "Nothing was handed over" in page:
            break
        time.sleep(0.3)
    assert "Handed over" in page, celery_worker.log()[-3000:]
    with tenant_context(acme.tenant):
        owners = sorted(Account.objects.filter(pk__in=[a.pk for a in accounts]).values_list("owner_id", flat=True))
    assert owners == sorted([acme.rep2.pk, acme.rep2.pk, acme.manager.pk, acme.manager.pk])
