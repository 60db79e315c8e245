"""Task A: Settings → Access pages for profiles, permission sets, a member's access, public groups
and sharing rules. Each change made through a page must change what the engine answers."""

from __future__ import annotations

import pytest

from accounts.models import Account
from crm.access import engine, fields, policy, services
from crm.access.defaults import system_profiles
from crm.access.models import (
    FieldPermission,
    Group,
    GroupMember,
    GroupUser,
    MemberPermissionSet,
    PermissionSet,
    RoleAssignment,
    SharingRule,
)
from crm.audit.models import SecurityEvent
from crm.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db


def _events(company, change):
    with tenant_context(company.tenant):
        return [e for e in SecurityEvent.objects.filter(tenant=company.tenant, kind="access.changed")
                if e.detail.get("change") == change]


def _profiles(company):
    with tenant_context(company.tenant):
        return system_profiles(company.tenant.pk)


def _profile_post(client, url, *, name, description="", objects=None, fields_=None, app=(), extra=None):
    """The page's whole form as a browser sends it: unticked boxes are simply absent."""
    data = {"name": name, "description": description}
    for key, flags in (objects or {}).items():
        for flag in flags:
            data[f"obj-{key}-{flag}"] = "on"
    for (key, field), value in (fields_ or {}).items():
        data[f"fls-{key}-{field}"] = value
    for permission in app:
        data[f"app-{permission}"] = "on"
    data.update(extra or {})
    return client.post(url, data)


REP_OBJECTS = {key: ("can_create", "can_read", "can_edit", "can_delete") for key in ("accounts", "contacts",
                                                                                     "activities")}


def _hidden(company, member, key="accounts"):
    with tenant_context(company.tenant):
        engine.forget(member)
        return fields.hidden(member, key)


def _group(company, name, members):
    with tenant_context(company.tenant):
        return services.group_save(actor=company.admin, name=name, members=members)


# --- who may open the pages ------------------------------------------------------------------------


USERS_PAGES = ["/settings/access/profiles/", "/settings/access/profiles/new/", "/settings/access/permission-sets/",
               "/settings/access/permission-sets/new/"]
SHARING_PAGES = ["/settings/access/groups/", "/settings/access/groups/new/", "/settings/access/sharing-rules/",
                 "/settings/access/sharing-rules/new/", "/settings/access/sharing-rules/new/?object=contacts"]


@pytest.mark.parametrize("url", USERS_PAGES + SHARING_PAGES)
def test_pages_render_for_the_admin_and_404_for_rep_and_manager(acme, client_as, url):
    assert client_as(acme.admin).get(url).status_code == 200
    assert client_as(acme.rep).get(url).status_code == 404
    assert client_as(acme.manager).get(url).status_code == 404


def test_record_pages_render_for_the_admin_and_404_for_others(acme, client_as):
    rep_profile = _profiles(acme)["rep"]
    group = _group(acme, "Key accounts", [("user", acme.rep2)])
    with tenant_context(acme.tenant):
        rule = services.rule_save(actor=acme.admin, object="accounts", name="Manufacturing", kind="criteria",
                                  target_group=group, criteria=[{"field": "industry", "op": "eq",
                                                                  "value": "manufacturing"}])
    urls = [f"/settings/access/profiles/{rep_profile.pk}/", f"/settings/access/members/{acme.rep.pk}/",
            f"/settings/access/groups/{group.pk}/", f"/settings/access/sharing-rules/{rule.pk}/"]
    for url in urls:
        assert client_as(acme.admin).get(url).status_code == 200, url
        assert client_as(acme.rep).get(url).status_code == 404, url
    # a profile is not a permission set: the wrong address is a 404, not the other kind's page
    assert client_as(acme.admin).get(f"/settings/access/permission-sets/{rep_profile.pk}/").status_code == 404


def test_another_tenants_admin_gets_404_for_everything_of_acme(acme, globex, client_as):
    rep_profile = _profiles(acme)["rep"]
    group = _group(acme, "Key accounts", [("user", acme.rep2)])
    client = client_as(globex.admin)
    for url in (f"/settings/access/profiles/{rep_profile.pk}/", f"/settings/access/members/{acme.rep.pk}/",
                f"/settings/access/groups/{group.pk}/"):
        assert client.get(url).status_code == 404
        assert client.post(url, {"name": "Taken over"}).status_code == 404
    assert client.post(f"/settings/access/groups/{group.pk}/delete/").status_code == 404
    # an Acme member is not a valid choice in a Globex group
    response = client.post("/settings/access/groups/new/", {"name": "Mixed", "users": [str(acme.rep.pk)]})
    assert response.status_code == 400
    with tenant_context(acme.tenant):
        assert Group.objects.get(pk=group.pk).name == "Key accounts"


def test_tabs_show_only_what_the_member_may_open(acme, client_as):
    page = client_as(acme.admin).get("/settings/access/profiles/").content.decode()
    for label in ("Roles", "Profiles", "Permission sets", "Public groups", "Sharing rules"):
        assert f">{label}</a>" in page
    with tenant_context(acme.tenant):
        users_only = services.permission_set_save(actor=acme.admin, name="User admins", app={"manage_users": True})
        services.assign(actor=acme.admin, membership=acme.manager, permission_sets=[users_only])
    client = client_as(acme.manager)
    page = client.get("/settings/access/profiles/").content.decode()
    assert ">Permission sets</a>" in page
    assert ">Public groups</a>" not in page and ">Sharing rules</a>" not in page
    assert client.get("/settings/access/groups/").status_code == 404
    # the Access entry of the navigation opens on the roles page: they land on their first tab
    response = client.get("/settings/access/roles/")
    assert response.status_code == 302 and response["Location"] == "/settings/access/profiles/"


# --- profiles and permission sets ------------------------------------------------------------------


def test_the_profile_list_shows_system_badges_and_member_counts(acme, client_as):
    page = client_as(acme.admin).get("/settings/access/profiles/").content.decode()
    row = page[page.index(">Sales rep</a>"):]
    row = row[:row.index("</tr>")]
    assert "System" in row
    assert '<td class="num">2</td>' in row  # rep and rep2
    # and each member links to their access page
    assert f"/settings/access/members/{acme.rep2.pk}/" in page


def test_hiding_a_field_on_the_rep_profile_hides_it_from_the_rep(acme, client_as):
    rep_profile = _profiles(acme)["rep"]
    assert "annual_revenue" not in _hidden(acme, acme.rep)
    response = _profile_post(client_as(acme.admin), f"/settings/access/profiles/{rep_profile.pk}/",
                             name="Sales rep", description="Works their own customers.", objects=REP_OBJECTS,
                             fields_={("accounts", "annual_revenue"): "hidden", ("contacts", "phone"): "read_only"},
                             app=("can_import", "can_export"))
    assert response.status_code == 302
    assert "annual_revenue" in _hidden(acme, acme.rep)
    with tenant_context(acme.tenant):
        engine.forget(acme.rep)
        assert "phone" in fields.read_only(acme.rep, "contacts")
        assert engine.can(acme.rep, "export")
    assert [e.detail["name"] for e in _events(acme, "permission_set.changed")] == ["Sales rep"]
    # the page shows what was saved
    page = client_as(acme.admin).get(f"/settings/access/profiles/{rep_profile.pk}/").content.decode()
    select = page[page.index('name="fls-accounts-annual_revenue"'):]
    assert select.index('value="hidden" selected') < select.index("</select>")


def test_making_a_field_editable_again_removes_the_restriction(acme, client_as):
    rep_profile = _profiles(acme)["rep"]
    with tenant_context(acme.tenant):
        services.permission_set_save(actor=acme.admin, permission_set=rep_profile, name="Sales rep",
                                     fields={("accounts", "annual_revenue"): "hidden"})
    _profile_post(client_as(acme.admin), f"/settings/access/profiles/{rep_profile.pk}/", name="Sales rep",
                  objects=REP_OBJECTS, fields_={("accounts", "annual_revenue"): "edit"})
    assert "annual_revenue" not in _hidden(acme, acme.rep)
    with tenant_context(acme.tenant):
        assert not FieldPermission.objects.filter(permission_set=rep_profile).exists()


def test_unticking_object_rights_takes_them_away(acme, client_as):
    rep_profile = _profiles(acme)["rep"]
    objects = {**REP_OBJECTS, "accounts": ("can_read",)}
    response = _profile_post(client_as(acme.admin), f"/settings/access/profiles/{rep_profile.pk}/",
                             name="Sales rep", objects=objects)
    assert response.status_code == 302
    with tenant_context(acme.tenant):
        engine.forget(acme.rep)
        assert engine.can(acme.rep, "read", "accounts")
        assert not engine.can(acme.rep, "create", "accounts")
        assert not engine.can(acme.rep, "import")  # unticked app permission


def test_bad_field_access_rerenders_with_the_error_and_saves_nothing(acme, client_as):
    rep_profile = _profiles(acme)["rep"]
    response = _profile_post(client_as(acme.admin), f"/settings/access/profiles/{rep_profile.pk}/",
                             name="Renamed rep", objects={}, fields_={("accounts", "annual_revenue"): "hidden",
                                                                      ("accounts", "phone"): "invisible"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Nothing was saved" in page and "Choose one of: Editable, Read only, Hidden." in page
    with tenant_context(acme.tenant):
        rep_profile.refresh_from_db()
        assert rep_profile.name == "Sales rep"
        assert not FieldPermission.objects.filter(permission_set=rep_profile).exists()
    assert "annual_revenue" not in _hidden(acme, acme.rep)
    assert not _events(acme, "permission_set.changed")


def test_a_duplicate_or_empty_name_is_a_form_error(acme, client_as):
    client = client_as(acme.admin)
    response = _profile_post(client, "/settings/access/profiles/new/", name="sales REP")
    assert response.status_code == 400
    assert "is taken" in response.content.decode()
    response = _profile_post(client, "/settings/access/permission-sets/new/", name="  ")
    assert response.status_code == 400
    with tenant_context(acme.tenant):
        assert PermissionSet.objects.filter(tenant=acme.tenant).count() == 4


def test_the_administrator_profile_keeps_manage_users(acme, client_as):
    admin_profile = _profiles(acme)["admin"]
    response = _profile_post(client_as(acme.admin), f"/settings/access/profiles/{admin_profile.pk}/",
                             name="System administrator", objects=REP_OBJECTS, app=("manage_sharing",))
    assert response.status_code == 400
    assert "keeps the right to manage users" in response.content.decode()
    with tenant_context(acme.tenant):
        admin_profile.refresh_from_db()
        assert admin_profile.manage_users and admin_profile.can_export


def test_a_permission_set_lifts_a_profile_restriction_for_its_holders(acme, client_as):
    rep_profile = _profiles(acme)["rep"]
    with tenant_context(acme.tenant):
        services.permission_set_save(actor=acme.admin, permission_set=rep_profile, name="Sales rep",
                                     fields={("accounts", "annual_revenue"): "hidden"})
    client = client_as(acme.admin)
    page = client.get("/settings/access/permission-sets/new/").content.decode()
    assert "A permission set only lifts restrictions" in page
    response = _profile_post(client, "/settings/access/permission-sets/new/", name="Revenue readers",
                             fields_={("accounts", "annual_revenue"): "read_only"}, app=("transfer_records",))
    assert response.status_code == 302
    with tenant_context(acme.tenant):
        revenue = PermissionSet.objects.get(tenant=acme.tenant, name="Revenue readers")
        assert not revenue.is_profile
    # "—" is the only other choice a set offers besides read only / editable: never "hidden"
    response = _profile_post(client, f"/settings/access/permission-sets/{revenue.pk}/", name="Revenue readers",
                             fields_={("accounts", "annual_revenue"): "hidden"})
    assert response.status_code == 400

    response = client.post(f"/settings/access/members/{acme.rep.pk}/", {
        "profile": str(rep_profile.pk), "permission_sets": [str(revenue.pk)], "role": ""})
    assert response.status_code == 302
    assert "annual_revenue" not in _hidden(acme, acme.rep)
    assert "annual_revenue" in _hidden(acme, acme.rep2)
    with tenant_context(acme.tenant):
        engine.forget(acme.rep)
        assert fields.read_only(acme.rep, "accounts") >= {"annual_revenue"}
        assert engine.can(acme.rep, "transfer_records")
    assert "Revenue readers" in client.get("/settings/access/permission-sets/").content.decode()


def test_deleting_a_system_profile_or_one_members_hold_is_refused(acme, client_as):
    client = client_as(acme.admin)
    rep_profile = _profiles(acme)["rep"]
    response = client.post(f"/settings/access/profiles/{rep_profile.pk}/delete/", follow=True)
    assert "A system profile cannot be deleted" in response.content.decode()
    with tenant_context(acme.tenant):
        custom = services.permission_set_save(actor=acme.admin, name="Junior rep", is_profile=True)
        services.assign(actor=acme.admin, membership=acme.rep2, profile=custom)
    response = client.post(f"/settings/access/profiles/{custom.pk}/delete/", follow=True)
    assert "1 member holds this profile: give them another profile first." in response.content.decode()
    with tenant_context(acme.tenant):
        assert PermissionSet.objects.filter(pk=custom.pk).exists()
        services.assign(actor=acme.admin, membership=acme.rep2, profile=rep_profile)
    client.post(f"/settings/access/profiles/{custom.pk}/delete/")
    with tenant_context(acme.tenant):
        assert not PermissionSet.objects.filter(pk=custom.pk).exists()
    assert _events(acme, "permission_set.deleted")


def test_deleting_a_permission_set_takes_its_rights_from_its_holders(acme, client_as):
    with tenant_context(acme.tenant):
        exporters = services.permission_set_save(actor=acme.admin, name="Transfers", app={"transfer_records": True})
        services.assign(actor=acme.admin, membership=acme.rep, permission_sets=[exporters])
        engine.forget(acme.rep)
        assert engine.can(acme.rep, "transfer_records")
    assert client_as(acme.rep).post(f"/settings/access/permission-sets/{exporters.pk}/delete/").status_code == 404
    response = client_as(acme.admin).post(f"/settings/access/permission-sets/{exporters.pk}/delete/")
    assert response.status_code == 302
    with tenant_context(acme.tenant):
        assert not MemberPermissionSet.objects.filter(membership=acme.rep).exists()
        engine.forget(acme.rep)
        assert not engine.can(acme.rep, "transfer_records")


# --- a member's access -------------------------------------------------------------------------------


def test_the_member_page_changes_profile_and_role_and_shows_the_effect(acme, client_as):
    profiles = _profiles(acme)
    with tenant_context(acme.tenant):
        services.permission_set_save(actor=acme.admin, permission_set=profiles["agent"], name="Service agent",
                                     fields={("accounts", "annual_revenue"): "hidden"})
        role = services.role_create(actor=acme.admin, name="Service desk")
    client = client_as(acme.admin)
    response = client.post(f"/settings/access/members/{acme.rep.pk}/", {
        "profile": str(profiles["agent"].pk), "role": str(role.pk)})
    assert response.status_code == 302
    with tenant_context(acme.tenant):
        assignment = RoleAssignment.objects.get(membership=acme.rep)
        assert (assignment.profile_id, assignment.role_id) == (profiles["agent"].pk, role.pk)
        engine.forget(acme.rep)
        assert not engine.can(acme.rep, "delete", "accounts")
    page = client.get(f"/settings/access/members/{acme.rep.pk}/").content.decode()
    summary = page[page.index('data-testid="effective-access"'):]
    assert "Accounts: hidden</dt><dd>Annual revenue" in summary
    assert "Create, Read, Edit</td>" in summary  # no delete for an agent
    assert _events(acme, "member.access")


def test_an_admin_cannot_take_their_own_user_management_away(acme, client_as):
    rep_profile = _profiles(acme)["rep"]
    response = client_as(acme.admin).post(f"/settings/access/members/{acme.admin.pk}/",
                                          {"profile": str(rep_profile.pk), "role": ""})
    assert response.status_code == 400
    assert "You cannot take away your own right to manage users." in response.content.decode()
    with tenant_context(acme.tenant):
        assert RoleAssignment.objects.get(membership=acme.admin).profile.system_key == "admin"


def test_the_member_page_refuses_junk(acme, client_as):
    client = client_as(acme.admin)
    response = client.post(f"/settings/access/members/{acme.rep.pk}/", {"profile": "junk", "permission_sets": ["x"]})
    assert response.status_code == 400
    with tenant_context(acme.tenant):
        assert RoleAssignment.objects.get(membership=acme.rep).profile.system_key == "rep"
    # a permission set is not a profile
    with tenant_context(acme.tenant):
        a_set = services.permission_set_save(actor=acme.admin, name="Extra")
    assert client.post(f"/settings/access/members/{acme.rep.pk}/", {"profile": str(a_set.pk)}).status_code == 400


def test_the_roles_page_links_each_holder_to_their_access_page(acme, client_as):
    with tenant_context(acme.tenant):
        ceo = services.role_create(actor=acme.admin, name="CEO")
        services.assign(actor=acme.admin, membership=acme.manager, role=ceo)
    page = client_as(acme.admin).get("/settings/access/roles/").content.decode()
    assert f'href="/settings/access/members/{acme.manager.pk}/"' in page


# --- public groups -----------------------------------------------------------------------------------


def test_a_group_made_on_the_page_puts_its_people_in_it(acme, client_as):
    with tenant_context(acme.tenant):
        role = services.role_create(actor=acme.admin, name="Support")
        services.assign(actor=acme.admin, membership=acme.agent, role=role)
    client = client_as(acme.admin)
    response = client.post("/settings/access/groups/new/", {"name": "Key accounts", "users": [str(acme.rep2.pk)],
                                                            "roles": [str(role.pk)]})
    assert response.status_code == 302
    with tenant_context(acme.tenant):
        group = Group.objects.get(tenant=acme.tenant, name="Key accounts")
        assert set(GroupUser.objects.filter(group=group).values_list("membership_id", flat=True)) == \
            {acme.rep2.pk, acme.agent.pk}
    page = client.get("/settings/access/groups/").content.decode()
    row = page[page.index(">Key accounts</a>"):]
    assert row.index('<td class="num">2</td>') < row.index("</tr>")
    assert "2 people are in this group" in client.get(f"/settings/access/groups/{group.pk}/").content.decode()
    # a group inside another: the outer group counts the inner one's people
    response = client.post("/settings/access/groups/new/", {"name": "Everyone key", "groups": [str(group.pk)],
                                                            "users": [str(acme.manager.pk)]})
    assert response.status_code == 302
    with tenant_context(acme.tenant):
        outer = Group.objects.get(tenant=acme.tenant, name="Everyone key")
        assert GroupUser.objects.filter(group=outer).count() == 3
    assert _events(acme, "group.created")


def test_a_group_cannot_contain_itself_and_nothing_changes(acme, client_as):
    inner = _group(acme, "Inner", [("user", acme.rep)])
    outer = _group(acme, "Outer", [("group", inner)])
    response = client_as(acme.admin).post(f"/settings/access/groups/{inner.pk}/",
                                          {"name": "Inner renamed", "groups": [str(outer.pk)]})
    assert response.status_code == 400
    assert "groups cannot contain themselves" in response.content.decode()
    with tenant_context(acme.tenant):
        inner.refresh_from_db()
        assert inner.name == "Inner"
        assert list(GroupMember.objects.filter(group=inner).values_list("membership_id", flat=True)) == [acme.rep.pk]


def test_an_empty_or_taken_group_name_is_a_form_error(acme, client_as):
    _group(acme, "Key accounts", [])
    client = client_as(acme.admin)
    assert client.post("/settings/access/groups/new/", {"name": ""}).status_code == 400
    response = client.post("/settings/access/groups/new/", {"name": "key ACCOUNTS"})
    assert response.status_code == 400
    assert "There is already a group called" in response.content.decode()


def test_a_group_a_rule_uses_cannot_be_deleted(acme, client_as):
    group = _group(acme, "Key accounts", [("user", acme.rep2)])
    with tenant_context(acme.tenant):
        rule = services.rule_save(actor=acme.admin, object="accounts", name="All manufacturing", kind="criteria",
                                  target_group=group, criteria=[{"field": "industry", "op": "eq",
                                                                  "value": "manufacturing"}])
    client = client_as(acme.admin)
    page = client.get("/settings/access/groups/").content.decode()
    row = page[page.index(">Key accounts</a>"):]
    assert row[:row.index("</tr>")].count('<td class="num">1</td>') == 3  # one member, one person, one rule
    response = client.post(f"/settings/access/groups/{group.pk}/delete/", follow=True)
    assert "Sharing rules use this group: change or delete them first." in response.content.decode()
    client.post(f"/settings/access/sharing-rules/{rule.pk}/delete/")
    client.post(f"/settings/access/groups/{group.pk}/delete/")
    with tenant_context(acme.tenant):
        assert not Group.objects.filter(pk=group.pk).exists()
    assert _events(acme, "rule.deleted") and _events(acme, "group.deleted")


# --- sharing rules -----------------------------------------------------------------------------------


def _visible_names(company, member):
    with tenant_context(company.tenant):
        engine.forget(member)
        return set(policy.visible(Account.objects.all(), member).values_list("name", flat=True))


def test_a_criteria_rule_made_on_the_page_lets_rep2_see_reps_account(acme, client_as):
    group = _group(acme, "Key accounts", [("user", acme.rep2)])
    with tenant_context(acme.tenant):
        Account.objects.create(tenant=acme.tenant, name="Steelworks", owner=acme.rep, industry="manufacturing")
        Account.objects.create(tenant=acme.tenant, name="Bank", owner=acme.rep, industry="finance")
    assert "Steelworks" not in _visible_names(acme, acme.rep2)
    client = client_as(acme.admin)
    response = client.post("/settings/access/sharing-rules/new/", {
        "object": "accounts", "name": "Manufacturing to key accounts", "kind": "criteria", "criteria-count": "1",
        "c-0-field": "industry", "c-0-op": "eq", "c-0-value": "Manufacturing",  # the label means the value
        "target_group": str(group.pk), "access": "1"})
    assert response.status_code == 302
    assert _visible_names(acme, acme.rep2) == {"Steelworks"}
    with tenant_context(acme.tenant):
        rule = SharingRule.objects.get(tenant=acme.tenant)
        assert rule.criteria == [{"field": "industry", "op": "eq", "value": "manufacturing"}]
        engine.forget(acme.rep2)
        steelworks = Account.objects.get(name="Steelworks")
        assert not engine.can(acme.rep2, "edit", steelworks)  # read only
    page = client.get("/settings/access/sharing-rules/").content.decode()
    assert "Industry equals Manufacturing" in page and "Key accounts" in page and "Read only" in page
    assert _events(acme, "rule.created")


def test_an_owner_rule_shares_a_roles_records_with_a_group(acme, client_as):
    with tenant_context(acme.tenant):
        role = services.role_create(actor=acme.admin, name="Field sales")
        services.assign(actor=acme.admin, membership=acme.rep, role=role)
        source = services.role_group(role, subordinates=True)
        Account.objects.create(tenant=acme.tenant, name="Rep's shop", owner=acme.rep)
    target = _group(acme, "Reviewers", [("user", acme.agent)])
    client = client_as(acme.admin)
    form = client.get("/settings/access/sharing-rules/new/").content.decode()
    assert "Role and subordinates: Field sales" in form and "Role: Field sales" in form
    response = client.post("/settings/access/sharing-rules/new/", {
        "object": "accounts", "name": "Field sales to reviewers", "kind": "owner", "criteria-count": "1",
        "source_group": str(source.pk), "target_group": str(target.pk), "access": "2"})
    assert response.status_code == 302
    assert "Rep's shop" in _visible_names(acme, acme.agent)
    page = client.get("/settings/access/sharing-rules/").content.decode()
    assert "Owned by Role and subordinates: Field sales" in page and "Read/write" in page


def test_bad_criteria_rerender_with_errors_and_save_nothing(acme, client_as):
    group = _group(acme, "Key accounts", [("user", acme.rep2)])
    client = client_as(acme.admin)
    response = client.post("/settings/access/sharing-rules/new/", {
        "object": "accounts", "name": "Broken", "kind": "criteria", "criteria-count": "2",
        "c-0-field": "industry", "c-0-op": "eq", "c-0-value": "Shipbuilding",
        "c-1-field": "employees", "c-1-op": "gte", "c-1-value": "many",
        "target_group": str(group.pk), "access": "1"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Condition 1: “Shipbuilding” is not one of" in page
    assert "Condition 2: “many” is not a valid" in page
    assert 'value="many"' in page  # what was typed stays
    # no condition at all, no target group
    response = client.post("/settings/access/sharing-rules/new/", {
        "object": "accounts", "name": "Empty", "kind": "criteria", "criteria-count": "1", "c-0-field": "",
        "access": "1"})
    assert response.status_code == 400
    assert "Add at least one condition." in response.content.decode()
    # an owner rule without whose records
    response = client.post("/settings/access/sharing-rules/new/", {
        "object": "accounts", "name": "Owner", "kind": "owner", "target_group": str(group.pk), "access": "1"})
    assert response.status_code == 400
    assert "Choose whose records to share." in response.content.decode()
    with tenant_context(acme.tenant):
        assert not SharingRule.objects.exists()
    assert not _events(acme, "rule.created")


def test_adding_and_removing_condition_rows_saves_nothing(acme, client_as):
    client = client_as(acme.admin)
    base = {"object": "accounts", "name": "Draft", "kind": "criteria", "criteria-count": "1",
            "c-0-field": "industry", "c-0-op": "eq", "c-0-value": "finance", "access": "1"}
    response = client.post("/settings/access/sharing-rules/new/", {**base, "add_condition": "1"})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="c-1-field"' in page and 'value="finance"' in page and 'value="Draft"' in page
    response = client.post("/settings/access/sharing-rules/new/", {**base, "criteria-count": "2",
                                                                   "remove_condition": "0"})
    page = response.content.decode()
    assert 'name="c-1-field"' not in page and 'value="finance"' not in page
    with tenant_context(acme.tenant):
        assert not SharingRule.objects.exists()


def test_editing_a_rule_keeps_its_conditions_and_changes_them(acme, client_as):
    group = _group(acme, "Key accounts", [("user", acme.rep2)])
    with tenant_context(acme.tenant):
        Account.objects.create(tenant=acme.tenant, name="Bank", owner=acme.rep, industry="finance")
        rule = services.rule_save(actor=acme.admin, object="accounts", name="Manufacturing", kind="criteria",
                                  target_group=group, criteria=[{"field": "industry", "op": "eq",
                                                                  "value": "manufacturing"}])
    client = client_as(acme.admin)
    page = client.get(f"/settings/access/sharing-rules/{rule.pk}/").content.decode()
    assert 'value="Manufacturing"' in page
    response = client.post(f"/settings/access/sharing-rules/{rule.pk}/", {
        "object": "accounts", "name": "Money", "kind": "criteria", "criteria-count": "1",
        "c-0-field": "industry", "c-0-op": "in", "c-0-value": "Financial services, manufacturing",
        "target_group": str(group.pk), "access": "1"})
    assert response.status_code == 302
    assert "Bank" in _visible_names(acme, acme.rep2)
    assert _events(acme, "rule.changed")


def test_a_condition_on_the_owner_takes_and_shows_an_email(acme, client_as):
    group = _group(acme, "Key accounts", [("user", acme.rep2)])
    with tenant_context(acme.tenant):
        Account.objects.create(tenant=acme.tenant, name="Rep's shop", owner=acme.rep)
    client = client_as(acme.admin)
    response = client.post("/settings/access/sharing-rules/new/", {
        "object": "accounts", "name": "Rep's book", "kind": "criteria", "criteria-count": "1",
        "c-0-field": "owner", "c-0-op": "eq", "c-0-value": "REP@acme.example",
        "target_group": str(group.pk), "access": "1"})
    assert response.status_code == 302
    assert "Rep's shop" in _visible_names(acme, acme.rep2)
    with tenant_context(acme.tenant):
        rule = SharingRule.objects.get(tenant=acme.tenant)
        assert rule.criteria[0]["value"] == str(acme.rep.pk)
    assert "Owner equals rep@acme.example" in client.get("/settings/access/sharing-rules/").content.decode()
    assert 'value="rep@acme.example"' in client.get(f"/settings/access/sharing-rules/{rule.pk}/").content.decode()
    # somebody who does not work here is an error on the condition
    response = client.post("/settings/access/sharing-rules/new/", {
        "object": "accounts", "name": "Nobody's", "kind": "criteria", "criteria-count": "1",
        "c-0-field": "owner", "c-0-op": "eq", "c-0-value": "stranger@example.com",
        "target_group": str(group.pk), "access": "1"})
    assert response.status_code == 400
    assert "Condition 1:" in response.content.decode()


def test_a_calculating_rule_shows_progress_and_the_list_keeps_polling(acme, client_as):
    group = _group(acme, "Key accounts", [("user", acme.rep2)])
    with tenant_context(acme.tenant):
        rule = services.rule_save(actor=acme.admin, object="accounts", name="Big one", kind="criteria",
                                  target_group=group, criteria=[{"field": "industry", "op": "eq",
                                                                  "value": "manufacturing"}])
        SharingRule.objects.filter(pk=rule.pk).update(status="calculating", progress=40)
    client = client_as(acme.admin)
    page = client.get("/settings/access/sharing-rules/").content.decode()
    assert 'hx-trigger="every 2s"' in page
    assert '<progress class="progress" value="40" max="100"' in page
    partial = client.get("/settings/access/sharing-rules/", HTTP_HX_REQUEST="true").content.decode()
    assert partial.lstrip().startswith('<div class="stack" id="rules-list"') and "<html" not in partial
    with tenant_context(acme.tenant):
        SharingRule.objects.filter(pk=rule.pk).update(status="active", progress=100)
    assert 'hx-trigger="every 2s"' not in client.get("/settings/access/sharing-rules/").content.decode()


def test_a_rep_cannot_post_rules_or_groups(acme, client_as):
    client = client_as(acme.rep)
    assert client.post("/settings/access/groups/new/", {"name": "Mine"}).status_code == 404
    assert client.post("/settings/access/sharing-rules/new/", {"name": "Mine"}).status_code == 404
    assert client.post(f"/settings/access/members/{acme.rep.pk}/", {"profile": ""}).status_code == 404
    with tenant_context(acme.tenant):
        assert not Group.objects.filter(kind="public").exists()
