"""The change history of tenant data, as the people of a company would see and rely on it."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.db import connection, transaction
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.utils.html import strip_tags

from crm.audit import history
from crm.audit.history import history_for, history_source
from crm.audit.middleware import HistoryContextMiddleware
from crm.celery import TenantTask, app
from crm.tenancy import services
from crm.tenancy.context import tenant_context
from crm.tenancy.models import ApiToken, Membership, Role

pytestmark = pytest.mark.django_db


def promote_rep_as_admin(company, role=Role.MANAGER):
    with tenant_context(company.tenant), history_source("page", actor=company.admin):
        services.membership_change_role(actor=company.admin, membership=company.rep, role=role)


def history_of(record, actor):
    with tenant_context(actor.tenant):
        return history_for(record, actor=actor)


def changes(entry) -> list[tuple[str, str, str]]:
    return [(c.label, c.before_display, c.after_display) for c in entry.changes]


def sentence(html: str) -> str:
    return " ".join(strip_tags(html).split())


# --- What is recorded ---------------------------------------------------------------------------


def test_a_role_change_records_who_changed_it_from_what_to_what_and_through_what(acme):
    promote_rep_as_admin(acme)

    latest, *older = history_of(acme.rep, acme.manager)
    assert latest.action == "changed"
    assert changes(latest) == [("Role", "Sales rep", "Sales manager")]
    assert (latest.actor_name, latest.actor_email, latest.source) == ("Acme Admin", "admin@acme.example", "page")
    assert latest.actor_membership_id == str(acme.admin.pk)
    assert [e.action for e in older] == ["created"]


def test_removing_a_member_is_recorded_with_what_they_were(acme):
    rep2 = acme.rep2
    with tenant_context(acme.tenant), history_source("command", actor=acme.admin, command="offboard"):
        Membership.objects.get(pk=rep2.pk).delete()

    deleted, *_ = history_of(rep2, acme.admin)
    assert (deleted.action, deleted.source, deleted.actor_name) == ("deleted", "command", "Acme Admin")
    with tenant_context(acme.tenant), connection.cursor() as cursor:
        cursor.execute("SELECT role FROM tenancy_membershipevent WHERE pgh_obj_id = %s AND pgh_label = 'delete'",
                       [rep2.pk])
        assert cursor.fetchall() == [("rep",)]


def test_saving_without_a_change_adds_nothing_to_the_history(acme):
    before = len(history_of(acme.rep, acme.admin))
    with tenant_context(acme.tenant):
        Membership.objects.get(pk=acme.rep.pk).save()  # only updated_at moves
    assert len(history_of(acme.rep, acme.admin)) == before


def test_a_rolled_back_change_leaves_no_history(acme):
    before = history_of(acme.rep, acme.admin)
    with tenant_context(acme.tenant), pytest.raises(RuntimeError), transaction.atomic():
        services.membership_change_role(actor=acme.admin, membership=acme.rep, role=Role.AGENT)
        raise RuntimeError("the import failed half-way")
    after = history_of(acme.rep, acme.admin)
    assert [e.id for e in after] == [e.id for e in before]


def test_secrets_never_reach_history(acme):
    with tenant_context(acme.tenant):
        token, key = services.api_token_create(actor=acme.rep, name="CI deploys")
        services.api_token_revoke(actor=acme.rep, token=token)
        invitation, raw = services.invitation_create(actor=acme.admin, email="new.hire@acme.example", role=Role.REP)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT row_to_json(e)::text FROM tenancy_apitokenevent e WHERE pgh_obj_id = %s "
                "UNION ALL SELECT row_to_json(e)::text FROM tenancy_invitationevent e WHERE pgh_obj_id = %s",
                [token.pk, invitation.pk],
            )
            dump = "\n".join(row for (row,) in cursor.fetchall())
    assert "CI deploys" in dump and "new.hire@acme.example" in dump  # the events are there...
    secret = key.split("_", 2)[2]
    for value in (key, secret, token.key_hash, raw, invitation.token_hash):
        assert value not in dump  # ...without the secrets


def test_history_of_one_company_is_invisible_from_another_even_in_raw_sql(acme, globex):
    promote_rep_as_admin(acme)
    sql = "SELECT count(*) FROM tenancy_membershipevent WHERE pgh_obj_id = %s"
    with tenant_context(acme.tenant), connection.cursor() as cursor:
        cursor.execute(sql, [acme.rep.pk])
        assert cursor.fetchone()[0] == 2  # created, then changed
    with tenant_context(globex.tenant), connection.cursor() as cursor:
        cursor.execute(sql, [acme.rep.pk])
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT count(*) FROM tenancy_membershipevent WHERE tenant_id = %s", [acme.tenant.pk])
        assert cursor.fetchone()[0] == 0
    with tenant_context(globex.tenant), pytest.raises(PermissionDenied):
        history_for(acme.rep, actor=globex.admin)


def test_history_cannot_be_rewritten_by_the_application(acme):
    from django.db import DatabaseError

    promote_rep_as_admin(acme)
    with tenant_context(acme.tenant), pytest.raises(DatabaseError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("UPDATE tenancy_membershipevent SET pgh_context = NULL WHERE pgh_obj_id = %s",
                           [acme.rep.pk])


# --- Through what --------------------------------------------------------------------------------


def test_an_api_call_is_recorded_as_api_with_the_caller_and_using_a_token_is_not_a_change(acme, api):
    client = api.as_(acme.rep)
    [listed] = client.get("/api/v1/auth/tokens/").json()["results"]  # stamps last_used_at
    assert client.delete(f"/api/v1/auth/tokens/{listed['id']}/").status_code == 204

    with tenant_context(acme.tenant):
        token = ApiToken.objects.get(pk=listed["id"])
    entries = history_of(token, acme.rep)
    assert [e.action for e in entries] == ["changed", "created"]
    revoked = entries[0]
    assert (revoked.source, revoked.actor_email, revoked.method) == ("api", "rep@acme.example", "DELETE")
    assert revoked.url == f"/api/v1/auth/tokens/{listed['id']}/"
    assert [c.field for c in revoked.changes] == ["revoked_at"]


def test_a_page_request_is_recorded_as_page_and_secret_url_parts_are_masked(acme, rf):
    request = rf.post(f"/invite/{acme.tenant.pk}/s3cr3t-invitation-token/")
    request.user, request.membership = acme.admin.user, acme.admin

    def view(request):
        services.membership_change_role(actor=acme.admin, membership=acme.rep, role=Role.MANAGER)
        return HttpResponse()

    with tenant_context(acme.tenant):
        HistoryContextMiddleware(view)(request)
    latest = history_of(acme.rep, acme.admin)[0]
    assert (latest.source, latest.method, latest.actor_name) == ("page", "POST", "Acme Admin")
    assert latest.url == f"/invite/{acme.tenant.pk}/…/"


def test_an_import_inside_a_page_is_recorded_as_an_import_and_the_page_resumes_after(acme):
    with tenant_context(acme.tenant), history_source("page", actor=acme.admin):
        with history_source("import", file="team.csv"):
            services.membership_change_role(actor=acme.admin, membership=acme.rep, role=Role.MANAGER)
        services.membership_change_role(actor=acme.admin, membership=acme.rep, role=Role.AGENT)
    after_import, imported = history_of(acme.rep, acme.admin)[:2]
    assert (imported.source, imported.actor_name) == ("import", "Acme Admin")
    assert (after_import.source, after_import.actor_name) == ("page", "Acme Admin")


@app.task(base=TenantTask, name="crm.audit.tests.promote_to_manager")
def promote_to_manager(*, tenant_id, membership_id):
    Membership.objects.filter(tenant_id=tenant_id, pk=membership_id).update(role=Role.MANAGER)


def test_a_background_job_is_recorded_as_a_job_with_its_task_name(acme):
    promote_to_manager.apply(kwargs={"tenant_id": str(acme.tenant.pk), "membership_id": str(acme.rep.pk)}).get()

    latest = history_of(acme.rep, acme.admin)[0]
    assert changes(latest) == [("Role", "Sales rep", "Sales manager")]
    assert (latest.source, latest.task, latest.actor_name) == ("job", "crm.audit.tests.promote_to_manager", "")
    html = render_to_string("audit/history.html", {"entries": [latest]})
    assert "A background job changed Role from Sales rep to Sales manager" in sentence(html)


def test_a_change_typed_in_the_shell_is_recorded_as_made_from_the_shell(acme):
    call_command("shell", command=(
        "from crm.tenancy.context import tenant_context\n"
        "from crm.tenancy.models import Membership, Tenant\n"
        f"with tenant_context(Tenant.objects.get(pk='{acme.tenant.pk}')):\n"
        f"    Membership.objects.filter(pk='{acme.rep.pk}').update(role='agent')\n"
    ))
    latest = history_of(acme.rep, acme.admin)[0]
    assert (latest.source, changes(latest)) == ("shell", [("Role", "Sales rep", "Service agent")])


# --- Reading it ----------------------------------------------------------------------------------


def test_the_history_partial_reads_like_a_sentence(acme):
    promote_rep_as_admin(acme)
    html = render_to_string("audit/history.html", {"entries": history_of(acme.rep, acme.admin)})
    text = sentence(html)
    assert "AA Acme Admin changed Role from Sales rep to Sales manager · 0 minutes ago · page" in text
    assert "created this membership" in text


def test_a_record_without_history_shows_what_the_list_will_hold(acme):
    assert "No changes recorded yet" in sentence(render_to_string("audit/history.html", {"entries": []}))


def test_a_changed_manager_is_named_not_shown_as_an_id(acme):
    with tenant_context(acme.tenant), history_source("page", actor=acme.admin):
        rep = Membership.objects.get(pk=acme.rep.pk)
        rep.reports_to = acme.admin
        rep.save()
    assert changes(history_of(acme.rep, acme.admin)[0]) == [("Reports to", "Acme Manager", "Acme Admin")]


def test_fields_hidden_from_the_reader_are_left_out(acme, monkeypatch):
    promote_rep_as_admin(acme)
    with tenant_context(acme.tenant), history_source("page", actor=acme.admin):
        rep = Membership.objects.get(pk=acme.rep.pk)
        rep.reports_to = acme.admin
        rep.save()
    monkeypatch.setattr(history, "hidden_fields", lambda actor, model: {"role"} if actor.role == Role.REP else set())

    seen_by_rep = history_of(acme.rep, acme.rep2)
    assert [changes(e) for e in seen_by_rep if e.action == "changed"] == [[("Reports to", "Acme Manager", "Acme Admin")]]
    assert "role" not in {c.field for e in seen_by_rep for c in e.changes}
    assert len([e for e in history_of(acme.rep, acme.admin) if e.action == "changed"]) == 2


def test_reading_a_long_history_takes_as_few_queries_as_a_short_one(acme, django_assert_max_num_queries):
    with tenant_context(acme.tenant), history_source("page", actor=acme.admin):
        rep = Membership.objects.get(pk=acme.rep.pk)
        for i in range(20):
            rep.role = [Role.MANAGER, Role.REP][i % 2]
            rep.reports_to = [acme.admin, acme.manager][i % 2]
            rep.save()
        # one for the events, one for the managers named, one for the member's user
        with django_assert_max_num_queries(3):
            entries = history_for(rep, actor=acme.admin)
    assert len(entries) == 21


# --- The API ------------------------------------------------------------------------------------


def test_the_history_endpoint_lists_a_members_changes_newest_first(acme, api):
    promote_rep_as_admin(acme)
    response = api.as_(acme.manager).get(f"/api/v1/members/{acme.rep.pk}/history/")
    assert response.status_code == 200
    latest, created = response.json()["results"]
    assert latest["action"] == "changed" and latest["source"] == "page"
    assert latest["actor"]["name"] == "Acme Admin" and latest["actor"]["initials"] == "AA"
    assert latest["changes"] == [
        {"field": "role", "label": "Role", "before": "Sales rep", "after": "Sales manager", "before_known": True}
    ]
    assert created["action"] == "created"


def test_the_history_endpoint_pages_by_cursor(acme, api):
    promote_rep_as_admin(acme)
    client = api.as_(acme.manager)
    first = client.get(f"/api/v1/members/{acme.rep.pk}/history/?limit=1").json()
    assert [e["action"] for e in first["results"]] == ["changed"]
    rest = client.get(f"/api/v1/members/{acme.rep.pk}/history/", {"limit": 1, "before": first["next_cursor"]}).json()
    assert [e["action"] for e in rest["results"]] == ["created"] and rest["next_cursor"] is None
    bad = client.get(f"/api/v1/members/{acme.rep.pk}/history/", {"before": "not-a-cursor"})
    assert bad.status_code == 400


def test_the_history_of_another_companys_member_is_a_404(acme, globex, api):
    promote_rep_as_admin(acme)
    assert api.as_(globex.admin).get(f"/api/v1/members/{acme.rep.pk}/history/").status_code == 404


def test_the_history_endpoint_runs_a_fixed_number_of_queries(acme, api):
    client = api.as_(acme.manager)
    url = f"/api/v1/members/{acme.rep.pk}/history/"
    client.get(url)  # warm up: the token's last use is stamped once a minute
    with CaptureQueriesContext(connection) as short:
        assert client.get(url).status_code == 200
    with tenant_context(acme.tenant), history_source("page", actor=acme.admin):
        rep = Membership.objects.get(pk=acme.rep.pk)
        for i in range(15):
            rep.reports_to = [acme.admin, acme.manager][i % 2]
            rep.save()
    with CaptureQueriesContext(connection) as long:
        assert len(client.get(url).json()["results"]) == 16
    assert len(long.captured_queries) == len(short.captured_queries)


def test_members_are_listed_and_filtered_by_role(acme, api):
    client = api.as_(acme.rep)
    reps = client.get("/api/v1/members/", {"role": "rep"}).json()["results"]
    assert sorted(m["email"] for m in reps) == ["rep2@acme.example", "rep@acme.example"]
    assert {m["role_display"] for m in reps} == {"Sales rep"}
    everyone = client.get("/api/v1/members/").json()["results"]
    assert len(everyone) == 5
    assert client.get("/api/v1/members/", {"role": "emperor"}).status_code == 400


def test_the_member_list_shows_only_ones_own_company(acme, globex, api):
    emails = [m["email"] for m in api.as_(globex.rep).get("/api/v1/members/").json()["results"]]
    assert emails and all(e.endswith("@globex.example") for e in emails)
