"""Other accounts on the contact's form and pages, meeting attendees on the activity form and the
timeline, the contact delete page, the compact "created" history entry and the shortcuts help."""

from datetime import timedelta

import pytest
from django.template.loader import render_to_string
from django.utils import timezone

from contacts import selectors, services
from contacts.models import AccountRelation, Activity, Attendee, Contact
from contacts.tests.factories import AccountFactory, ContactFactory
from crm.audit.history import history_source
from crm.tenancy import rls
from crm.tenancy.context import tenant_context
from crm.tenancy.testing import assert_uses_index

pytestmark = pytest.mark.django_db


def _form(contact_name="Berg", **extra):
    return {"last_name": contact_name, "first_name": "Ola", "emails": "", "phones": "", **extra}


# --- account relations --------------------------------------------------------------------------

def test_a_relation_to_another_account_is_set_on_the_contact_form_and_shown_on_both_pages(client_as, acme):
    home = AccountFactory(tenant=acme.tenant, owner=acme.rep, name="Berg Shipping")
    board = AccountFactory(tenant=acme.tenant, owner=acme.rep, name="Harbour Trust")
    client = client_as(acme.rep)
    assert "Other accounts" in client.get("/contacts/new/").content.decode()
    response = client.post("/contacts/new/", _form(account=str(home.pk), relation_account_0=str(board.pk),
                                                   relation_role_0="board member"))
    assert response.status_code == 302
    contact_page = client.get(response["Location"]).content.decode()
    assert "Harbour Trust" in contact_page and "board member" in contact_page
    panel = client.get(f"/accounts/{board.pk}/").content.decode()
    assert "People with a role here" in panel and "Ola Berg" in panel and "board member" in panel


def test_a_relation_row_without_a_role_is_an_error_next_to_it(client_as, acme):
    board = AccountFactory(tenant=acme.tenant, owner=acme.rep, name="Harbour Trust")
    response = client_as(acme.rep).post("/contacts/new/", _form(relation_account_0=str(board.pk)))
    assert response.status_code == 200
    assert "Say what role they have there." in response.content.decode()


def test_editing_keeps_and_removes_relations(client_as, acme):
    board = AccountFactory(tenant=acme.tenant, owner=acme.rep, name="Harbour Trust")
    with tenant_context(acme.tenant):
        contact = services.contact_create(actor=acme.rep, last_name="Berg",
                                          relations=[{"account": board.pk, "role": "advisor"}])
    client = client_as(acme.rep)
    form = client.get(f"/contacts/{contact.pk}/edit/").content.decode()
    assert 'value="advisor"' in form
    client.post(f"/contacts/{contact.pk}/edit/", _form(relation_account_0="", relation_role_0=""))
    with tenant_context(acme.tenant):
        assert not AccountRelation.objects.for_tenant(acme.tenant).filter(contact=contact).exists()


def test_the_360_panel_lists_only_contacts_the_reader_may_see(client_as, acme):
    board = AccountFactory(tenant=acme.tenant, owner=acme.rep, name="Harbour Trust")
    with tenant_context(acme.tenant):
        services.contact_create(actor=acme.admin, owner=acme.rep2, last_name="Hidden", relations=[{"account": board.pk, "role": "chair"}])
    page = client_as(acme.rep).get(f"/accounts/{board.pk}/").content.decode()
    assert "Hidden" not in page and "Nobody else has a role here" in page


def test_the_relations_of_an_account_are_read_on_an_index(acme):
    board = AccountFactory(tenant=acme.tenant, owner=acme.rep)
    with tenant_context(acme.tenant):
        from contacts.models import AccountRelation as Model

        qs = Model.objects.for_tenant(acme.tenant).filter(account_id=board.pk).order_by("role", "id")
        field = Model._meta.get_field("account")
        assert_uses_index(qs, rls.tenant_fk_index_name(Model, field), tenant=acme.tenant)
        assert selectors.account_relations(actor=acme.rep, account=board) == []


# --- meeting attendees --------------------------------------------------------------------------

def test_a_meeting_is_logged_with_colleagues_and_contacts_attending(client_as, acme):
    account = AccountFactory(tenant=acme.tenant, owner=acme.rep, name="Berg Shipping")
    ola = ContactFactory(tenant=acme.tenant, owner=acme.rep, first_name="Ola", last_name="Berg", account=account)
    client = client_as(acme.rep)
    start = timezone.localtime() + timedelta(days=1)
    response = client.post("/activities/new/", {
        "kind": "meeting", "subject": "Fleet review", "account": str(account.pk),
        "occurred_at": start.strftime("%Y-%m-%dT%H:%M"), "ends_at": (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "attendees": [str(acme.rep2.pk)], "attendee_contacts": [str(ola.pk)], "priority": "normal",
    })
    assert response.status_code == 302
    with tenant_context(acme.tenant):
        meeting = Activity.objects.for_tenant(acme.tenant).get(subject="Fleet review")
        who = {(a.membership_id, a.contact_id) for a in Attendee.objects.for_tenant(acme.tenant).filter(activity=meeting)}
    assert who == {(acme.rep2.pk, None), (None, ola.pk)}
    timeline = client.get(f"/activities/account/{account.pk}/").content.decode()
    assert "With" in timeline and "Acme Rep Two" in timeline and "Ola Berg" in timeline


def test_the_attendees_of_a_meeting_are_changed_on_its_edit_page(client_as, acme):
    account = AccountFactory(tenant=acme.tenant, owner=acme.rep)
    ola = ContactFactory(tenant=acme.tenant, owner=acme.rep, first_name="Ola", last_name="Berg")
    kim = ContactFactory(tenant=acme.tenant, owner=acme.rep, first_name="Kim", last_name="Lund")
    now = timezone.now()
    with tenant_context(acme.tenant):
        meeting = services.activity_log(actor=acme.rep, kind="meeting", subject="Fleet review", account=account,
                                        occurred_at=now, ends_at=now + timedelta(hours=1),
                                        attendees=[acme.rep2.pk], attendee_contacts=[ola.pk])
    client = client_as(acme.rep)
    page = client.get(f"/activities/{meeting.pk}/edit/").content.decode()
    assert "Contacts attending" in page and "Edit Meeting" in page
    response = client.post(f"/activities/{meeting.pk}/edit/", {
        "subject": "Fleet review (moved)", "occurred_at": timezone.localtime(now).strftime("%Y-%m-%dT%H:%M"),
        "ends_at": timezone.localtime(now + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "attendee_contacts": [str(kim.pk)], "priority": "normal",
    })
    assert response.status_code == 302
    with tenant_context(acme.tenant):
        meeting.refresh_from_db()
        who = {(a.membership_id, a.contact_id) for a in Attendee.objects.for_tenant(acme.tenant).filter(activity=meeting)}
    assert meeting.subject == "Fleet review (moved)" and who == {(None, kim.pk)}


def test_attendees_keep_contacts_the_editor_cannot_see(acme):
    theirs = ContactFactory(tenant=acme.tenant, owner=acme.rep2)
    now = timezone.now()
    with tenant_context(acme.tenant):
        meeting = services.activity_log(actor=acme.manager, kind="meeting", subject="Joint", occurred_at=now,
                                        ends_at=now + timedelta(hours=1), attendee_contacts=[theirs.pk])
        meeting.owner = acme.rep
        meeting.save()
        services.meeting_attendees_set(actor=acme.rep, activity=meeting, attendees=[acme.rep.pk])
        who = {(a.membership_id, a.contact_id) for a in Attendee.objects.for_tenant(acme.tenant).filter(activity=meeting)}
    assert who == {(acme.rep.pk, None), (None, theirs.pk)}


def test_a_rep_cannot_edit_a_colleagues_activity_nor_another_companys(client_as, acme, globex):
    with tenant_context(acme.tenant):
        theirs = services.activity_log(actor=acme.rep2, kind="note", subject="Private", account=AccountFactory(
            tenant=acme.tenant, owner=acme.rep2))
    assert client_as(acme.rep).get(f"/activities/{theirs.pk}/edit/").status_code == 404
    assert client_as(globex.admin).get(f"/activities/{theirs.pk}/edit/").status_code == 404


# --- delete -------------------------------------------------------------------------------------

def test_the_delete_page_says_what_goes_with_the_contact_and_deletes_it(client_as, acme):
    account = AccountFactory(tenant=acme.tenant, owner=acme.rep)
    with tenant_context(acme.tenant):
        contact = services.contact_create(actor=acme.rep, last_name="Gone", emails=["a@x.example", "b@x.example"],
                                          account=account.pk)
        services.activity_log(actor=acme.rep, kind="call", subject="Hello", contact=contact)
    client = client_as(acme.rep)
    page = client.get(f"/contacts/{contact.pk}/delete/").content.decode()
    assert "Delete this contact?" in page and "2 emails" in page and "1 activity about them: kept" in page
    response = client.post(f"/contacts/{contact.pk}/delete/")
    assert response.status_code == 302 and response["Location"] == "/contacts/"
    with tenant_context(acme.tenant):
        assert not Contact.objects.for_tenant(acme.tenant).filter(pk=contact.pk).exists()
        assert Activity.objects.for_tenant(acme.tenant).get(subject="Hello").contact_id is None


def test_the_delete_page_counts_only_the_activities_the_deleter_can_see(client_as, acme):
    """With private activities, a colleague's note about the rep's contact is not the rep's to see:
    the page does not count it (a count would tell it exists)."""
    from crm.access import services as access_services
    from crm.access.models import Default

    with tenant_context(acme.tenant):
        access_services.org_default_set(actor=acme.admin, object="activities", access=Default.PRIVATE)
        contact = services.contact_create(actor=acme.rep, last_name="Gone")
        services.activity_log(actor=acme.rep, kind="call", subject="Mine", contact=contact)
        Activity.objects.create(tenant=acme.tenant, owner=acme.rep2, kind="note", subject="Theirs", contact=contact,
                                occurred_at=contact.created_at)
    page = client_as(acme.rep).get(f"/contacts/{contact.pk}/delete/").content.decode()
    assert "1 activity about them: kept" in page
    assert "2 activities" in client_as(acme.admin).get(f"/contacts/{contact.pk}/delete/").content.decode()


def test_a_rep_gets_404_on_the_delete_page_of_a_colleagues_contact_and_another_companys(client_as, acme, globex):
    theirs = ContactFactory(tenant=acme.tenant, owner=acme.rep2)
    assert client_as(acme.rep).get(f"/contacts/{theirs.pk}/delete/").status_code == 404
    assert client_as(acme.rep).post(f"/contacts/{theirs.pk}/delete/").status_code == 404
    assert client_as(globex.admin).post(f"/contacts/{theirs.pk}/delete/").status_code == 404
    with tenant_context(acme.tenant):
        assert Contact.objects.for_tenant(acme.tenant).filter(pk=theirs.pk).exists()


def test_the_contact_page_links_to_delete_for_whoever_may(client_as, acme):
    contact = ContactFactory(tenant=acme.tenant, owner=acme.rep)
    assert f"/contacts/{contact.pk}/delete/" in client_as(acme.rep).get(f"/contacts/{contact.pk}/").content.decode()


# --- history and shortcuts ----------------------------------------------------------------------

def test_the_created_entry_is_one_line(client_as, acme):
    with tenant_context(acme.tenant), history_source("page", actor=acme.rep):
        contact = services.contact_create(actor=acme.rep, last_name="Compact", first_name="Cleo")
    page = client_as(acme.rep).get(f"/contacts/{contact.pk}/").content.decode()
    assert "created this contact" in page
    assert "Custom:" not in page and "Do not contact: No" not in page


def test_the_created_entry_keeps_only_the_values_that_were_given(acme):
    from crm.audit.history import history_for

    with tenant_context(acme.tenant), history_source("page", actor=acme.rep):
        contact = services.contact_create(actor=acme.rep, last_name="Compact", first_name="Cleo")
        [created] = history_for(contact, actor=acme.rep)
    assert {c.field for c in created.changes} == {"first_name", "last_name", "owner", "created_by", "modified_by"}


def test_the_shortcuts_help_lists_the_list_keys():
    html = render_to_string("components/shortcuts.html")
    for key in ("<kbd>J</kbd>", "<kbd>K</kbd>", "<kbd>Enter</kbd>", "<kbd>X</kbd>"):
        assert key in html
