"""Bulk actions from the list: add a tag, change owner, delete with confirmation and undo."""

import pytest

from accounts.models import Account, AccountTag, Tag
from contacts.models import Activity, Attendee, Contact
from contacts.tests.factories import ActivityFactory, ContactFactory
from crm.customfields.models import CustomValue
from crm.lists.models import TrashBatch
from crm.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db


def tags_of(company, account):
    with tenant_context(company.tenant):
        ids = AccountTag.objects.filter(account=account).values("tag_id")
        return sorted(Tag.objects.filter(id__in=ids).values_list("name", flat=True))


def test_a_rep_adds_a_tag_to_the_selected_accounts_and_the_colleagues_one_is_skipped(client_as, acme, make_account):
    mine = [make_account(name=f"Mine {i}") for i in range(2)]
    theirs = make_account(name="Theirs", owner=acme.rep2)
    client = client_as(acme.rep)
    response = client.post("/lists/accounts/bulk/", {"action": "tag", "tag": "Trade fair",
                                                     "ids": [str(a.pk) for a in [*mine, theirs]], "next": "/accounts/"},
                           follow=True)
    assert [tags_of(acme, a) for a in mine] == [["Trade fair"], ["Trade fair"]]
    assert tags_of(acme, theirs) == []
    html = response.content.decode()
    assert "2 accounts tagged" in html and "1 account skipped" in html
    # adding it again changes nothing and creates no second tag
    client.post("/lists/accounts/bulk/", {"action": "tag", "tag": "trade FAIR", "ids": [str(mine[0].pk)]})
    with tenant_context(acme.tenant):
        assert Tag.objects.for_tenant(acme.tenant).count() == 1


def test_a_manager_changes_owners_of_contacts_in_bulk_but_a_rep_cannot(client_as, acme):
    contacts = [ContactFactory(tenant=acme.tenant, owner=acme.rep) for _ in range(2)]
    ids = [str(c.pk) for c in contacts]
    assert client_as(acme.rep).post("/lists/contacts/bulk/", {"action": "owner", "owner": str(acme.rep2.pk),
                                                               "ids": ids}).status_code == 404
    client_as(acme.manager).post("/lists/contacts/bulk/", {"action": "owner", "owner": str(acme.rep2.pk), "ids": ids})
    with tenant_context(acme.tenant):
        assert set(Contact.objects.for_tenant(acme.tenant).values_list("owner_id", flat=True)) == {acme.rep2.pk}


def test_delete_asks_first_naming_how_many_and_which(client_as, acme, make_account):
    a = make_account(name="Alpha")
    b = make_account(name="Beta")
    theirs = make_account(name="Gamma", owner=acme.rep2)
    response = client_as(acme.rep).post("/lists/accounts/bulk/", {"action": "delete",
                                                                   "ids": [str(a.pk), str(b.pk), str(theirs.pk)]})
    html = response.content.decode()
    assert response.status_code == 200
    assert "2 accounts" in html and "Alpha" in html and "Beta" in html and "Gamma" not in html
    assert "1 of the selected accounts is not yours to delete" in html
    with tenant_context(acme.tenant):
        assert Account.objects.for_tenant(acme.tenant).count() == 3


def test_delete_then_undo_restores_everything_that_went_with_the_accounts(client_as, acme, custom_fields,
                                                                          make_account):
    from accounts import services

    parent = make_account(name="Parent", custom={"region": "EMEA", "budget": 10})
    child = make_account(name="Child", parent=parent)
    contact = ContactFactory(tenant=acme.tenant, owner=acme.rep, account=parent, last_name="Stays")
    activity = ActivityFactory(tenant=acme.tenant, owner=acme.rep, account=parent, subject="Goes with it")
    with tenant_context(acme.tenant):
        services.account_set_tags(actor=acme.rep, account=parent, names=["VIP"])
        Attendee.objects.create(tenant=acme.tenant, activity=activity, membership=acme.rep)
    client = client_as(acme.rep)
    response = client.post("/lists/accounts/bulk/", {"action": "delete", "confirm": "yes", "ids": [str(parent.pk)],
                                                     "next": "/accounts/"}, follow=True)
    html = response.content.decode()
    assert "1 account deleted" in html and "Undo" in html
    with tenant_context(acme.tenant):
        assert not Account.objects.filter(pk=parent.pk).exists()
        assert not Activity.objects.filter(pk=activity.pk).exists()
        assert Contact.objects.get(pk=contact.pk).account_id is None  # SET_NULL
        assert Account.objects.get(pk=child.pk).parent_id is None
        assert not CustomValue.objects.filter(record_id=parent.pk).exists()
        batch = TrashBatch.objects.for_tenant(acme.tenant).get()
    assert client.get("/accounts/?cf_region=EMEA").context["rows"] == []

    response = client.post(f"/lists/undo/{batch.pk}/", follow=True)
    assert "1 account restored" in response.content.decode()
    with tenant_context(acme.tenant):
        restored = Account.objects.get(pk=parent.pk)
        assert restored.custom == {"region": "EMEA", "budget": 10}
        assert Activity.objects.get(pk=activity.pk).subject == "Goes with it"
        assert Attendee.objects.filter(activity_id=activity.pk).count() == 1
        assert Contact.objects.get(pk=contact.pk).account_id == parent.pk
        assert Account.objects.get(pk=child.pk).parent_id == parent.pk
    assert tags_of(acme, parent) == ["VIP"]
    assert [r["title"] for r in client.get("/accounts/?cf_region=EMEA").context["rows"]] == ["Parent"]
    # once only
    client.post(f"/lists/undo/{batch.pk}/")
    with tenant_context(acme.tenant):
        assert Account.objects.filter(pk=parent.pk).count() == 1


def test_only_the_person_who_deleted_can_undo_and_only_for_a_while(client_as, acme, make_account):
    from datetime import timedelta

    from django.utils import timezone

    account = make_account(name="Gone")
    client_as(acme.rep).post("/lists/accounts/bulk/", {"action": "delete", "confirm": "yes", "ids": [str(account.pk)]})
    with tenant_context(acme.tenant):
        batch = TrashBatch.objects.for_tenant(acme.tenant).get()
    assert client_as(acme.admin).post(f"/lists/undo/{batch.pk}/").status_code == 404
    with tenant_context(acme.tenant):
        TrashBatch.objects.filter(pk=batch.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    response = client_as(acme.rep).post(f"/lists/undo/{batch.pk}/", follow=True)
    assert "Too late to undo" in response.content.decode()
    with tenant_context(acme.tenant):
        assert not Account.objects.filter(pk=account.pk).exists()


def test_contacts_and_activities_delete_with_undo_too(client_as, acme):
    contact = ContactFactory(tenant=acme.tenant, owner=acme.rep, last_name="Temp")
    activity = ActivityFactory(tenant=acme.tenant, owner=acme.rep, contact=contact, subject="Call Temp")
    client = client_as(acme.rep)
    client.post("/lists/contacts/bulk/", {"action": "delete", "confirm": "yes", "ids": [str(contact.pk)]})
    with tenant_context(acme.tenant):
        assert Activity.objects.get(pk=activity.pk).contact_id is None
        batch = TrashBatch.objects.for_tenant(acme.tenant).get()
    client.post(f"/lists/undo/{batch.pk}/")
    with tenant_context(acme.tenant):
        assert Activity.objects.get(pk=activity.pk).contact_id == contact.pk
    client.post("/lists/activities/bulk/", {"action": "delete", "confirm": "yes", "ids": [str(activity.pk)]})
    with tenant_context(acme.tenant):
        assert not Activity.objects.filter(pk=activity.pk).exists()


def test_open_tasks_are_marked_done_in_bulk_and_the_rest_is_skipped(client_as, acme):
    from contacts.tests.factories import TaskFactory

    mine = TaskFactory(tenant=acme.tenant, owner=acme.rep)
    call = ActivityFactory(tenant=acme.tenant, owner=acme.rep)
    theirs = TaskFactory(tenant=acme.tenant, owner=acme.rep2)
    response = client_as(acme.rep).post("/lists/activities/bulk/", {
        "action": "complete", "ids": [str(mine.pk), str(call.pk), str(theirs.pk)], "next": "/activities/"},
        follow=True)
    assert "1 task marked done. 2 skipped" in response.content.decode()
    with tenant_context(acme.tenant):
        statuses = dict(Activity.objects.for_tenant(acme.tenant).values_list("id", "status"))
    assert statuses[mine.pk] == "done" and statuses[theirs.pk] != "done"
