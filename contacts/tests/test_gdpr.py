"""GDPR: the export holds everything about a person; erasure anonymises them in place, keeps the
statistics, blanks the history and logs who did it and why."""

import json
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from contacts import gdpr, services
from contacts.models import Activity, ActivityComment, Consent, Contact, ContactEmail, ContactPhone
from contacts.tests.factories import AccountFactory, ContactFactory
from crm.audit.history import history_source
from crm.audit.models import SecurityEvent
from crm.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db


def _person(acme, owner=None):
    """Hanna Schmidt with two emails, a phone, a relation, consent with proof, a call only about her
    with a manager's comment, and a meeting she attends with another contact."""
    owner = owner or acme.rep
    with tenant_context(acme.tenant), history_source("page", actor=owner):
        home = AccountFactory(tenant=acme.tenant, owner=owner, name="Schmidt Bakery")
        board = AccountFactory(tenant=acme.tenant, owner=owner, name="Bakers Guild")
        contact = services.contact_create(
            actor=owner, first_name="Hanna", last_name="Schmidt", title="Baker", account=home.pk,
            emails=["hanna@schmidt.example", "hanna.private@mail.example"], phones=["+49 30 1234567"],
            mailing_city="Berlin", birthday=timezone.localdate() - timedelta(days=12000), language="de",
            relations=[{"account": board.pk, "role": "board member"}],
        )
        services.consent_record(actor=owner, contact=contact, channel="email", status="granted",
                                source="web form", proof="Ticked the newsletter box on 3 May, IP 192.0.2.1")
        call = services.activity_log(actor=owner, kind="call", subject="Hanna wants rye bread", contact=contact,
                                     body="Hanna said her husband Paul is allergic", outcome="Hanna will order")
        other = ContactFactory(tenant=acme.tenant, owner=owner, last_name="Other")
        now = timezone.now()
        meeting = services.activity_log(actor=owner, kind="meeting", subject="Guild meeting", account=board,
                                        occurred_at=now, ends_at=now + timedelta(hours=1),
                                        attendee_contacts=[contact.pk, other.pk])
    with tenant_context(acme.tenant):  # a custom value that names her (custom fields are free-form)
        Activity.objects.for_tenant(acme.tenant).filter(pk=call.pk).update(custom={"note": "Hanna likes rye"})
    with tenant_context(acme.tenant), history_source("page", actor=acme.manager):
        services.activity_comment_add(actor=acme.manager, activity=call, body="Ask Hanna about Paul's order")
    return contact, call, meeting


def _export(client, contact):
    response = client.get(f"/contacts/{contact.pk}/gdpr-export/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    return json.loads(b"".join(response.streaming_content) if response.streaming else response.content)


# --- export --------------------------------------------------------------------------------------

def test_the_export_holds_everything_about_the_person_in_sections(client_as, acme):
    contact, call, meeting = _person(acme)
    data = _export(client_as(acme.admin), contact)
    assert list(data) == ["export", "contact", "emails", "phones", "account_relations", "consents",
                          "activities", "history"]
    assert data["contact"]["first_name"] == "Hanna" and data["contact"]["title"] == "Baker"
    assert {e["email"] for e in data["emails"]} == {"hanna@schmidt.example", "hanna.private@mail.example"}
    assert data["phones"][0]["number"] == "+49301234567"
    assert data["account_relations"] == [{"account": {"id": str(data["account_relations"][0]["account"]["id"]),
                                                      "name": "Bakers Guild"}, "role": "board member"}]
    assert data["consents"][0]["proof"].startswith("Ticked the newsletter box")
    by_subject = {a["subject"]: a for a in data["activities"]}
    assert by_subject["Hanna wants rye bread"]["comments"][0]["text"] == "Ask Hanna about Paul's order"
    assert by_subject["Guild meeting"]["their_part"] == "attendee"
    assert any(e["action"] == "created" for e in data["history"])


def test_every_export_is_in_the_security_log(client_as, acme):
    contact, _, _ = _person(acme)
    _export(client_as(acme.manager), contact)
    with tenant_context(acme.tenant):
        event = SecurityEvent.objects.filter(tenant=acme.tenant, kind="contact.exported").get()
    assert event.user_id == acme.manager.user_id and event.detail["contact"] == str(contact.pk)


def test_a_rep_cannot_export_even_their_own_contact(client_as, acme):
    contact, _, _ = _person(acme)
    # the rep sees the contact: refusing the action is a 403 that says why, not a 404
    response = client_as(acme.rep).get(f"/contacts/{contact.pk}/gdpr-export/")
    assert response.status_code == 403 and "Exporting a person" in response.content.decode()


def test_the_api_exports_and_another_company_gets_404(api, acme, globex):
    contact, _, _ = _person(acme)
    response = api.as_(acme.admin).get(f"/api/v1/contacts/{contact.pk}/gdpr-export/")
    assert response.status_code == 200 and response.json()["contact"]["last_name"] == "Schmidt"
    assert api.as_(globex.admin).get(f"/api/v1/contacts/{contact.pk}/gdpr-export/").status_code == 404
    assert api.as_(acme.rep).get(f"/api/v1/contacts/{contact.pk}/gdpr-export/").status_code == 403


# --- erasure -------------------------------------------------------------------------------------

def test_the_erase_page_asks_why_and_changes_nothing_without_a_reason(client_as, acme):
    contact, _, _ = _person(acme)
    client = client_as(acme.admin)
    page = client.get(f"/contacts/{contact.pk}/erase/").content.decode()
    assert "Why is this person erased?" in page and "cannot be undone" in page
    response = client.post(f"/contacts/{contact.pk}/erase/", {"reason": " ", "confirm": "on"})
    assert response.status_code == 200 and "This field is required" in response.content.decode()
    with tenant_context(acme.tenant):
        assert Contact.objects.for_tenant(acme.tenant).get(pk=contact.pk).erased_at is None


def test_erasing_anonymises_the_person_and_keeps_the_statistics(client_as, acme):
    contact, call, meeting = _person(acme)
    response = client_as(acme.admin).post(f"/contacts/{contact.pk}/erase/",
                                          {"reason": "Request by email, ticket 4711", "confirm": "on"})
    assert response.status_code == 302
    with tenant_context(acme.tenant):
        erased = Contact.objects.for_tenant(acme.tenant).get(pk=contact.pk)
        assert erased.full_name == "Erased contact" and erased.erased_at is not None and erased.do_not_contact
        assert (erased.email, erased.phone, erased.title, erased.mailing_city, erased.birthday, erased.language) == \
            ("", "", "", "", None, "")
        assert not ContactEmail.objects.for_tenant(acme.tenant).filter(contact=contact).exists()
        assert not ContactPhone.objects.for_tenant(acme.tenant).filter(contact=contact).exists()
        consents = Consent.objects.for_tenant(acme.tenant).filter(contact=contact)
        assert {c.status for c in consents} == {"withdrawn"} and len(consents) == 3
        assert {c.proof for c in consents} == {""}
        call = Activity.objects.for_tenant(acme.tenant).get(pk=call.pk)
        assert (call.subject, call.body, call.outcome, call.kind, call.contact_id) == ("Call", "", "", "call", contact.pk)
        assert call.custom == {}
        assert ActivityComment.objects.for_tenant(acme.tenant).get(activity=call).body == ""
        # the meeting with someone else stays as it was: it is not only about her
        assert Activity.objects.for_tenant(acme.tenant).get(pk=meeting.pk).subject == "Guild meeting"


def test_after_erasure_no_history_row_holds_the_old_personal_values(client_as, acme):
    contact, call, _ = _person(acme)
    client_as(acme.admin).post(f"/contacts/{contact.pk}/erase/", {"reason": "Their request", "confirm": "on"})
    with tenant_context(acme.tenant), connection.cursor() as cursor:
        dump = []
        for table, where in [("contacts_contactevent", "pgh_obj_id"), ("contacts_contactemailevent", "contact_id"),
                             ("contacts_contactphoneevent", "contact_id"), ("contacts_consentevent", "contact_id"),
                             ("contacts_activityevent", "pgh_obj_id")]:
            cursor.execute(f"SELECT e::text FROM {table} e WHERE tenant_id = %s AND {where} IN (%s, %s)",
                           [acme.tenant.pk, contact.pk, call.pk])
            rows = [r for (r,) in cursor.fetchall()]
            assert rows, table
            dump += rows
        cursor.execute("SELECT e::text FROM contacts_activitycommentevent e WHERE tenant_id = %s AND activity_id = %s",
                       [acme.tenant.pk, call.pk])
        dump += [r for (r,) in cursor.fetchall()]
    text = "\n".join(dump)
    for secret in ("Hanna", "Schmidt", "hanna@", "1234567", "Berlin", "Baker", "192.0.2.1", "Paul"):
        assert secret not in text, secret


def test_erasure_is_in_the_security_log_with_who_and_why(client_as, acme):
    contact, _, _ = _person(acme)
    client_as(acme.admin).post(f"/contacts/{contact.pk}/erase/", {"reason": "Ticket 4711", "confirm": "on"})
    with tenant_context(acme.tenant):
        event = SecurityEvent.objects.filter(tenant=acme.tenant, kind="contact.erased").get()
    assert event.user_id == acme.admin.user_id
    assert event.detail["reason"] == "Ticket 4711" and event.detail["contact"] == str(contact.pk)
    assert event.get_kind_display() == "Contact erased (GDPR)"


def test_an_erased_contact_shows_as_such_and_cannot_be_edited_back(client_as, api, acme):
    contact, _, _ = _person(acme)
    client = client_as(acme.admin)
    client.post(f"/contacts/{contact.pk}/erase/", {"reason": "Their request", "confirm": "on"})
    page = client.get(f"/contacts/{contact.pk}/").content.decode()
    assert "Erased contact" in page and "This person's data was erased" in page
    assert f"/contacts/{contact.pk}/edit/" not in page
    assert client.get(f"/contacts/{contact.pk}/edit/").status_code == 302
    response = api.as_(acme.admin).patch(f"/api/v1/contacts/{contact.pk}/", {"first_name": "Hanna"}, format="json")
    assert response.status_code == 400
    with tenant_context(acme.tenant):
        assert Contact.objects.for_tenant(acme.tenant).get(pk=contact.pk).first_name == ""


def test_an_erased_contact_is_not_found_by_search(client_as, acme):
    contact, _, _ = _person(acme)
    client = client_as(acme.admin)
    assert "Hanna" in client.get("/search/?q=hanna@schmidt.example").content.decode()
    client.post(f"/contacts/{contact.pk}/erase/", {"reason": "Their request", "confirm": "on"})
    assert str(contact.pk) not in client.get("/search/?q=Erased").content.decode()


@pytest.mark.parametrize("role", ["manager", "rep"])
def test_only_admins_erase(client_as, api, acme, role):
    contact, _, _ = _person(acme)
    member = getattr(acme, role)
    response = client_as(member).get(f"/contacts/{contact.pk}/erase/")
    assert response.status_code == 403 and "administers the company" in response.content.decode()
    assert client_as(member).post(f"/contacts/{contact.pk}/erase/", {"reason": "x", "confirm": "on"}).status_code == 403
    assert api.as_(member).post(f"/api/v1/contacts/{contact.pk}/erase/", {"reason": "x"}, format="json").status_code == 403
    with tenant_context(acme.tenant):
        assert Contact.objects.for_tenant(acme.tenant).get(pk=contact.pk).erased_at is None


def test_the_api_erases_with_a_reason_and_another_company_gets_404(api, acme, globex):
    contact, _, _ = _person(acme)
    assert api.as_(globex.admin).post(f"/api/v1/contacts/{contact.pk}/erase/", {"reason": "x"},
                                      format="json").status_code == 404
    assert api.as_(acme.admin).post(f"/api/v1/contacts/{contact.pk}/erase/", {}, format="json").status_code == 400
    response = api.as_(acme.admin).post(f"/api/v1/contacts/{contact.pk}/erase/", {"reason": "Request"}, format="json")
    assert response.status_code == 200
    assert response.json()["full_name"] == "Erased contact" and response.json()["emails"] == []


def test_the_history_function_refuses_a_contact_that_is_not_erased(acme):
    contact, _, _ = _person(acme)
    with tenant_context(acme.tenant), connection.cursor() as cursor:
        with pytest.raises(Exception, match="not an erased contact"), transaction.atomic():
            cursor.execute("SELECT contacts_erase_history(%s, '{}'::uuid[])", [contact.pk])


def test_history_stays_append_only_for_the_application(acme):
    contact, _, _ = _person(acme)
    with tenant_context(acme.tenant), connection.cursor() as cursor:
        with pytest.raises(Exception, match="permission denied"), transaction.atomic():
            cursor.execute("UPDATE contacts_contactevent SET first_name = 'X' WHERE tenant_id = %s", [acme.tenant.pk])
        # switching the append-only trigger off does not help: the app role holds no UPDATE/DELETE
        with pytest.raises(Exception, match="permission denied"), transaction.atomic():
            cursor.execute("SELECT set_config('pgtrigger.ignore', "
                           "'{contacts_contactevent:pgtrigger_append_only_00000}', true)")
            cursor.execute("DELETE FROM contacts_contactevent WHERE tenant_id = %s", [acme.tenant.pk])


def test_the_history_function_leaves_history_append_only_afterwards(acme):
    contact, _, _ = _person(acme)
    with tenant_context(acme.tenant):
        gdpr.contact_erase(actor=acme.admin, contact=contact, reason="Their request")
        with connection.cursor() as cursor:
            # the function lifted the append-only triggers only while it ran: nothing is ignored now
            cursor.execute("SELECT current_setting('pgtrigger.ignore', true)")
            assert cursor.fetchone()[0] in ("{}", "")


def test_the_security_log_page_shows_who_erased_whom_and_why(client_as, acme):
    contact, _, _ = _person(acme)
    client = client_as(acme.admin)
    client.post(f"/contacts/{contact.pk}/erase/", {"reason": "Ticket 4711", "confirm": "on"})
    page = client.get(_security_log_url()).content.decode()
    assert "Contact erased (GDPR)" in page and "Ticket 4711" in page and str(contact.pk) in page


def _security_log_url():
    from django.urls import reverse

    return reverse("security_log")


def test_nothing_new_is_recorded_about_an_erased_person(acme, client_as):
    from django.core.exceptions import ValidationError

    contact, _, _ = _person(acme)
    with tenant_context(acme.tenant):
        gdpr.contact_erase(actor=acme.admin, contact=contact, reason="Their request")
        with pytest.raises(ValidationError) as raised:
            services.activity_log(actor=acme.admin, kind="note", subject="Still here?", contact=contact)
        assert "contact" in raised.value.message_dict
    page = client_as(acme.admin).get(f"/contacts/{contact.pk}/").content.decode()
    assert "Erased" in page and "Log a call" not in page
