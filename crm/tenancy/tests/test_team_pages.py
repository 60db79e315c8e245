import pytest

from crm.audit.models import SecurityEvent
from crm.tenancy.context import tenant_context
from crm.tenancy.models import ApiToken, Invitation, Membership, Role

pytestmark = pytest.mark.django_db

ADMIN_PAGES = ["/team/", "/settings/security/", "/settings/security-log/"]


def events(company, kind):
    with tenant_context(company.tenant):
        return list(SecurityEvent.objects.for_tenant(company.tenant).filter(kind=kind))


def reload(company, membership):
    with tenant_context(company.tenant):
        return Membership.objects.for_tenant(company.tenant).get(pk=membership.pk)


@pytest.mark.parametrize("page", ADMIN_PAGES)
@pytest.mark.parametrize("who", ["manager", "rep", "agent"])
def test_admin_pages_do_not_exist_for_other_roles(client_as, acme, page, who):
    assert client_as(getattr(acme, who)).get(page).status_code == 404


@pytest.mark.parametrize("page", [*ADMIN_PAGES, "/settings/api-tokens/"])
def test_signed_out_visitors_are_sent_to_sign_in(client, page):
    response = client.get(page)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_the_team_page_lists_members_with_their_role_and_manager(client_as, acme):
    response = client_as(acme.admin).get("/team/")
    assert response.status_code == 200
    rows = {row["m"].user.email: row["m"] for row in response.context["rows"]}
    assert set(rows) == {m.user.email for m in acme.members}
    html = response.content.decode()
    assert "Sales manager" in html and "Service agent" in html
    assert rows["rep@acme.example"].reports_to.user.email == "manager@acme.example"
    assert "Acme Manager" in html


def test_the_team_page_does_not_show_another_companys_people(client_as, acme, globex):
    html = client_as(acme.admin).get("/team/").content.decode()
    assert "globex.example" not in html


def test_an_admin_invites_from_the_team_page_and_sees_it_pending(client_as, acme, delivered):
    client = client_as(acme.admin)
    response = client.post("/team/invite/", {"email": "Sam@Acme.example", "role": Role.MANAGER}, follow=True)
    assert response.status_code == 200
    assert [i.email for i in response.context["invitations"]] == ["sam@acme.example"]
    [message] = delivered()
    assert message.to == ["sam@acme.example"]


def test_inviting_a_member_shows_the_reason_next_to_the_email(client_as, acme):
    response = client_as(acme.admin).post("/team/invite/", {"email": "rep@acme.example", "role": Role.REP})
    assert response.status_code == 200
    assert response.context["invite_form"].errors["email"] == ["This person is already a member of your company."]


def test_an_admin_withdraws_a_pending_invitation(client_as, acme):
    client = client_as(acme.admin)
    client.post("/team/invite/", {"email": "sam@acme.example", "role": Role.REP})
    with tenant_context(acme.tenant):
        invitation = Invitation.objects.for_tenant(acme.tenant).get()
    client.post(f"/team/invitations/{invitation.pk}/revoke/")
    assert list(client.get("/team/").context["invitations"]) == []


def test_a_role_change_is_saved_and_in_the_security_log(client_as, acme):
    client_as(acme.admin).post(f"/team/members/{acme.rep.pk}/role/", {"role": Role.MANAGER})
    assert reload(acme, acme.rep).role == Role.MANAGER
    [event] = events(acme, "role.changed")
    assert event.user == acme.admin.user
    assert event.detail == {"member": "rep@acme.example", "from": "rep", "to": "manager"}


def test_the_last_admin_cannot_step_down(client_as, acme):
    response = client_as(acme.admin).post(f"/team/members/{acme.admin.pk}/role/", {"role": Role.REP}, follow=True)
    assert reload(acme, acme.admin).role == Role.ADMIN
    assert "at least one admin" in response.content.decode()
    assert events(acme, "role.changed") == []


def test_a_non_admin_cannot_change_roles(client_as, acme):
    assert client_as(acme.manager).post(f"/team/members/{acme.rep.pk}/role/", {"role": Role.ADMIN}).status_code == 404
    assert reload(acme, acme.rep).role == Role.REP


def test_an_admin_cannot_touch_another_companys_member(client_as, acme, globex):
    client = client_as(acme.admin)
    assert client.post(f"/team/members/{globex.rep.pk}/role/", {"role": Role.ADMIN}).status_code == 404
    assert client.post(f"/team/members/{globex.rep.pk}/deactivate/").status_code == 404
    assert reload(globex, globex.rep).role == Role.REP


def test_a_deactivated_member_loses_access_at_once_and_their_tokens_stop(client_as, acme, api):
    rep_api = api.as_(acme.rep)
    assert rep_api.get("/api/v1/me/").status_code == 200
    admin = client_as(acme.admin)
    confirm = admin.get(f"/team/members/{acme.rep.pk}/deactivate/")
    assert b"lose access" in confirm.content
    admin.post(f"/team/members/{acme.rep.pk}/deactivate/")
    assert reload(acme, acme.rep).is_active is False
    assert rep_api.get("/api/v1/me/").status_code == 401
    with tenant_context(acme.tenant):
        assert not ApiToken.objects.for_tenant(acme.tenant).filter(membership=acme.rep, revoked_at=None).exists()
    rep = client_as(acme.rep)
    assert rep.get("/").context["tenant"] is None
    [event] = events(acme, "member.removed")
    assert event.detail["member"] == "rep@acme.example"


def test_an_admin_cannot_deactivate_themselves(client_as, acme):
    client_as(acme.admin).post(f"/team/members/{acme.admin.pk}/deactivate/")
    assert reload(acme, acme.admin).is_active is True
