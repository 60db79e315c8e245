"""The Sharing panel and the why/who dialogs of a record page (task F)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Account
from contacts.models import Contact
from crm.access import services
from crm.access.models import CollaborationGroup, Level, Share, TeamMember
from crm.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db


@pytest.fixture
def initech(acme):
    with tenant_context(acme.tenant):
        return Account.objects.create(tenant=acme.tenant, name="Initech", owner=acme.rep2)


def urls(obj, pk, ids):
    share, member, group = ids
    return [
        ("get", reverse("record_sharing", args=[obj, pk])),
        ("get", reverse("record_why", args=[obj, pk])),
        ("get", reverse("record_who", args=[obj, pk])),
        ("post", reverse("record_share_add", args=[obj, pk])),
        ("post", reverse("record_share_remove", args=[obj, pk, share])),
        ("post", reverse("record_team_add", args=[obj, pk])),
        ("post", reverse("record_team_remove", args=[obj, pk, member])),
        ("post", reverse("record_collab_add", args=[obj, pk])),
        ("post", reverse("record_collab_dissolve", args=[obj, pk, group])),
    ]


def share_team_collab(acme, account):
    with tenant_context(acme.tenant):
        share = services.share_create(actor=acme.admin, record=account, grantee=acme.agent, access=Level.READ)
        member = services.team_member_set(actor=acme.admin, record=account, membership=acme.agent,
                                          team_role="Support", access=Level.READ)
        group = services.collaboration_create(actor=acme.admin, record=account, name="Bid",
                                              members=[(acme.agent, "writes", Level.READ)])
    return share.pk, member.pk, group.pk


def post_data(acme):
    return {"grantee": f"member:{acme.rep.pk}", "access": "2", "membership": str(acme.rep.pk), "team_role": "X",
            "name": "G", "member": [str(acme.rep.pk)], "task_role": ["x"], "member_access": ["2"]}


def test_a_rep_who_cannot_see_the_record_gets_404_everywhere_and_nothing_changes(acme, initech, client_as):
    ids = share_team_collab(acme, initech)
    client = client_as(acme.rep)
    with tenant_context(acme.tenant):
        before = (Share.objects.count(), TeamMember.objects.count(), CollaborationGroup.objects.filter(
            dissolved_at=None).count())
    for method, url in urls("accounts", initech.pk, ids):
        response = getattr(client, method)(url, post_data(acme) if method == "post" else None)
        assert response.status_code == 404, url
    with tenant_context(acme.tenant):
        assert before == (Share.objects.count(), TeamMember.objects.count(),
                          CollaborationGroup.objects.filter(dissolved_at=None).count())


def test_another_tenant_gets_404_for_acme_records(acme, globex, initech, client_as):
    ids = share_team_collab(acme, initech)
    client = client_as(globex.admin)
    for method, url in urls("accounts", initech.pk, ids):
        assert getattr(client, method)(url, post_data(acme) if method == "post" else None).status_code == 404, url
    assert client.get(f"/records/junk/{initech.pk}/why/").status_code == 404


def test_a_reader_who_is_not_on_the_owner_side_gets_a_clear_403(acme, initech, client_as):
    ids = share_team_collab(acme, initech)
    with tenant_context(acme.tenant):
        services.share_create(actor=acme.admin, record=initech, grantee=acme.rep, access=Level.READ)
    client = client_as(acme.rep)
    assert client.get(reverse("record_sharing", args=["accounts", initech.pk])).status_code == 200
    assert client.get(reverse("record_why", args=["accounts", initech.pk])).status_code == 200
    refused = [u for m, u in urls("accounts", initech.pk, ids) if m == "post"] + [
        reverse("record_who", args=["accounts", initech.pk])]
    for url in refused:
        response = client.post(url, post_data(acme)) if "who" not in url else client.get(url)
        assert response.status_code == 403, url
        body = response.content.decode()
        assert "owner" in body or "edit this record" in body, url
    with tenant_context(acme.tenant):
        assert not Share.objects.filter(grantee=acme.rep.pk, access=Level.EDIT).exists()
        assert TeamMember.objects.filter(record_id=initech.pk).count() == 1
        assert CollaborationGroup.objects.filter(record_id=initech.pk, dissolved_at=None).count() == 1


def test_the_owner_shares_builds_a_team_and_a_collaboration_group_then_undoes_them(acme, initech, client_as):
    client = client_as(acme.rep2)
    base = ("accounts", initech.pk)
    response = client.post(reverse("record_share_add", args=base), {"grantee": f"member:{acme.rep.pk}", "access": "1"})
    assert response.status_code == 302
    rep = client_as(acme.rep)
    why = rep.get(reverse("record_why", args=base)).content.decode()
    assert "Shared manually with this person" in why
    client = client_as(acme.rep2)
    assert client.post(reverse("record_team_add", args=base),
                       {"membership": str(acme.agent.pk), "team_role": "Service lead", "access": "2"}).status_code == 302
    assert client.post(reverse("record_collab_add", args=base),
                       {"name": "Renewal", "purpose": "Q3", "member": [str(acme.manager.pk), ""],
                        "task_role": ["pricing", ""], "member_access": ["1", "1"]}).status_code == 302
    panel = client.get(reverse("record_sharing", args=base)).content.decode()
    assert "Acme Rep" in panel and "Service lead" in panel and "Renewal" in panel and "pricing" in panel
    who = client.get(reverse("record_who", args=base)).content.decode()
    assert "Acme Rep" in who and "Account team: Service lead" in who and "Owner of the record" in who
    with tenant_context(acme.tenant):
        share = Share.objects.get(cause="manual", record_id=initech.pk)
        member = TeamMember.objects.get(record_id=initech.pk)
        group = CollaborationGroup.objects.get(record_id=initech.pk)
    assert client.post(reverse("record_share_remove", args=[*base, share.pk])).status_code == 302
    assert client.post(reverse("record_team_remove", args=[*base, member.pk])).status_code == 302
    assert client.post(reverse("record_collab_dissolve", args=[*base, group.pk])).status_code == 302
    assert client_as(acme.rep).get(reverse("record_why", args=base)).status_code == 404
    with tenant_context(acme.tenant):
        assert not Share.objects.filter(record_id=initech.pk).exists()
        assert CollaborationGroup.objects.get(pk=group.pk).dissolved_at is not None


@pytest.mark.parametrize("data", [
    {"grantee": "member:not-a-uuid", "access": "1"},
    {"grantee": "group:00000000-0000-0000-0000-000000000000", "access": "1"},
    {"grantee": "", "access": "1"},
    {"access": "9"},
])
def test_bad_share_input_changes_nothing_and_says_why(acme, initech, client_as, data):
    client = client_as(acme.rep2)
    data = {"grantee": f"member:{acme.rep.pk}", **data}
    response = client.post(reverse("record_share_add", args=["accounts", initech.pk]), data, follow=True)
    assert response.status_code == 200
    assert "colleague or a group" in response.content.decode() or "Read only or read/write" in response.content.decode()
    with tenant_context(acme.tenant):
        assert not Share.objects.exists()


def test_bad_team_and_collaboration_input_is_refused_without_a_500(acme, initech, client_as):
    client = client_as(acme.rep2)
    base = ("accounts", initech.pk)
    for data in ({"membership": "junk", "team_role": "x", "access": "1"},
                 {"membership": str(acme.rep.pk), "team_role": "", "access": "1"},
                 {"membership": str(acme.rep.pk), "team_role": "x", "access": "x"}):
        assert client.post(reverse("record_team_add", args=base), data).status_code == 302
    for data in ({"name": "", "member": [str(acme.rep.pk)], "task_role": [""], "member_access": ["1"]},
                 {"name": "G", "member": ["junk"], "task_role": [""], "member_access": ["1"]},
                 {"name": "G"}):
        assert client.post(reverse("record_collab_add", args=base), data).status_code == 302
    assert client.post(reverse("record_share_remove", args=[*base, initech.pk])).status_code == 404
    with tenant_context(acme.tenant):
        assert not TeamMember.objects.exists() and not CollaborationGroup.objects.exists()


def test_an_admin_explains_for_any_member_a_rep_only_for_themselves(acme, initech, client_as):
    with tenant_context(acme.tenant):
        services.share_create(actor=acme.admin, record=initech, grantee=acme.rep, access=Level.READ)
    url = reverse("record_why", args=["accounts", initech.pk])
    body = client_as(acme.admin).get(url, {"member": str(acme.rep2.pk)}).content.decode()
    assert "Owner of the record" in body and "Modify all" not in body
    body = client_as(acme.rep).get(url, {"member": str(acme.rep2.pk)}).content.decode()
    assert "Shared manually with this person" in body and "Owner of the record" not in body


def test_the_pages_load_the_panel_and_the_panel_is_bounded(acme, initech, client_as, django_assert_max_num_queries):
    with tenant_context(acme.tenant):
        contact = Contact.objects.create(tenant=acme.tenant, last_name="Lumbergh", owner=acme.rep2, account=initech)
        for m in (acme.rep, acme.agent, acme.manager):
            services.share_create(actor=acme.admin, record=initech, grantee=m, access=Level.READ)
            services.team_member_set(actor=acme.admin, record=initech, membership=m, team_role="r", access=1)
    client = client_as(acme.rep2)
    assert reverse("record_sharing", args=["accounts", initech.pk]) in client.get(
        reverse("account_detail", args=[initech.pk])).content.decode()
    assert reverse("record_sharing", args=["contacts", contact.pk]) in client.get(
        reverse("contact_detail", args=[contact.pk])).content.decode()
    with django_assert_max_num_queries(25):
        assert client.get(reverse("record_sharing", args=["accounts", initech.pk])).status_code == 200
    with django_assert_max_num_queries(40):
        who = client.get(reverse("record_who", args=["contacts", contact.pk])).content.decode()
    assert "Through the parent" in who or "Controlled by the parent" in who
