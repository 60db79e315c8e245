"""Task E: Settings → Access pages (roles, organisation-wide defaults)."""

from __future__ import annotations

import pytest

from crm.access.models import OrgDefault, RoleAssignment, UserRole
from crm.audit.models import SecurityEvent
from crm.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db


def _role(company, name, parent=None):
    from crm.access import services

    with tenant_context(company.tenant):
        return services.role_create(actor=company.admin, name=name, parent=parent)


def _roles(company):
    with tenant_context(company.tenant):
        return {r.name: r for r in UserRole.objects.filter(tenant=company.tenant)}


def _events(company, change):
    with tenant_context(company.tenant):
        return [e for e in SecurityEvent.objects.filter(tenant=company.tenant, kind="access.changed")
                if e.detail.get("change") == change]


PAGES = ["/settings/access/roles/", "/settings/access/defaults/"]


@pytest.mark.parametrize("url", PAGES)
def test_pages_render_for_admin_and_404_for_rep(acme, client_as, url):
    assert client_as(acme.admin).get(url).status_code == 200
    assert client_as(acme.rep).get(url).status_code == 404


def test_rep_cannot_change_roles_or_defaults(acme, client_as):
    client = client_as(acme.rep)
    assert client.post("/settings/access/roles/new/", {"name": "Sneaky"}).status_code == 404
    assert client.post("/settings/access/defaults/", {"accounts-access": "edit"}).status_code == 404
    assert "Sneaky" not in _roles(acme)


def test_admin_builds_a_tree_and_sees_it(acme, client_as):
    client = client_as(acme.admin)
    before = client.get("/settings/access/roles/").content.decode().count('data-testid="role-node"')
    response = client.post("/settings/access/roles/new/", {"name": "CEO"})
    assert response.status_code == 302
    ceo = _roles(acme)["CEO"]
    client.post("/settings/access/roles/new/", {"name": "Sales VP", "parent": str(ceo.pk)})
    vp = _roles(acme)["Sales VP"]
    assert vp.parent_id == ceo.pk
    page = client.get("/settings/access/roles/").content.decode()
    # the child is rendered inside its parent's node
    assert page.count('data-testid="role-node"') == before + 2
    # the child is rendered inside its parent's node (a nested list after the parent's name)
    ceo_node = page[page.index('<span class="role-name">CEO</span>'):]
    assert ceo_node.index('class="role-tree"') < ceo_node.index("Sales VP") < ceo_node.index("</details>")
    assert len(_events(acme, "role.created")) == 2


def test_duplicate_or_empty_name_is_a_form_error(acme, client_as):
    _role(acme, "CEO")
    count = len(_roles(acme))
    client = client_as(acme.admin)
    response = client.post("/settings/access/roles/new/", {"name": "ceo"})
    assert response.status_code == 400
    assert "There is already a role called" in response.content.decode()
    response = client.post("/settings/access/roles/new/", {"name": "", "parent": "not-a-uuid"})
    assert response.status_code == 400
    assert len(_roles(acme)) == count


def test_move_under_own_child_is_refused(acme, client_as):
    ceo = _role(acme, "CEO")
    vp = _role(acme, "VP", ceo)
    client = client_as(acme.admin)
    response = client.post(f"/settings/access/roles/{ceo.pk}/", {"name": "Boss", "parent": str(vp.pk)})
    assert response.status_code == 400
    assert "cannot report to itself or to a role below it" in response.content.decode()
    assert _roles(acme)["CEO"].parent_id is None
    # nothing half-done: the role's groups keep its name too
    from crm.access.models import Group

    with tenant_context(acme.tenant):
        assert set(Group.objects.filter(tenant=acme.tenant, role=ceo).values_list("name", flat=True)) == {"CEO"}


def test_rename_and_move(acme, client_as):
    ceo = _role(acme, "CEO")
    vp = _role(acme, "VP", ceo)
    other = _role(acme, "COO", ceo)
    client = client_as(acme.admin)
    response = client.post(f"/settings/access/roles/{vp.pk}/", {"name": "Sales VP", "parent": str(other.pk)})
    assert response.status_code == 302
    moved = _roles(acme)["Sales VP"]
    assert moved.parent_id == other.pk
    assert _events(acme, "role.moved")


def test_delete_in_use_is_refused_with_the_reason(acme, client_as):
    ceo = _role(acme, "CEO")
    _role(acme, "VP", ceo)
    client = client_as(acme.admin)
    response = client.post(f"/settings/access/roles/{ceo.pk}/delete/", follow=True)
    assert "Move or delete the roles below this one first." in response.content.decode()
    assert "CEO" in _roles(acme)
    vp = _roles(acme)["VP"]
    client.post(f"/settings/access/roles/{vp.pk}/delete/")
    assert "VP" not in _roles(acme)
    assert _events(acme, "role.deleted")


def test_assign_a_member_role_shows_as_holder(acme, client_as):
    ceo = _role(acme, "CEO")
    client = client_as(acme.admin)
    response = client.post("/settings/access/roles/assign/", {"member": str(acme.manager.pk), "role": str(ceo.pk)})
    assert response.status_code == 302
    with tenant_context(acme.tenant):
        assert RoleAssignment.objects.get(membership=acme.manager).role_id == ceo.pk
    assert acme.manager.user.full_name in client.get("/settings/access/roles/").content.decode()
    # junk: a form error, nothing changes
    response = client.post("/settings/access/roles/assign/", {"member": "junk", "role": str(ceo.pk)})
    assert response.status_code == 400


def test_globex_gets_404_for_acme_roles(acme, globex, client_as):
    ceo = _role(acme, "CEO")
    client = client_as(globex.admin)
    assert client.get(f"/settings/access/roles/{ceo.pk}/").status_code == 404
    assert client.post(f"/settings/access/roles/{ceo.pk}/delete/").status_code == 404
    # an Acme role as parent or member is not a valid choice in Globex
    assert client.post("/settings/access/roles/new/", {"name": "X", "parent": str(ceo.pk)}).status_code == 400
    assert client.post("/settings/access/roles/assign/",
                       {"member": str(acme.rep.pk), "role": ""}).status_code == 400
    assert "CEO" in _roles(acme)


def test_defaults_change_lands_and_is_logged(acme, client_as):
    client = client_as(acme.admin)
    response = client.post("/settings/access/defaults/", {"accounts-access": "read", "accounts-hierarchy_edit": "on"})
    assert response.status_code == 302
    with tenant_context(acme.tenant):
        row = OrgDefault.objects.get(tenant=acme.tenant, object="accounts")
    assert row.access == "read" and row.hierarchy_edit
    assert _events(acme, "default.changed")
    page = client.get("/settings/access/defaults/").content.decode()
    assert '<option value="read" selected>' in page


def test_defaults_bad_input_changes_nothing(acme, client_as):
    client = client_as(acme.admin)
    response = client.post("/settings/access/defaults/", {"accounts-access": "edit", "accounts-hierarchy_edit": "on",
                                                          "contacts-access": "bogus"})
    assert response.status_code == 400
    assert "Nothing was saved" in response.content.decode()
    with tenant_context(acme.tenant):
        assert not OrgDefault.objects.filter(tenant=acme.tenant, object="accounts", access="edit").exists()


def test_parent_option_only_for_objects_with_parents(acme, client_as):
    from crm.access import registry

    page = client_as(acme.admin).get("/settings/access/defaults/").content.decode()
    without_parent = [o for o in registry.objects() if not o.parents]
    with_parent = [o for o in registry.objects() if o.parents]
    for o in without_parent:
        select = page.split(f'name="{o.key}-access"')[1].split("</select>")[0]
        assert 'value="parent"' not in select
    for o in with_parent:
        select = page.split(f'name="{o.key}-access"')[1].split("</select>")[0]
        assert 'value="parent"' in select


def test_roles_page_queries_do_not_grow_with_the_tree(acme, client_as, django_assert_max_num_queries):
    client = client_as(acme.admin)
    client.get("/settings/access/roles/")  # warm the session and caches
    with django_assert_max_num_queries(30) as small:
        client.get("/settings/access/roles/")
    parent = None
    for i in range(15):
        parent = _role(acme, f"Level {i}", parent)
    with django_assert_max_num_queries(len(small.captured_queries)):
        page = client.get("/settings/access/roles/")
    assert "Level 14" in page.content.decode()
