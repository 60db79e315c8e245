"""Merging moves everything to the master, applies the chosen values, and undo restores exactly."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from accounts.models import Account, AccountTag
from contacts import services as contact_services
from contacts.models import AccountRelation, Activity, Attendee, Consent, Contact, ContactEmail, ContactPhone
from crm.customfields.models import CustomValue
from crm.dedup import services
from crm.dedup.journal import image
from crm.dedup.models import DuplicateCandidate, MergeRecord
from crm.dedup.registry import ForeignKeyMover, GenericMover, register_relation, relations_for

from .makers import account, call, contact, custom_field

pytestmark = pytest.mark.django_db


def snapshot(tenant_id) -> dict:
    """Every row of the tables a merge touches, as stored (ids and values)."""
    out = {}
    for model in (Account, AccountTag, Contact, ContactEmail, ContactPhone, AccountRelation, Consent, Activity,
                  Attendee):
        rows = model.objects.for_tenant(tenant_id).order_by("pk")
        out[model.__name__] = {str(r.pk): {k: v for k, v in image(r).items() if k != "updated_at"} for r in rows}
    out["CustomValue"] = sorted(CustomValue.objects.for_tenant(tenant_id).values_list("record_id", "field_id", "text_key"))
    return out


def test_merging_contacts_moves_activities_emails_phones_and_applies_the_chosen_phone(acme, in_tenant):
    with in_tenant(acme):
        firm = account(acme.rep, "Initech")
        master = contact(acme.rep, "Lee", "Ann", account=firm, emails=["ann@initech.example"],
                         phones=["+4930123456"], title="CFO")
        loser = contact(acme.rep, "Lee", "Anne", emails=["ann@initech.example", "ann@home.example"],
                        phones=["+4989765432"], department="Finance")
        call(acme.rep, "Master call", contact=master)
        call(acme.rep, "Loser call 1", contact=loser)
        call(acme.rep, "Loser call 2", contact=loser)

        merge = services.records_merge(actor=acme.rep, object_label="contacts", master=master.pk,
                                       losers=[loser.pk], fields={"phone": str(loser.pk)})

        master.refresh_from_db()
        assert not Contact.objects.for_tenant(acme.tenant).filter(pk=loser.pk).exists()
        assert set(Activity.objects.for_tenant(acme.tenant).filter(contact=master).values_list("subject", flat=True)) \
            == {"Master call", "Loser call 1", "Loser call 2"}
        emails = dict(ContactEmail.objects.for_tenant(acme.tenant).filter(contact=master)
                      .values_list("email", "is_primary"))
        assert emails == {"ann@initech.example": True, "ann@home.example": False}
        phones = dict(ContactPhone.objects.for_tenant(acme.tenant).filter(contact=master)
                      .values_list("number", "is_primary"))
        assert phones == {"+4989765432": True, "+4930123456": False}
        assert master.phone == "+4989765432"
        assert master.title == "CFO" and master.department == "Finance"  # the gap filled from the other
        assert master.account_id == firm.pk
        assert merge.moved["Activities"] == 2


def test_undo_restores_every_row_exactly(acme, in_tenant):
    with in_tenant(acme):
        custom_field(acme, "contacts", "segment")
        firm = account(acme.rep, "Initech", tags=["vip"])
        other_firm = account(acme.rep, "Initrode", tags=["vip", "partner"])
        master = contact(acme.rep, "Lee", "Ann", account=firm, emails=["ann@initech.example"], phones=["+4930123456"],
                         relations=[{"account": other_firm.pk, "role": "advisor"}])
        loser = contact(acme.rep, "Lee", "Anne", emails=["ann@initech.example", "ann@home.example"],
                        phones=["+4989765432"], relations=[{"account": other_firm.pk, "role": "advisor"}],
                        custom={"segment": "b"})
        contact_services.consent_record(actor=acme.rep, contact=master, channel="email", status="granted",
                                        source="web form")
        contact_services.consent_record(actor=acme.rep, contact=loser, channel="email", status="withdrawn")
        meeting = contact_services.activity_log(
            actor=acme.rep, kind="meeting", subject="Kick-off", occurred_at=timezone.now(),
            ends_at=timezone.now() + timedelta(hours=1), attendee_contacts=[master, loser])
        call(acme.rep, "Loser call", contact=loser)
        before = snapshot(acme.tenant.pk)

        merge = services.records_merge(actor=acme.rep, object_label="contacts", master=master.pk, losers=[loser.pk],
                                       fields={"first_name": str(loser.pk), "phone": str(loser.pk)})
        assert Attendee.objects.for_tenant(acme.tenant).filter(activity=meeting).count() == 1
        services.merge_undo(actor=acme.rep, merge=merge)

        assert snapshot(acme.tenant.pk) == before
        merge.refresh_from_db()
        assert merge.undone_at is not None and merge.undone_by == acme.rep


def test_consent_keeps_the_latest_decision_but_never_turns_an_opt_out_into_an_opt_in(acme, in_tenant):
    with in_tenant(acme):
        master = contact(acme.rep, "Lee", "Ann")
        loser = contact(acme.rep, "Lee", "Anne")
        contact_services.consent_record(actor=acme.rep, contact=master, channel="email", status="withdrawn")
        contact_services.consent_record(actor=acme.rep, contact=loser, channel="email", status="granted",
                                        source="web form")  # newer, but a grant
        contact_services.consent_record(actor=acme.rep, contact=master, channel="sms", status="unknown")
        contact_services.consent_record(actor=acme.rep, contact=loser, channel="sms", status="granted",
                                        source="call")
        services.records_merge(actor=acme.rep, object_label="contacts", master=master.pk, losers=[loser.pk])
        consents = dict(Consent.objects.for_tenant(acme.tenant).filter(contact=master)
                        .values_list("channel", "status"))
    assert consents == {"email": "withdrawn", "sms": "granted"}


def test_do_not_contact_on_any_record_survives_the_merge(acme, in_tenant):
    with in_tenant(acme):
        master = contact(acme.rep, "Lee", "Ann")
        loser = contact(acme.rep, "Lee", "Anne", do_not_contact=True)
        services.records_merge(actor=acme.rep, object_label="contacts", master=master.pk, losers=[loser.pk])
        master.refresh_from_db()
    assert master.do_not_contact is True


def test_merging_three_accounts_moves_contacts_children_activities_tags_and_custom_values(acme, in_tenant):
    with in_tenant(acme):
        custom_field(acme, "accounts", "tier")
        custom_field(acme, "accounts", "region")
        master = account(acme.rep, "Acme Corp", website="acme.example", tags=["vip"], custom={"tier": "gold"})
        second = account(acme.rep, "ACME Corporation", phone="+4930123456", tags=["vip", "partner"],
                         custom={"tier": "silver", "region": "north"})
        third = account(acme.rep, "Acme GmbH", billing_country="DE")
        child = account(acme.rep, "Acme Labs", parent=second)
        person = contact(acme.rep, "Roe", "Jo", account=third)
        call(acme.rep, "Third call", account=third)
        relation_holder = contact(acme.rep, "Poe", "Al", relations=[{"account": second.pk, "role": "advisor"}])

        merge = services.records_merge(actor=acme.rep, object_label="accounts", master=master.pk,
                                       losers=[second.pk, third.pk],
                                       fields={"name": str(second.pk), "custom.tier": str(second.pk)})
        master.refresh_from_db()
        child.refresh_from_db()
        person.refresh_from_db()
        assert master.name == "ACME Corporation"
        assert master.phone == "+4930123456" and master.billing_country == "DE"  # gaps filled
        assert master.custom == {"tier": "silver", "region": "north"}
        assert set(CustomValue.objects.for_tenant(acme.tenant).filter(record_id=master.pk)
                   .values_list("text_key", flat=True)) == {"silver", "north"}
        assert not CustomValue.objects.for_tenant(acme.tenant).filter(record_id=second.pk).exists()
        assert child.parent_id == master.pk
        assert person.account_id == master.pk
        assert Activity.objects.for_tenant(acme.tenant).filter(account=master, subject="Third call").exists()
        tags = set(AccountTag.objects.for_tenant(acme.tenant).filter(account=master).values_list("tag__name", flat=True))
        assert tags == {"vip", "partner"}
        assert AccountRelation.objects.for_tenant(acme.tenant).get(contact=relation_holder).account_id == master.pk
        assert Account.objects.for_tenant(acme.tenant).filter(pk__in=[second.pk, third.pk]).count() == 0
        assert merge.moved["Child accounts"] == 1 and merge.moved["Contacts"] == 1

        services.merge_undo(actor=acme.rep, merge=merge)
        child.refresh_from_db()
        assert child.parent_id == second.pk
        assert Account.objects.for_tenant(acme.tenant).get(pk=master.pk).name == "Acme Corp"
        assert set(AccountTag.objects.for_tenant(acme.tenant).filter(account=second)
                   .values_list("tag__name", flat=True)) == {"vip", "partner"}


def test_a_master_that_was_a_child_of_the_loser_takes_the_losers_parent(acme, in_tenant):
    with in_tenant(acme):
        top = account(acme.rep, "Holding")
        loser = account(acme.rep, "Acme", parent=top)
        master = account(acme.rep, "Acme Ltd", parent=loser)
        services.records_merge(actor=acme.rep, object_label="accounts", master=master.pk, losers=[loser.pk],
                               fields={"parent": str(master.pk)})
        master.refresh_from_db()
    assert master.parent_id == top.pk


@pytest.fixture
def later_app_relation():
    """What a later app does in its ready(): register how its rows follow a merged contact. Here
    the rows are activities it linked with its own type (any model with a foreign key or a
    generic link works the same)."""
    from crm.dedup import registry

    mover = GenericMover("contacts.Activity", "related_type", "related_id", "later.thing", "Later things")
    register_relation("contacts", mover)
    yield mover
    registry._RELATIONS["contacts"].pop(mover.key)


def test_a_later_apps_relation_registered_in_the_registry_moves_and_comes_back(acme, in_tenant, later_app_relation):
    with in_tenant(acme):
        master = contact(acme.rep, "Lee", "Ann")
        loser = contact(acme.rep, "Lee", "Anne")
        linked = Activity.objects.create(tenant=acme.tenant, kind="note", subject="Their thing", owner=acme.rep,
                                         related_type="later.thing", related_id=loser.pk)
        merge = services.records_merge(actor=acme.rep, object_label="contacts", master=master.pk, losers=[loser.pk])
        linked.refresh_from_db()
        assert linked.related_id == master.pk and merge.moved["Later things"] == 1
        services.merge_undo(actor=acme.rep, merge=merge)
        linked.refresh_from_db()
        assert linked.related_id == loser.pk
    register_relation("contacts", ForeignKeyMover("contacts.Activity", "contact", "Activities"))  # idempotent
    assert len([m for m in relations_for("contacts") if m.label == "Activities"]) == 1


def test_undo_is_refused_when_the_master_is_gone(acme, in_tenant):
    with in_tenant(acme):
        master = contact(acme.rep, "Lee", "Ann")
        loser = contact(acme.rep, "Lee", "Anne")
        merge = services.records_merge(actor=acme.rep, object_label="contacts", master=master.pk, losers=[loser.pk])
        contact_services.contact_delete(actor=acme.rep, contact=Contact.objects.for_tenant(acme.tenant).get(pk=master.pk))
        with pytest.raises(ValidationError) as exc:
            services.merge_undo(actor=acme.rep, merge=merge)
    assert "deleted since" in exc.value.messages[0]


def test_undo_is_refused_when_the_master_was_edited_since(acme, in_tenant):
    with in_tenant(acme):
        master = contact(acme.rep, "Lee", "Ann", phones=["+4930123456"])
        loser = contact(acme.rep, "Lee", "Anne", title="CEO")
        merge = services.records_merge(actor=acme.rep, object_label="contacts", master=master.pk, losers=[loser.pk])
        master.refresh_from_db()
        contact_services.contact_update(actor=acme.rep, contact=master, title="Chair")
        with pytest.raises(ValidationError) as exc:
            services.merge_undo(actor=acme.rep, merge=merge)
    assert "Title" in exc.value.messages[0]


def test_undo_is_for_the_merger_or_an_admin_and_for_seven_days(acme, in_tenant):
    with in_tenant(acme):
        master = contact(acme.manager, "Lee", "Ann")
        loser = contact(acme.manager, "Lee", "Anne")
        merge = services.records_merge(actor=acme.manager, object_label="contacts", master=master.pk,
                                       losers=[loser.pk])
        assert "Only the person who merged" in services.undo_refusal(actor=acme.rep, merge=merge)
        assert services.undo_refusal(actor=acme.admin, merge=merge) is None
        MergeRecord.objects.for_tenant(acme.tenant).filter(pk=merge.pk).update(
            created_at=timezone.now() - timedelta(days=8))
        merge.refresh_from_db()
        with pytest.raises(ValidationError):
            services.merge_undo(actor=acme.manager, merge=merge)


def test_a_rep_cannot_merge_a_colleagues_record(acme, in_tenant):
    with in_tenant(acme):
        mine = contact(acme.rep, "Lee", "Ann")
        theirs = contact(acme.rep2, "Lee", "Anne")
        with pytest.raises(Http404):
            services.records_merge(actor=acme.rep, object_label="contacts", master=mine.pk, losers=[theirs.pk])
        with pytest.raises(Http404):
            services.records_merge(actor=acme.rep, object_label="contacts", master=theirs.pk, losers=[mine.pk])
        assert Contact.objects.for_tenant(acme.tenant).filter(pk__in=[mine.pk, theirs.pk]).count() == 2


def test_a_record_that_may_be_read_but_not_deleted_is_a_403(acme, in_tenant, monkeypatch):
    from crm.access import policy

    with in_tenant(acme):
        master = contact(acme.rep, "Lee", "Ann")
        loser = contact(acme.rep, "Lee", "Anne")
        real = policy.can
        monkeypatch.setattr(policy, "can", lambda actor, action, obj=None: action != "delete" and real(actor, action, obj))
        with pytest.raises(PermissionDenied):
            services.records_merge(actor=acme.rep, object_label="contacts", master=master.pk, losers=[loser.pk])


def test_bad_merge_input_is_a_field_error(acme, in_tenant):
    with in_tenant(acme):
        one = contact(acme.rep, "Lee", "Ann")
        two = contact(acme.rep, "Lee", "Anne")
        cases = [
            ({"master": one.pk, "losers": []}, "losers"),
            ({"master": one.pk, "losers": [one.pk]}, "losers"),
            ({"master": one.pk, "losers": [two.pk], "fields": {"nope": str(two.pk)}}, "fields"),
            ({"master": one.pk, "losers": [two.pk], "fields": {"phone": "00000000-0000-0000-0000-000000000000"}}, "fields"),  # not a record of the merge
            ({"master": "x", "losers": [two.pk]}, "master"),
        ]
        for kwargs, field in cases:
            with pytest.raises(ValidationError) as exc:
                services.records_merge(actor=acme.rep, object_label="contacts", **kwargs)
            assert field in exc.value.message_dict, kwargs


def test_merging_marks_the_losers_open_pairs_merged_and_undo_reopens_them(acme, in_tenant):
    with in_tenant(acme):
        master = contact(acme.rep, "Lee", "Ann")
        loser = contact(acme.rep, "Lee", "Anne")
        a, b = sorted([master.pk, loser.pk], key=str)
        pair = DuplicateCandidate.objects.create(tenant=acme.tenant, object="contacts", record_a=a, record_b=b,
                                                 rule="similar_name", score=70, found_at=timezone.now())
        merge = services.records_merge(actor=acme.rep, object_label="contacts", master=master.pk, losers=[loser.pk])
        pair.refresh_from_db()
        assert pair.status == "merged"
        services.merge_undo(actor=acme.rep, merge=merge)
        pair.refresh_from_db()
        assert pair.status == "open"
