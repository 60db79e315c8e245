"""What a refusal looks like (issue 5, "Correctness"): a record one cannot see is a 404 in lists,
details and actions (we never confirm it exists); an action one may not take on a record one can
see is a 403 that says why — on pages and in the API."""

from __future__ import annotations

import pytest

from accounts.models import Account
from contacts.models import Activity, Contact
from crm.access import services
from crm.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(acme):
    """rep2 owns an account, a contact and a task; accounts and contacts are public read only,
    activities private: rep reads rep2's account and contact, but not the task."""
    with tenant_context(acme.tenant):
        services.org_default_set(actor=acme.admin, object="accounts", access="read")
        services.org_default_set(actor=acme.admin, object="contacts", access="read")
        account = Account.objects.create(tenant=acme.tenant, name="Initech", owner=acme.rep2)
        contact = Contact.objects.create(tenant=acme.tenant, last_name="Lumbergh", account=account, owner=acme.rep2)
        task = Activity.objects.create(tenant=acme.tenant, kind="task", subject="Call back", owner=acme.rep2,
                                       account=account)
    return account, contact, task


def test_seen_but_not_editable_is_a_403_with_a_reason_on_pages(acme, client_as, world):
    account, contact, _task = world
    client = client_as(acme.rep)
    assert client.get(f"/accounts/{account.pk}/").status_code == 200
    for url in (f"/accounts/{account.pk}/edit/", f"/contacts/{contact.pk}/edit/"):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "You cannot edit this record." in response.content.decode()
    response = client.post(f"/contacts/{contact.pk}/delete/")
    assert response.status_code == 403 and "You cannot delete this record." in response.content.decode()
    response = client.post(f"/accounts/{account.pk}/delete/")
    assert response.status_code == 403
    with tenant_context(acme.tenant):
        assert Contact.objects.filter(pk=contact.pk).exists() and Account.objects.filter(pk=account.pk).exists()


def test_unseen_is_a_404_everywhere(acme, client_as, world):
    _account, _contact, task = world
    client = client_as(acme.rep)
    assert client.get(f"/activities/{task.pk}/edit/").status_code == 404
    assert client.post(f"/activities/{task.pk}/complete/").status_code == 404
    with tenant_context(acme.tenant):
        assert Activity.objects.get(pk=task.pk).status == "open"


def test_the_api_says_403_with_the_reason_for_a_record_one_sees(acme, api, world):
    account, contact, _task = world
    client = api.as_(acme.rep)
    response = client.patch(f"/api/v1/accounts/{account.pk}/", {"name": "Hacked"}, format="json")
    assert response.status_code == 403 and "cannot edit" in response.json()["error"]["message"]
    response = client.delete(f"/api/v1/contacts/{contact.pk}/")
    assert response.status_code == 403 and "cannot delete" in response.json()["error"]["message"]
    with tenant_context(acme.tenant):
        assert Account.objects.get(pk=account.pk).name == "Initech"
