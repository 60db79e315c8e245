from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from contacts.models import Activity, Contact
from contacts.tests.factories import AccountFactory, ActivityFactory, ContactFactory, TaskFactory
from crm.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db

ROLES = ["admin", "manager", "rep", "rep2", "agent"]


@pytest.mark.parametrize("role", ROLES)
def test_every_page_renders_for_every_role(client_as, acme, role):
    member = getattr(acme, role)
    contact = ContactFactory(tenant=acme.tenant, owner=member)
    client = client_as(member)
    for url in ["/contacts/", "/contacts/new/", f"/contacts/{contact.pk}/", f"/contacts/{contact.pk}/edit/",
                "/activities/", "/activities/new/", "/activities/week/", "/"]:
        response = client.get(url)
        assert response.status_code == 200, url


def test_a_rep_gets_404_for_a_colleagues_contact_page(client_as, acme):
    theirs = ContactFactory(tenant=acme.tenant, owner=acme.rep2)
    client = client_as(acme.rep)
    assert client.get(f"/contacts/{theirs.pk}/").status_code == 404
    assert client.get(f"/contacts/{theirs.pk}/edit/").status_code == 404
    assert theirs.last_name not in client.get("/contacts/").content.decode()


def test_a_manager_sees_the_reps_contact(client_as, acme):
    contact = ContactFactory(tenant=acme.tenant, owner=acme.rep, last_name="Visible")
    client = client_as(acme.manager)
    assert client.get(f"/contacts/{contact.pk}/").status_code == 200
    assert "Visible" in client.get("/contacts/").content.decode()


def test_a_contact_is_created_from_the_page(client_as, acme):
    response = client_as(acme.rep).post("/contacts/new/", {
        "last_name": "Neu", "first_name": "Nina", "emails": "NINA@example.com\nnina@home.example",
        "phones": "+49 30 1234567", "mailing_country": "DE",
    })
    assert response.status_code == 302
    with tenant_context(acme.tenant):
        contact = Contact.objects.for_tenant(acme.tenant).get(last_name="Neu")
    assert (contact.email, contact.phone, contact.owner_id) == ("nina@example.com", "+49301234567", acme.rep.pk)


def test_the_contact_form_shows_a_bad_phone_next_to_the_field(client_as, acme):
    response = client_as(acme.rep).post("/contacts/new/", {"last_name": "Neu", "phones": "030 1234567"})
    assert response.status_code == 200
    assert "country code" in response.content.decode()


def test_the_contact_page_shows_consent_and_the_do_not_contact_banner(client_as, acme):
    contact = ContactFactory(tenant=acme.tenant, owner=acme.rep, do_not_contact=True)
    client = client_as(acme.rep)
    client.post(f"/contacts/{contact.pk}/consent/", {"channel": "email", "status": "granted", "source": "web form"})
    html = client.get(f"/contacts/{contact.pk}/").content.decode()
    assert "Do not contact" in html and "Granted" in html and "web form" in html and "Not asked" in html


def test_contact_list_pages_by_keyset(client_as, acme):
    for i in range(55):
        ContactFactory(tenant=acme.tenant, owner=acme.rep, last_name=f"Zed{i:03d}")
    client = client_as(acme.rep)
    first = client.get("/contacts/")
    assert first.context["next_url"]
    second = client.get("/contacts/" + first.context["next_url"])
    names = [c.last_name for c in first.context["contacts"]] + [c.last_name for c in second.context["contacts"]]
    assert names == [f"Zed{i:03d}" for i in range(55)]
    assert client.get("/contacts/?q=zed05").context["contacts"][0].last_name == "Zed050"


def test_my_day_shows_overdue_and_todays_tasks_and_meetings(client_as, acme):
    now = timezone.now()
    TaskFactory(tenant=acme.tenant, owner=acme.rep, subject="Overdue offer", due_at=now - timedelta(days=2))
    TaskFactory(tenant=acme.tenant, owner=acme.rep, subject="Later this week", due_at=now + timedelta(days=3))
    ActivityFactory(tenant=acme.tenant, owner=acme.rep, kind="meeting", subject="Demo at noon",
                    occurred_at=now.replace(hour=12, minute=0), ends_at=now.replace(hour=13, minute=0),
                    status="open")
    TaskFactory(tenant=acme.tenant, owner=acme.rep2, subject="Someone else's")
    html = client_as(acme.rep).get("/").content.decode()
    assert "Overdue offer" in html and "Demo at noon" in html
    assert "Later this week" not in html and "Someone else&#x27;s" not in html


def test_completing_a_task_is_one_click_and_idempotent(client_as, acme):
    task = TaskFactory(tenant=acme.tenant, owner=acme.rep)
    client = client_as(acme.rep)
    response = client.post(f"/activities/{task.pk}/complete/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Done" in response.content.decode()
    assert client.post(f"/activities/{task.pk}/complete/", HTTP_HX_REQUEST="true").status_code == 200
    assert client.post(f"/activities/{task.pk}/complete/").status_code == 302
    with tenant_context(acme.tenant):
        task.refresh_from_db()
    assert task.status == Activity.Status.DONE


def test_a_rep_cannot_complete_a_colleagues_task_from_the_page(client_as, acme):
    task = TaskFactory(tenant=acme.tenant, owner=acme.rep2)
    assert client_as(acme.rep).post(f"/activities/{task.pk}/complete/").status_code == 404


def test_the_week_shows_ones_meetings_and_tasks(client_as, acme):
    monday = timezone.localdate() - timedelta(days=timezone.localdate().weekday())
    due = timezone.make_aware(datetime.combine(monday + timedelta(days=2), time.min)) \
        + timedelta(hours=9)
    TaskFactory(tenant=acme.tenant, owner=acme.rep, subject="Wednesday task", due_at=due)
    html = client_as(acme.rep).get(f"/activities/week/?start={monday.isoformat()}").content.decode()
    assert "Wednesday task" in html
    assert client_as(acme.rep).get("/activities/week/?start=junk").status_code == 200


def test_a_manager_comment_shows_on_the_reps_home_page(client_as, acme):
    activity = ActivityFactory(tenant=acme.tenant, owner=acme.rep, subject="Call with Bob")
    manager = client_as(acme.manager)
    response = manager.post(f"/activities/{activity.pk}/comments/", {"body": "Push for a demo"},
                            HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Push for a demo" in response.content.decode()
    home = client_as(acme.rep).get("/").content.decode()
    assert "Push for a demo" in home
    client_as(acme.rep).post("/activities/comments/read/")
    assert "Push for a demo" not in client_as(acme.rep).get("/").content.decode()


def test_the_activity_list_filters_by_kind(client_as, acme):
    ActivityFactory(tenant=acme.tenant, owner=acme.rep, subject="A call")
    TaskFactory(tenant=acme.tenant, owner=acme.rep, subject="A task")
    html = client_as(acme.rep).get("/activities/?kind=task").content.decode()
    assert "A task" in html and "A call" not in html


def test_an_activity_is_logged_from_the_page(client_as, acme):
    account = AccountFactory(tenant=acme.tenant, owner=acme.rep)
    response = client_as(acme.rep).post("/activities/new/", {
        "kind": "task", "subject": "Follow up", "account": str(account.pk), "due_at": "2030-01-01T09:00",
        "priority": "high"})
    assert response.status_code == 302
    with tenant_context(acme.tenant):
        task = Activity.objects.for_tenant(acme.tenant).get()
    assert (task.kind, task.priority, task.account_id) == ("task", "high", account.pk)
