"""A merge takes the lists' references to the losers along: "Recently viewed" shows the master once,
and undo of an earlier bulk delete puts its rows back on the master; undo of the merge restores
both."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Account
from contacts import services as contact_services
from contacts.models import Activity, Attendee, Contact
from crm.dedup import references, services
from crm.lists import services as list_services
from crm.lists.models import RecentView, TrashBatch

from .makers import account, contact

pytestmark = pytest.mark.django_db


def viewed(company, person, record, minutes_ago: int) -> None:
    RecentView.objects.create(tenant=company.tenant, membership=person, object="accounts", record_id=record.pk,
                              viewed_at=timezone.now() - timedelta(minutes=minutes_ago))


def recent(company, person) -> list[tuple]:
    rows = RecentView.objects.for_tenant(company.tenant).filter(membership=person).order_by("-viewed_at")
    return [(r.record_id, r.viewed_at) for r in rows]


def test_a_merged_account_shows_once_in_recently_viewed_at_the_latest_time(acme, in_tenant, client_as):
    with in_tenant(acme):
        master = account(acme.rep, "Acme Corp")
        loser = account(acme.rep, "ACME Corporation")
        other = account(acme.rep, "Initech")
        viewed(acme, acme.rep, master, minutes_ago=60)
        viewed(acme, acme.rep, other, minutes_ago=30)
        viewed(acme, acme.rep, loser, minutes_ago=5)  # the latest: the merged account is the first again
        viewed(acme, acme.manager, loser, minutes_ago=10)  # only the loser: their row names the master now
        before = {p: recent(acme, p) for p in (acme.rep, acme.manager)}

        merge = services.records_merge(actor=acme.rep, object_label="accounts", master=master.pk, losers=[loser.pk])

        assert recent(acme, acme.rep) == [(master.pk, before[acme.rep][0][1]), (other.pk, before[acme.rep][1][1])]
        assert recent(acme, acme.manager) == [(master.pk, before[acme.manager][0][1])]
    page = client_as(acme.rep).get("/accounts/?view=recent")
    assert [row["title"] for row in page.context["rows"]] == ["Acme Corp", "Initech"]

    with in_tenant(acme):
        services.merge_undo(actor=acme.rep, merge=merge)
        assert {p: recent(acme, p) for p in (acme.rep, acme.manager)} == before


def test_undo_of_a_bulk_delete_made_before_a_merge_puts_the_rows_on_the_master(acme, in_tenant):
    with in_tenant(acme):
        master = account(acme.rep, "Acme Corp")
        loser = account(acme.rep, "ACME Corporation")
        gone = contact(acme.rep, "Roe", "Jo", account=loser)
        deleted = list_services.bulk_delete(actor=acme.rep, object="contacts", ids=[gone.pk])

        services.records_merge(actor=acme.rep, object_label="accounts", master=master.pk, losers=[loser.pk])
        list_services.bulk_undo(actor=acme.rep, batch=TrashBatch.objects.get(pk=deleted.batch.pk))

        assert Contact.objects.for_tenant(acme.tenant).get(pk=gone.pk).account_id == master.pk


def test_undoing_the_merge_points_the_trash_at_the_restored_record_again(acme, in_tenant):
    with in_tenant(acme):
        master = account(acme.rep, "Acme Corp")
        loser = account(acme.rep, "ACME Corporation")
        gone = contact(acme.rep, "Roe", "Jo", account=loser)
        deleted = list_services.bulk_delete(actor=acme.rep, object="contacts", ids=[gone.pk])
        snapshot = TrashBatch.objects.get(pk=deleted.batch.pk).snapshot

        merge = services.records_merge(actor=acme.rep, object_label="accounts", master=master.pk, losers=[loser.pk])
        assert TrashBatch.objects.get(pk=deleted.batch.pk).snapshot != snapshot
        services.merge_undo(actor=acme.rep, merge=merge)
        assert TrashBatch.objects.get(pk=deleted.batch.pk).snapshot == snapshot

        list_services.bulk_undo(actor=acme.rep, batch=TrashBatch.objects.get(pk=deleted.batch.pk))
        assert Contact.objects.for_tenant(acme.tenant).get(pk=gone.pk).account_id == loser.pk
        assert Account.objects.for_tenant(acme.tenant).filter(pk=loser.pk).exists()


def test_a_deleted_meeting_both_merged_people_attended_comes_back_with_the_master_once(acme, in_tenant):
    with in_tenant(acme):
        master = contact(acme.rep, "Lee", "Ann")
        loser = contact(acme.rep, "Lee", "Anne")
        meeting = contact_services.activity_log(
            actor=acme.rep, kind="meeting", subject="Kick-off", occurred_at=timezone.now(),
            ends_at=timezone.now() + timedelta(hours=1), attendee_contacts=[master, loser])
        deleted = list_services.bulk_delete(actor=acme.rep, object="activities", ids=[meeting.pk])

        services.records_merge(actor=acme.rep, object_label="contacts", master=master.pk, losers=[loser.pk])
        list_services.bulk_undo(actor=acme.rep, batch=TrashBatch.objects.get(pk=deleted.batch.pk))

        assert Activity.objects.for_tenant(acme.tenant).filter(pk=meeting.pk).exists()
        assert list(Attendee.objects.for_tenant(acme.tenant).filter(activity_id=meeting.pk)
                    .values_list("contact_id", flat=True)) == [master.pk]


def test_an_expired_or_restored_trash_batch_is_left_as_it_was(acme, in_tenant):
    with in_tenant(acme):
        master = account(acme.rep, "Acme Corp")
        loser = account(acme.rep, "ACME Corporation")
        late = list_services.bulk_delete(actor=acme.rep, object="contacts",
                                         ids=[contact(acme.rep, "Roe", "Jo", account=loser).pk]).batch
        TrashBatch.objects.filter(pk=late.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
        kept = TrashBatch.objects.get(pk=late.pk).snapshot

        services.records_merge(actor=acme.rep, object_label="accounts", master=master.pk, losers=[loser.pk])

        assert TrashBatch.objects.get(pk=late.pk).snapshot == kept


def test_a_merge_finds_the_recently_viewed_rows_of_its_records_through_an_index(acme, in_tenant):
    from crm.tenancy.ids import new_id
    from crm.tenancy.testing import assert_uses_index

    with in_tenant(acme):
        records = [account(acme.rep, name) for name in ("Acme Corp", "ACME Corporation")]
        for person in acme.members:
            for record in records:
                viewed(acme, person, record, minutes_ago=1)
        # and many other records each, so that the ids are what selects
        RecentView.objects.bulk_create([
            RecentView(tenant=acme.tenant, membership=person, object=object_key, record_id=new_id(),
                       viewed_at=timezone.now() - timedelta(minutes=i))
            for person in acme.members for object_key in ("accounts", "contacts") for i in range(200)])
        query = references.recent_views_of(acme.tenant.pk, "accounts", [r.pk for r in records])
        assert_uses_index(query, "recentview_uniq", tenant=acme.tenant)
