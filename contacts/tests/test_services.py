from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from contacts import services
from contacts.models import Activity, ActivityComment, Consent, ContactEmail
from contacts.tests.factories import AccountFactory, ContactFactory, TaskFactory

pytestmark = pytest.mark.django_db


def test_phones_are_stored_in_e164_read_in_the_mailing_country(acme, in_tenant):
    with in_tenant(acme):
        contact = services.contact_create(actor=acme.rep, last_name="Müller", mailing_country="DE",
                                          phones=["030 1234567", {"number": "+44 20 7946 0958", "label": "uk"}])
        assert sorted(contact.phones.values_list("number", flat=True)) == ["+442079460958", "+49301234567"]
        assert contact.phone == "+49301234567"


def test_a_national_phone_without_a_country_asks_for_the_country_code(acme, in_tenant):
    with in_tenant(acme), pytest.raises(ValidationError) as exc:
        services.contact_create(actor=acme.rep, last_name="Müller", phones=["030 1234567"])
    assert "country code" in exc.value.message_dict["phones"][0]


def test_an_impossible_phone_is_a_field_error(acme, in_tenant):
    with in_tenant(acme), pytest.raises(ValidationError) as exc:
        services.contact_create(actor=acme.rep, last_name="Müller", phones=["+49 1"])
    assert "phones" in exc.value.message_dict


def test_emails_are_lower_cased_and_the_first_is_primary(acme, in_tenant):
    with in_tenant(acme):
        contact = services.contact_create(actor=acme.rep, last_name="Lee", emails=["Ann.Lee@Example.COM", "ann@home.example"])
        emails = {e.email: e.is_primary for e in ContactEmail.objects.for_tenant(acme.tenant).filter(contact=contact)}
    assert emails == {"ann.lee@example.com": True, "ann@home.example": False}
    assert contact.email == "ann.lee@example.com"


def test_two_primary_emails_are_refused(acme, in_tenant):
    with in_tenant(acme), pytest.raises(ValidationError) as exc:
        services.contact_create(actor=acme.rep, last_name="Lee", emails=[
            {"email": "a@example.com", "is_primary": True}, {"email": "b@example.com", "is_primary": True}])
    assert "emails" in exc.value.message_dict


def test_a_bad_email_is_a_field_error(acme, in_tenant):
    with in_tenant(acme), pytest.raises(ValidationError) as exc:
        services.contact_create(actor=acme.rep, last_name="Lee", emails=["not-an-email"])
    assert "not-an-email" in exc.value.message_dict["emails"][0]


def test_updating_the_emails_moves_the_primary(acme, in_tenant):
    with in_tenant(acme):
        contact = services.contact_create(actor=acme.rep, last_name="Lee", emails=["a@example.com"])
        services.contact_update(actor=acme.rep, contact=contact,
                                emails=["a@example.com", {"email": "b@example.com", "is_primary": True}])
        contact.refresh_from_db()
    assert contact.email == "b@example.com"


def test_the_account_must_be_one_the_rep_can_see(acme, in_tenant):
    theirs = AccountFactory(tenant=acme.tenant, owner=acme.rep2)
    with in_tenant(acme), pytest.raises(ValidationError) as exc:
        services.contact_create(actor=acme.rep, last_name="Lee", account=theirs)
    assert "account" in exc.value.message_dict


def test_an_account_of_another_tenant_is_refused_like_a_missing_one(acme, globex, in_tenant):
    other = AccountFactory(tenant=globex.tenant, owner=globex.rep)
    with in_tenant(acme), pytest.raises(ValidationError) as exc:
        services.contact_create(actor=acme.admin, last_name="Lee", account=other.pk)
    assert exc.value.message_dict["account"] == ["Choose an account you can see."]


def test_reports_to_cannot_make_a_loop(acme, in_tenant):
    boss = ContactFactory(tenant=acme.tenant, owner=acme.rep)
    with in_tenant(acme):
        report = services.contact_create(actor=acme.rep, last_name="Report", reports_to=boss)
        with pytest.raises(ValidationError) as exc:
            services.contact_update(actor=acme.rep, contact=boss, reports_to=report)
    assert "reports_to" in exc.value.message_dict


def test_a_rep_cannot_edit_a_colleagues_contact(acme, in_tenant):
    theirs = ContactFactory(tenant=acme.tenant, owner=acme.rep2)
    with in_tenant(acme), pytest.raises(PermissionDenied):
        services.contact_update(actor=acme.rep, contact=theirs, title="CEO")


def test_consent_is_recorded_once_per_channel_with_when_source_and_proof(acme, in_tenant):
    contact = ContactFactory(tenant=acme.tenant, owner=acme.rep)
    with in_tenant(acme):
        services.consent_record(actor=acme.rep, contact=contact, channel="email", status="granted",
                                source="web form", proof="Ticked the newsletter box")
        services.consent_record(actor=acme.rep, contact=contact, channel="email", status="withdrawn",
                                source="phone call")
        consents = list(Consent.objects.for_tenant(acme.tenant).filter(contact=contact))
    assert len(consents) == 1
    assert (consents[0].status, consents[0].source) == ("withdrawn", "phone call")
    assert consents[0].recorded_at is not None


def test_granted_consent_needs_a_source(acme, in_tenant):
    contact = ContactFactory(tenant=acme.tenant, owner=acme.rep)
    with in_tenant(acme), pytest.raises(ValidationError) as exc:
        services.consent_record(actor=acme.rep, contact=contact, channel="sms", status="granted")
    assert "source" in exc.value.message_dict


def test_a_meeting_has_colleagues_and_contacts_attending(acme, in_tenant):
    account = AccountFactory(tenant=acme.tenant, owner=acme.rep)
    contact = ContactFactory(tenant=acme.tenant, owner=acme.rep, account=account)
    start = timezone.now() + timedelta(hours=2)
    with in_tenant(acme):
        meeting = services.activity_log(actor=acme.rep, kind="meeting", subject="Kick-off", account=account,
                                        occurred_at=start, ends_at=start + timedelta(hours=1),
                                        attendees=[acme.manager.pk], attendee_contacts=[contact.pk])
        attendees = {(a.membership_id, a.contact_id) for a in meeting.attendees.all()}
    assert attendees == {(acme.manager.pk, None), (None, contact.pk)}


def test_a_meeting_cannot_end_before_it_starts(acme, in_tenant):
    start = timezone.now()
    with in_tenant(acme), pytest.raises(ValidationError) as exc:
        services.activity_log(actor=acme.rep, kind="meeting", subject="x", occurred_at=start,
                              ends_at=start - timedelta(minutes=5))
    assert "ends_at" in exc.value.message_dict


def test_a_call_logged_for_a_contact_shows_on_their_account(acme, in_tenant):
    account = AccountFactory(tenant=acme.tenant, owner=acme.rep)
    contact = ContactFactory(tenant=acme.tenant, owner=acme.rep, account=account)
    with in_tenant(acme):
        call = services.activity_log(actor=acme.rep, kind="call", subject="Intro", contact=contact,
                                     direction="outbound", duration_minutes=12, outcome="Interested")
    assert call.account_id == account.pk and call.status == "done"


def test_completing_a_task_twice_changes_nothing_the_second_time(acme, in_tenant):
    task = TaskFactory(tenant=acme.tenant, owner=acme.rep)
    with in_tenant(acme):
        first = services.task_complete(actor=acme.rep, task=task)
        completed_at = first.completed_at
        again = services.task_complete(actor=acme.rep, task=first)
    assert again.status == Activity.Status.DONE and again.completed_at == completed_at


def test_a_rep_cannot_complete_a_colleagues_task(acme, in_tenant):
    task = TaskFactory(tenant=acme.tenant, owner=acme.rep2)
    with in_tenant(acme), pytest.raises(PermissionDenied):
        services.task_complete(actor=acme.rep, task=task)


def test_a_manager_assigns_a_task_to_their_rep_but_a_rep_cannot_assign_to_a_colleague(acme, in_tenant):
    with in_tenant(acme):
        task = services.task_create(actor=acme.manager, subject="Call back", owner=acme.rep.pk)
        assert task.owner_id == acme.rep.pk
        with pytest.raises(ValidationError):
            services.task_create(actor=acme.rep, subject="Call back", owner=acme.rep2.pk)


def test_a_manager_comments_on_a_reps_activity_and_the_rep_cannot(acme, in_tenant):
    task = TaskFactory(tenant=acme.tenant, owner=acme.rep)
    with in_tenant(acme):
        comment = services.activity_comment_add(actor=acme.manager, activity=task, body="Ask about budget")
        assert ActivityComment.objects.for_tenant(acme.tenant).get().pk == comment.pk
        with pytest.raises(PermissionDenied):
            services.activity_comment_add(actor=acme.rep2, activity=task, body="Me too")
