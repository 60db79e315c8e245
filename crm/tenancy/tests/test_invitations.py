import re
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from crm.audit.models import SecurityEvent
from crm.tenancy import services
from crm.tenancy.context import tenant_context
from crm.tenancy.models import Invitation, Membership, Role, User
from crm.tenancy.tests.factories import DEMO_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Fresh-start-2026"


def invite(company, email="new@acme.example", role=Role.AGENT, actor=None):
    with tenant_context(company.tenant):
        return services.invitation_create(actor=actor or company.admin, email=email, role=role)


def link_in(message) -> str:
    return re.search(r"http://\S+/invite/\S+/", message.body).group(0)


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def security_events(company, kind):
    with tenant_context(company.tenant):
        return list(SecurityEvent.objects.for_tenant(company.tenant).filter(kind=kind))


# --- services ----------------------------------------------------------------------------------


def test_an_invitation_is_mailed_through_the_outbox_with_a_link_to_accept(acme, delivered):
    invitation, raw = invite(acme)
    [message] = delivered()
    assert message.to == ["new@acme.example"]
    assert "Acme" in message.subject
    assert "Service agent" in message.body
    assert link_in(message).endswith(f"/invite/{acme.tenant.pk}/{raw}/")
    [event] = security_events(acme, "member.invited")
    assert event.user == acme.admin.user
    assert event.detail["member"] == "new@acme.example"


def test_only_admins_invite(acme):
    with pytest.raises(PermissionDenied):
        invite(acme, actor=acme.manager)


def test_a_current_member_cannot_be_invited_again(acme):
    with pytest.raises(ValidationError) as exc:
        invite(acme, email="REP@acme.example")
    assert "already a member" in str(exc.value)


def test_inviting_the_same_address_again_replaces_the_open_invitation(acme):
    first, _ = invite(acme)
    second, _ = invite(acme, role=Role.MANAGER)
    with tenant_context(acme.tenant):
        first.refresh_from_db()
    assert first.revoked_at is not None
    assert second.is_open


def test_accepting_as_another_person_is_refused(acme):
    invitation, _ = invite(acme)
    with pytest.raises(PermissionDenied):
        services.invitation_accept(invitation=invitation, user=acme.rep.user)


def test_a_deactivated_colleague_comes_back_through_a_new_invitation_with_its_role(acme):
    with tenant_context(acme.tenant):
        services.membership_deactivate(actor=acme.admin, membership=acme.rep)
    invitation, _ = invite(acme, email="rep@acme.example", role=Role.MANAGER)
    membership = services.invitation_accept(invitation=invitation, user=acme.rep.user)
    assert membership.pk == acme.rep.pk
    assert membership.is_active and membership.role == Role.MANAGER


def test_an_invitation_works_once(acme):
    invitation, _ = invite(acme)
    user = UserFactory(email="new@acme.example")
    services.invitation_accept(invitation=invitation, user=user)
    with pytest.raises(ValidationError, match="already been used"):
        services.invitation_accept(invitation=invitation, user=user)


def test_an_admin_withdraws_an_invitation(acme):
    invitation, _ = invite(acme)
    with tenant_context(acme.tenant):
        services.invitation_revoke(actor=acme.admin, invitation=invitation)
    with pytest.raises(ValidationError, match="withdrawn"):
        services.invitation_accept(invitation=invitation, user=UserFactory(email="new@acme.example"))


# --- the link ------------------------------------------------------------------------------------


def test_someone_without_an_account_sets_a_password_and_lands_in_the_company(client, acme, delivered):
    invite(acme)
    [message] = delivered()
    url = path_of(link_in(message))
    page = client.get(url)
    assert page.status_code == 200
    assert b"new@acme.example" in page.content
    response = client.post(url, {"full_name": "Nina New", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302
    home = client.get(response["Location"])
    assert home.context["tenant"] == acme.tenant
    assert home.context["membership"].role == Role.AGENT
    user = User.objects.get(email="new@acme.example")
    assert user.full_name == "Nina New" and user.check_password(NEW_PASSWORD)
    [joined] = security_events(acme, "member.joined")
    assert joined.user == user


def test_the_new_account_form_applies_the_password_rules(client, acme):
    _, raw = invite(acme)
    response = client.post(f"/invite/{acme.tenant.pk}/{raw}/",
                           {"full_name": "Nina", "password1": "short", "password2": "short"})
    assert response.status_code == 200
    assert response.context["form"].errors["password1"]
    assert not User.objects.filter(email="new@acme.example").exists()


def test_someone_with_an_account_signs_in_first_and_comes_back(client, acme, globex):
    _, raw = invite(acme, email="rep@globex.example")
    url = f"/invite/{acme.tenant.pk}/{raw}/"
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
    signed_in = client.post(response["Location"], {"login": "rep@globex.example", "password": DEMO_PASSWORD})
    assert signed_in["Location"] == url
    page = client.get(url)
    assert b"Join Acme" in page.content
    joined = client.post(url)
    assert client.get(joined["Location"]).context["tenant"] == acme.tenant
    with tenant_context(acme.tenant):
        assert Membership.objects.for_tenant(acme.tenant).get(user__email="rep@globex.example").role == Role.AGENT


def test_a_signed_in_member_of_another_company_joins_with_one_click(client_as, acme, globex):
    _, raw = invite(acme, email="admin@globex.example", role=Role.MANAGER)
    client = client_as(globex.admin)
    response = client.post(f"/invite/{acme.tenant.pk}/{raw}/")
    home = client.get(response["Location"])
    assert home.context["tenant"] == acme.tenant
    assert home.context["membership"].role == Role.MANAGER
    assert len(home.context["all_memberships"]) == 2


def test_signed_in_as_someone_else_the_page_says_so_and_nothing_happens(client_as, acme):
    _, raw = invite(acme)
    response = client_as(acme.rep).post(f"/invite/{acme.tenant.pk}/{raw}/")
    assert response.status_code == 403
    assert b"new@acme.example" in response.content
    assert not User.objects.filter(email="new@acme.example").exists()


@pytest.mark.parametrize("state, words", [
    ("expired", b"expired"), ("revoked", b"withdrawn"), ("accepted", b"already been used"),
])
def test_a_dead_invitation_gets_a_page_that_says_why(client, acme, state, words):
    invitation, raw = invite(acme)
    now = timezone.now()
    changes = {"expired": {"expires_at": now - timedelta(minutes=1)}, "revoked": {"revoked_at": now},
               "accepted": {"accepted_at": now}}[state]
    with tenant_context(acme.tenant):
        Invitation.objects.for_tenant(acme.tenant).filter(pk=invitation.pk).update(**changes)
    response = client.get(f"/invite/{acme.tenant.pk}/{raw}/")
    assert response.status_code == 410
    assert words in response.content


def test_a_wrong_token_or_another_companys_id_finds_nothing(client, acme, globex):
    _, raw = invite(acme)
    assert client.get(f"/invite/{acme.tenant.pk}/not-the-token/").status_code == 404
    assert client.get(f"/invite/{globex.tenant.pk}/{raw}/").status_code == 404
