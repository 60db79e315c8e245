"""Field-level security on contacts and activities: what a rep's profile hides is absent from the
pages, the forms and the API; what it makes read only cannot be changed by any path; the admin,
whose profile restricts nothing, still sees and edits everything.

The rep's profile (set up by `restricted`): contacts.email (with the other addresses), birthday
and the custom field "Secret" hidden, title read only; activities.outcome hidden."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from contacts import gdpr, services
from contacts.models import Activity, Contact
from contacts.tests.factories import AccountFactory
from crm.access.tests.helpers import restrict_fields as _restrict
from crm.customfields import services as customfields
from crm.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db

EMAIL = "jane.hidden@customer.example"
SECRET = "Plays chess on Tuesdays"
OUTCOME = "Wants a discount of 40"



@pytest.fixture
def restricted(acme):
    """A contact and a call of the rep's, with every restricted field filled in; then the rep's
    profile restricts them."""
    with tenant_context(acme.tenant):
        customfields.field_create(actor=acme.admin, object="contacts", label="Secret", type="text")
        account = AccountFactory(tenant=acme.tenant, owner=acme.rep, name="Initech")
        contact = services.contact_create(
            actor=acme.admin, owner=acme.rep, first_name="Jane", last_name="Doe", title="Head of buying",
            department="Purchasing", account=account, birthday=dt.date(1980, 7, 14),
            emails=[EMAIL, "jane.home@private.example"], phones=["+49301234567"], custom={"secret": SECRET})
        call = services.activity_log(actor=acme.rep, kind=Activity.Kind.CALL, subject="Pricing call",
                                     contact=contact, outcome=OUTCOME, direction="outbound")
    _restrict(acme, kind="rep", restrictions={
        ("contacts", "email"): "hidden", ("contacts", "birthday"): "hidden", ("contacts", "cf_secret"): "hidden",
        ("contacts", "title"): "read_only", ("activities", "outcome"): "hidden",
    })
    return {"contact": contact, "call": call, "account": account}


def _contact(acme, pk) -> Contact:
    with tenant_context(acme.tenant):
        return Contact.objects.prefetch_related("emails").get(pk=pk)


def _tag(page: str, name: str) -> str:
    """The HTML tag of the form field `name`."""
    at = page.index(f'name="{name}"')
    return page[page.rindex("<", 0, at):page.index(">", at) + 1]


# --- pages ----------------------------------------------------------------------------------------

def test_the_contact_page_leaves_out_what_the_reps_profile_hides(client_as, acme, restricted):
    page = client_as(acme.rep).get(f"/contacts/{restricted['contact'].pk}/").content.decode()
    assert EMAIL not in page and "mailto:" not in page and "jane.home@private.example" not in page
    assert "Birthday" not in page and "14 July" not in page
    assert "Secret" not in page and SECRET not in page
    assert OUTCOME not in page  # the call on the timeline, without its outcome
    assert "Head of buying" in page and "Pricing call" in page and "+49301234567" in page


def test_the_admin_still_sees_everything_on_the_contact_page(client_as, acme, restricted):
    page = client_as(acme.admin).get(f"/contacts/{restricted['contact'].pk}/").content.decode()
    assert f"mailto:{EMAIL}" in page and "14 July" in page and SECRET in page and OUTCOME in page


def test_the_account_page_lists_contacts_without_the_hidden_email(client_as, acme, restricted):
    page = client_as(acme.rep).get(f"/accounts/{restricted['account'].pk}/").content.decode()
    assert "Jane Doe" in page
    assert EMAIL not in page and "mailto:" not in page


def test_the_contact_list_has_no_hidden_email_and_does_not_search_by_it(client_as, acme, restricted):
    client = client_as(acme.rep)
    page = client.get("/contacts/").content.decode()
    assert "Doe" in page and EMAIL not in page
    assert "Doe" not in client.get(f"/contacts/?q={EMAIL}").content.decode()
    admin = client_as(acme.admin)
    assert EMAIL in admin.get("/contacts/").content.decode()
    assert "Doe" in admin.get(f"/contacts/?q={EMAIL}").content.decode()


def test_the_contact_form_drops_hidden_fields_and_disables_read_only_ones(client_as, acme, restricted):
    page = client_as(acme.rep).get(f"/contacts/{restricted['contact'].pk}/edit/").content.decode()
    assert 'name="emails"' not in page and 'name="birthday"' not in page and 'name="cf_secret"' not in page
    assert EMAIL not in page and SECRET not in page
    assert "disabled" in _tag(page, "title") and "Read only for you." in page
    assert "disabled" not in _tag(page, "department")
    # a new contact's form is restricted the same way
    new = client_as(acme.rep).get("/contacts/new/").content.decode()
    assert 'name="emails"' not in new and 'name="birthday"' not in new and 'name="cf_secret"' not in new


def test_posted_values_for_hidden_and_read_only_fields_are_ignored(client_as, acme, restricted):
    contact = restricted["contact"]
    response = client_as(acme.rep).post(f"/contacts/{contact.pk}/edit/", {
        "first_name": "Jane", "last_name": "Doe", "department": "Procurement", "account": str(contact.account_id),
        "title": "CEO", "emails": "attacker@evil.example", "birthday": "2000-01-01", "cf_secret": "changed",
        "phones": "+49301234567",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    saved = _contact(acme, contact.pk)
    assert saved.department == "Procurement"  # what the rep may change, changed
    assert saved.title == "Head of buying" and saved.birthday == dt.date(1980, 7, 14)
    assert saved.custom["secret"] == SECRET
    assert sorted(e.email for e in saved.emails.all()) == [EMAIL, "jane.home@private.example"]


def test_a_new_contact_by_the_rep_gets_no_hidden_or_read_only_values(client_as, acme, restricted):
    response = client_as(acme.rep).post("/contacts/new/", {
        "last_name": "Newman", "title": "CEO", "emails": "x@evil.example", "birthday": "2000-01-01",
    })
    assert response.status_code == 302
    with tenant_context(acme.tenant):
        created = Contact.objects.get(last_name="Newman")
        assert (created.title, created.email, created.birthday) == ("", "", None)


def test_the_activity_form_leaves_out_the_hidden_outcome(client_as, acme, restricted):
    call = restricted["call"]
    client = client_as(acme.rep)
    page = client.get(f"/activities/{call.pk}/edit/").content.decode()
    assert 'name="outcome"' not in page and OUTCOME not in page
    assert 'name="outcome"' not in client.get("/activities/new/").content.decode()
    # the contact page's quick "Log a call" has no outcome either
    assert 'name="outcome"' not in client.get(f"/contacts/{restricted['contact'].pk}/").content.decode()
    response = client.post(f"/activities/{call.pk}/edit/", {
        "subject": "Pricing call, round 2", "outcome": "overwritten", "direction": "outbound"})
    assert response.status_code == 302
    with tenant_context(acme.tenant):
        call.refresh_from_db()
    assert (call.subject, call.outcome) == ("Pricing call, round 2", OUTCOME)


def test_the_admin_still_edits_every_field(client_as, acme, restricted):
    contact = restricted["contact"]
    page = client_as(acme.admin).get(f"/contacts/{contact.pk}/edit/").content.decode()
    assert 'name="emails"' in page and 'name="birthday"' in page and 'name="cf_secret"' in page
    assert "Read only for you." not in page
    response = client_as(acme.admin).post(f"/contacts/{contact.pk}/edit/", {
        "first_name": "Jane", "last_name": "Doe", "title": "CEO", "emails": EMAIL, "birthday": "1980-07-15",
        "cf_secret": "Now public", "account": str(contact.account_id),
    })
    assert response.status_code == 302
    saved = _contact(acme, contact.pk)
    assert (saved.title, saved.birthday, saved.custom["secret"]) == ("CEO", dt.date(1980, 7, 15), "Now public")


# --- API ------------------------------------------------------------------------------------------

def test_the_api_leaves_hidden_fields_out_of_the_contact(api, acme, restricted):
    client = api.as_(acme.rep)
    body = client.get(f"/api/v1/contacts/{restricted['contact'].pk}/").json()
    assert not {"email", "emails", "birthday"} & body.keys()
    assert "secret" not in body["custom"]
    assert body["title"] == "Head of buying" and body["phones"][0]["number"] == "+49301234567"
    listed = client.get("/api/v1/contacts/").json()["results"]
    assert len(listed) == 1 and not {"email", "emails", "birthday"} & listed[0].keys()
    assert EMAIL not in str(listed)


def test_the_api_refuses_a_read_only_or_hidden_field_and_changes_nothing(api, acme, restricted):
    client = api.as_(acme.rep)
    url = f"/api/v1/contacts/{restricted['contact'].pk}/"
    response = client.patch(url, {"title": "CEO", "department": "Board"}, format="json")
    assert response.status_code == 400
    assert "title" in response.json()["error"]["fields"]
    response = client.patch(url, {"emails": [{"email": "x@evil.example"}]}, format="json")
    assert response.status_code == 400 and "emails" in response.json()["error"]["fields"]
    response = client.patch(url, {"custom": {"secret": "x"}}, format="json")
    assert response.status_code == 400
    saved = _contact(acme, restricted["contact"].pk)
    assert (saved.title, saved.department, saved.custom["secret"]) == ("Head of buying", "Purchasing", SECRET)
    # sending the value it already has is no change
    assert client.patch(url, {"title": "Head of buying", "department": "Board"}, format="json").status_code == 200


def test_filtering_by_a_hidden_field_is_a_400(api, acme, restricted):
    client = api.as_(acme.rep)
    response = client.get(f"/api/v1/contacts/?search={EMAIL}")
    assert response.status_code == 400 and "search" in response.json()["error"]["fields"]
    assert client.get("/api/v1/contacts/?cf_secret=Plays").status_code == 400
    assert client.get("/api/v1/contacts/?search=Doe").status_code == 200
    # the admin filters by them
    assert len(api.as_(acme.admin).get(f"/api/v1/contacts/?search={EMAIL}").json()["results"]) == 1


def test_the_api_leaves_the_hidden_outcome_out_of_activities(api, acme, restricted):
    client = api.as_(acme.rep)
    call = restricted["call"]
    assert "outcome" not in client.get(f"/api/v1/activities/{call.pk}/").json()
    assert all("outcome" not in row for row in client.get("/api/v1/activities/").json()["results"])
    response = client.patch(f"/api/v1/activities/{call.pk}/", {"outcome": "x"}, format="json")
    assert response.status_code == 400 and "outcome" in response.json()["error"]["fields"]
    response = client.post("/api/v1/activities/", {"kind": "call", "subject": "New", "outcome": "x",
                                                   "contact": str(restricted["contact"].pk)}, format="json")
    assert response.status_code == 400
    assert api.as_(acme.admin).get(f"/api/v1/activities/{call.pk}/").json()["outcome"] == OUTCOME


def test_a_filter_on_a_hidden_activity_field_is_a_400(api, acme, restricted):
    _restrict(acme, kind="rep", restrictions={("activities", "due_at"): "hidden"})
    response = api.as_(acme.rep).get("/api/v1/activities/?due_before=2030-01-01T00:00:00Z")
    assert response.status_code == 400 and "due_before" in response.json()["error"]["fields"]


# --- services: the one check behind every path ------------------------------------------------

def test_services_refuse_read_only_and_hidden_changes(acme, restricted):
    contact, call = restricted["contact"], restricted["call"]
    with tenant_context(acme.tenant):
        with pytest.raises(ValidationError) as exc:
            services.contact_update(actor=acme.rep, contact=contact, title="CEO")
        assert "title" in exc.value.message_dict
        with pytest.raises(ValidationError):
            services.contact_update(actor=acme.rep, contact=contact, emails=["x@evil.example"])
        with pytest.raises(ValidationError):
            services.contact_create(actor=acme.rep, last_name="X", birthday=dt.date(2000, 1, 1))
        with pytest.raises(ValidationError):
            services.activity_update(actor=acme.rep, activity=call, outcome="")
        with pytest.raises(ValidationError):
            services.activity_log(actor=acme.rep, kind="call", subject="x", contact=contact, outcome="y")
        # unchanged values and fields the rep may change pass
        services.contact_update(actor=acme.rep, contact=contact, title="Head of buying", language="de")
        assert Contact.objects.get(pk=contact.pk).language == "de"


def test_read_only_phones_cannot_be_replaced(acme, restricted):
    _restrict(acme, kind="rep", restrictions={("contacts", "phone"): "read_only"})
    contact = restricted["contact"]
    with tenant_context(acme.tenant):
        with pytest.raises(ValidationError) as exc:
            services.contact_update(actor=acme.rep, contact=contact, phones=["+493099999999"])
        assert "phones" in exc.value.message_dict
        services.contact_update(actor=acme.rep, contact=contact, phones=["+49 30 1234567"])  # the same number


def test_read_only_phones_show_on_the_form_but_a_posted_list_is_ignored(client_as, acme, restricted):
    _restrict(acme, kind="rep", restrictions={("contacts", "phone"): "read_only"})
    contact = restricted["contact"]
    client = client_as(acme.rep)
    page = client.get(f"/contacts/{contact.pk}/edit/").content.decode()
    assert "disabled" in _tag(page, "phones") and "+49301234567" in page
    response = client.post(f"/contacts/{contact.pk}/edit/", {
        "last_name": "Doe", "first_name": "Jane", "phones": "+493099999999", "emails": EMAIL, "title": "x",
        "account": str(contact.account_id)})
    assert response.status_code == 302
    with tenant_context(acme.tenant):
        saved = Contact.objects.get(pk=contact.pk)
        assert [p.number for p in saved.phones.all()] == ["+49301234567"] and saved.phone == "+49301234567"


def test_the_admin_erases_a_contact_whatever_a_profile_restricts(acme, restricted):
    _restrict(acme, kind="admin", restrictions={("contacts", "title"): "read_only"})
    with tenant_context(acme.tenant):
        gdpr.contact_erase(actor=acme.admin, contact=restricted["contact"], reason="Their request of 3 May")
        assert Contact.objects.get(pk=restricted["contact"].pk).title == ""


def test_a_managers_gdpr_export_leaves_out_what_their_profile_hides(acme, restricted):
    _restrict(acme, kind="manager", restrictions={("contacts", "birthday"): "hidden", ("contacts", "email"): "hidden",
                                ("activities", "outcome"): "hidden"})
    with tenant_context(acme.tenant):
        data = gdpr.contact_export(actor=acme.manager, contact=_contact(acme, restricted["contact"].pk))
    assert "birthday" not in data["contact"] and "primary_email" not in data["contact"]
    assert data["emails"] == [] and EMAIL not in str(data["activities"]) and OUTCOME not in str(data)
    assert data["phones"][0]["number"] == "+49301234567"


# --- in the browser -------------------------------------------------------------------------------

@pytest.mark.e2e
def test_a_rep_works_a_contact_without_the_fields_their_profile_hides(restricted, sign_in, page, acme):
    import re

    from playwright.sync_api import expect

    shots = "artifacts/screenshots"
    contact, call = restricted["contact"], restricted["call"]
    sign_in("rep@acme.example")
    page.goto(f"/contacts/{contact.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Jane Doe")
    expect(page.get_by_text("Head of buying")).to_be_visible()
    assert page.locator("a[href^='mailto:']").count() == 0
    expect(page.get_by_text(OUTCOME)).to_have_count(0)
    page.screenshot(path=f"{shots}/b2-contact-detail-rep.png", full_page=True)

    page.get_by_role("link", name="Edit").first.click()
    page.wait_for_url(re.compile(r"/edit/$"))
    expect(page.get_by_label("Title")).to_be_disabled()
    expect(page.get_by_label("Birthday")).to_have_count(0)
    expect(page.get_by_label("Emails")).to_have_count(0)
    page.screenshot(path=f"{shots}/b2-contact-form-rep.png", full_page=True)
    page.get_by_label("Department").fill("Procurement")
    page.get_by_label("Department").press("Enter")  # keyboard: Enter submits the form
    page.wait_for_url(re.compile(r"/contacts/[0-9a-f-]{36}/$"))
    expect(page.get_by_text("Head of buying, Procurement")).to_be_visible()

    page.goto(f"/activities/{call.pk}/edit/")
    expect(page.get_by_label(re.compile("Outcome"))).to_have_count(0)
    expect(page.get_by_label(re.compile("Direction"))).to_be_visible()
    page.screenshot(path=f"{shots}/b2-activity-form-rep.png", full_page=True)
