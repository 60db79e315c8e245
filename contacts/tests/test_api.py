import pytest

from contacts.models import Activity
from contacts.tests.factories import AccountFactory, ActivityFactory, ContactFactory, TaskFactory

pytestmark = pytest.mark.django_db


def test_a_rep_creates_a_contact_with_emails_and_phones(api, acme):
    account = AccountFactory(tenant=acme.tenant, owner=acme.rep)
    response = api.as_(acme.rep).post("/api/v1/contacts/", {
        "first_name": "Anna", "last_name": "Müller", "account": str(account.pk), "mailing_country": "DE",
        "emails": [{"email": "Anna@Example.com"}], "phones": [{"number": "030 1234567", "label": "work"}],
    }, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["email"], body["phone"], body["owner"]) == ("anna@example.com", "+49301234567", str(acme.rep.pk))


def test_a_bad_phone_is_a_400_with_the_field(api, acme):
    response = api.as_(acme.rep).post("/api/v1/contacts/", {"last_name": "X", "phones": [{"number": "12"}]},
                                      format="json")
    assert response.status_code == 400
    assert "phones" in response.json()["error"]["fields"]


def test_a_bad_email_is_a_400_with_the_field(api, acme):
    response = api.as_(acme.rep).post("/api/v1/contacts/", {"last_name": "X", "emails": [{"email": "nope"}]},
                                      format="json")
    assert response.status_code == 400
    assert "emails" in response.json()["error"]["fields"]


def test_junk_references_are_a_400_not_a_500(api, acme):
    client = api.as_(acme.rep)
    assert client.post("/api/v1/contacts/", {"last_name": "X", "account": "nope"}, format="json").status_code == 400
    assert client.post("/api/v1/contacts/", {"last_name": "X", "emails": "nope"}, format="json").status_code == 400
    assert client.get("/api/v1/contacts/?account=nope").status_code == 400
    assert client.post("/api/v1/activities/", {"kind": "call"}, format="json").status_code == 400


def test_a_rep_cannot_see_a_colleagues_contact(api, acme):
    theirs = ContactFactory(tenant=acme.tenant, owner=acme.rep2)
    client = api.as_(acme.rep)
    assert client.get(f"/api/v1/contacts/{theirs.pk}/").status_code == 404
    assert client.patch(f"/api/v1/contacts/{theirs.pk}/", {"title": "x"}, format="json").status_code == 404
    assert client.get("/api/v1/contacts/").json()["results"] == []


def test_a_manager_sees_the_teams_contacts(api, acme):
    ContactFactory(tenant=acme.tenant, owner=acme.rep, last_name="Alpha")
    ContactFactory(tenant=acme.tenant, owner=acme.rep2, last_name="Beta")
    ContactFactory(tenant=acme.tenant, owner=acme.admin, last_name="Gamma")
    names = [c["last_name"] for c in api.as_(acme.manager).get("/api/v1/contacts/").json()["results"]]
    assert names == ["Alpha", "Beta"]


def test_contacts_are_searched_by_name_prefix_or_exact_email(api, acme):
    ContactFactory(tenant=acme.tenant, owner=acme.rep, last_name="Straße", first_name="Jo", email="jo@x.example")
    ContactFactory(tenant=acme.tenant, owner=acme.rep, last_name="Meyer", email="m@x.example")
    client = api.as_(acme.rep)
    assert [c["last_name"] for c in client.get("/api/v1/contacts/?search=STRAS").json()["results"]] == ["Straße"]
    assert [c["last_name"] for c in client.get("/api/v1/contacts/?search=m@x.example").json()["results"]] == ["Meyer"]


def test_a_contact_is_updated_and_deleted_with_its_history(api, acme):
    contact = ContactFactory(tenant=acme.tenant, owner=acme.rep)
    client = api.as_(acme.rep)
    response = client.patch(f"/api/v1/contacts/{contact.pk}/", {"title": "CFO"}, format="json")
    assert response.status_code == 200 and response.json()["title"] == "CFO"
    assert client.get(f"/api/v1/contacts/{contact.pk}/history/").status_code == 200
    assert client.delete(f"/api/v1/contacts/{contact.pk}/").status_code == 204
    assert client.get(f"/api/v1/contacts/{contact.pk}/").status_code == 404


def test_consent_is_recorded_through_the_api(api, acme):
    contact = ContactFactory(tenant=acme.tenant, owner=acme.rep)
    client = api.as_(acme.rep)
    response = client.post(f"/api/v1/contacts/{contact.pk}/consent/",
                           {"channel": "email", "status": "granted", "source": "web form"}, format="json")
    assert response.status_code == 201
    assert client.get(f"/api/v1/contacts/{contact.pk}/").json()["consents"][0]["status"] == "granted"
    bad = client.post(f"/api/v1/contacts/{contact.pk}/consent/", {"channel": "fax", "status": "granted"}, format="json")
    assert bad.status_code == 400


def test_activities_are_logged_filtered_and_tasks_completed(api, acme):
    account = AccountFactory(tenant=acme.tenant, owner=acme.rep)
    client = api.as_(acme.rep)
    call = client.post("/api/v1/activities/", {"kind": "call", "subject": "Intro", "account": str(account.pk),
                                               "direction": "outbound", "duration_minutes": 5}, format="json")
    assert call.status_code == 201, call.json()
    task = client.post("/api/v1/activities/", {"kind": "task", "subject": "Send offer", "account": str(account.pk),
                                               "due_at": "2030-01-01T10:00:00Z"}, format="json")
    assert task.status_code == 201, task.json()
    tasks = client.get(f"/api/v1/activities/?kind=task&status=open&account={account.pk}").json()["results"]
    assert [t["subject"] for t in tasks] == ["Send offer"]
    done = client.post(f"/api/v1/activities/{task.json()['id']}/complete/")
    assert done.status_code == 200 and done.json()["status"] == "done"
    assert client.post(f"/api/v1/activities/{task.json()['id']}/complete/").status_code == 200


def test_an_activity_cannot_move_to_another_account(api, acme):
    activity = ActivityFactory(tenant=acme.tenant, owner=acme.rep)
    other = AccountFactory(tenant=acme.tenant, owner=acme.rep)
    response = api.as_(acme.rep).patch(f"/api/v1/activities/{activity.pk}/", {"account": str(other.pk)},
                                       format="json")
    assert response.status_code == 400


def test_a_rep_cannot_see_or_complete_a_colleagues_task(api, acme):
    task = TaskFactory(tenant=acme.tenant, owner=acme.rep2)
    client = api.as_(acme.rep)
    assert client.get(f"/api/v1/activities/{task.pk}/").status_code == 404
    assert client.post(f"/api/v1/activities/{task.pk}/complete/").status_code == 404


def test_a_manager_comments_through_the_api_and_a_rep_gets_403(api, acme):
    task = TaskFactory(tenant=acme.tenant, owner=acme.rep)
    ok = api.as_(acme.manager).post(f"/api/v1/activities/{task.pk}/comments/", {"body": "Good"}, format="json")
    assert ok.status_code == 201
    own = api.as_(acme.rep).post(f"/api/v1/activities/{task.pk}/comments/", {"body": "Me"}, format="json")
    assert own.status_code == 403


def test_activity_list_pages_by_cursor(api, acme):
    for _ in range(5):
        ActivityFactory(tenant=acme.tenant, owner=acme.rep)
    client = api.as_(acme.rep)
    first = client.get("/api/v1/activities/?page_size=3").json()
    second = client.get(first["next"]).json()
    ids = [a["id"] for a in first["results"] + second["results"]]
    assert len(ids) == len(set(ids)) == 5
    assert Activity.objects.count() == 0  # outside a tenant, RLS shows nothing
