"""Kept for ever: every URL pattern and API route, discovered from the URLconf, is probed as a
user of tenant B (Globex) with tenant A's (Acme's) records. Another tenant's record is a 404
(never a 403, which would confirm it exists, never a 500), its rows stay as they were, and no
list, page or count shows any of it. A route added by a later issue is covered automatically."""

from __future__ import annotations

import pytest
from django.db import connection
from django.urls import NoReverseMatch, reverse

from crm.tenancy import rls
from crm.tenancy.context import tenant_context
from tests.isolation.populate import populate_every_tenant_table
from tests.isolation.urls import NOT_TENANT_DATA, discover, model_of, unnamed_routes

pytestmark = pytest.mark.django_db

ROUTES = discover()
RECORD_ROUTES = [r for r in ROUTES if r.id_params and r.name not in NOT_TENANT_DATA]
OTHER_ROUTES = [r for r in ROUTES if not r.id_params]
# Anything but these for another tenant's record is a leak or a crash. 405: the route has no
# such method, so nothing was looked up.
REFUSED = {404, 405}
# 5xx answers that are a route's honest reply, not a crash.
EXPECTED_5XX = {"healthz": {503}}  # a dependency (here: no Celery worker in this test) is down


def crashed(route, response) -> bool:
    return response.status_code >= 500 and response.status_code not in EXPECTED_5XX.get(route.name, set())


def tenant_rows(company) -> dict[str, dict]:
    """Every row of every tenant table of `company`: {table: {id: updated_at or None}}."""
    rows = {}
    with tenant_context(company.tenant), connection.cursor() as cursor:
        for model in rls.tenant_models():
            table = model._meta.db_table
            has_updated = any(f.column == "updated_at" for f in model._meta.concrete_fields)
            pk = model._meta.pk.column
            # explicit tenant filter: the own_memberships policy also shows the signed-in
            # user's rows of other tenants when app.user_id is still set in this transaction
            cursor.execute(
                f'SELECT "{pk}", {"updated_at" if has_updated else "NULL"} FROM "{table}" WHERE tenant_id = %s',
                [company.tenant.pk],
            )
            rows[table] = dict(cursor.fetchall())
    return rows


@pytest.fixture
def world(acme, globex, api, client):
    populate_every_tenant_table(acme)
    populate_every_tenant_table(globex)
    from crm.tenancy.middleware import SESSION_KEY

    client.force_login(globex.admin.user, backend="django.contrib.auth.backends.ModelBackend")
    session = client.session
    session[SESSION_KEY] = str(globex.tenant.pk)
    session.save()
    return {"acme": acme, "globex": globex, "page": client, "api": api.as_(globex.admin)}


def candidate_ids(route, acme) -> list:
    """Acme's records this route might serve: of its model when the view says, else of every table."""
    model = model_of(route)
    with tenant_context(acme.tenant):
        if model is not None and model in rls.tenant_models():
            ids = list(model.objects.for_tenant(acme.tenant).values_list("pk", flat=True)[:3])
            if ids:
                return ids
        ids = [acme.tenant.pk]
        for m in rls.tenant_models():
            ids += list(m.objects.for_tenant(acme.tenant).values_list("pk", flat=True)[:1])
    return ids


def build(route, value, other="zzzz-not-a-key") -> str | None:
    kwargs = {k: (value if v in ("uuid", "id") else other) for k, v in route.params.items()}
    try:
        return reverse(route.name, kwargs=kwargs)
    except NoReverseMatch:
        kwargs = {k: (str(value) if v in ("uuid", "id") else other) for k, v in route.params.items()}
        try:
            return reverse(route.name, kwargs=kwargs)
        except NoReverseMatch:
            return None


def test_the_harness_finds_the_routes_it_must_cover():
    names = {r.name for r in ROUTES}
    assert {"home", "api-me", "api-token-list", "api-token-detail"} <= names
    assert "api-token-detail" in {r.name for r in RECORD_ROUTES}


def test_every_route_has_a_name_so_the_harness_can_build_it():
    allowed_unnamed = ("static", "^(?P<path>")
    unnamed = [p for p in unnamed_routes() if not p.startswith(allowed_unnamed) and "format" not in p]
    assert unnamed == [], f"name these routes: {unnamed}"


@pytest.mark.parametrize("route", RECORD_ROUTES, ids=str)
def test_another_tenants_record_is_a_404_and_stays_untouched(world, route):
    acme = world["acme"]
    before = tenant_rows(acme)
    built = 0
    for record_id in candidate_ids(route, acme):
        url = build(route, record_id)
        if url is None:
            continue
        built += 1
        if route.is_api:
            client = world["api"]
            for method in ("get", "patch", "put", "delete"):
                response = getattr(client, method)(url, {}, format="json")
                assert response.status_code in REFUSED, f"{method.upper()} {url} -> {response.status_code}"
        else:
            client = world["page"]
            response = client.get(url)
            assert response.status_code in REFUSED | {302}, f"GET {url} -> {response.status_code}"
            if response.status_code == 302:
                # a redirect must not lead into the record (e.g. a login or MFA step is fine)
                assert str(record_id) not in response["Location"], f"GET {url} redirected into the record"
            response = client.post(url, {})
            assert response.status_code in REFUSED | {302}, f"POST {url} -> {response.status_code}"
    assert built, f"could not build {route.name} with an id: teach tests/isolation/urls.py its parameters"
    assert tenant_rows(acme) == before, f"{route.name} changed another tenant's rows"


def acme_markers(acme) -> list[str]:
    markers = ["@acme.example", str(acme.tenant.pk)]
    for table in tenant_rows(acme).values():
        markers += [str(pk) for pk in table]
    return markers


@pytest.mark.parametrize("route", OTHER_ROUTES, ids=str)
def test_no_page_or_list_shows_anything_of_another_tenant(world, route):
    url = build(route, None)
    if url is None:
        pytest.skip(f"{route.name} takes parameters the harness cannot build")
    markers = acme_markers(world["acme"])
    clients = [world["api"]] if route.is_api else [world["page"]]
    for client in clients:
        response = client.get(url)
        assert not crashed(route, response), f"GET {url} -> {response.status_code}"
        body = b"".join(response) if getattr(response, "streaming", False) else response.content
        text = body.decode(errors="replace")
        leaked = [m for m in markers if m in text]
        assert leaked == [], f"GET {url} shows another tenant's data: {leaked[:3]}"


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_no_route_crashes_on_junk_or_for_a_stranger(world, route, client):
    url = build(route, "00000000-0000-0000-0000-000000000000")
    if url is None:
        url = build(route, "not-an-id")
    if url is None:
        pytest.skip(f"{route.name} takes parameters the harness cannot build")
    from django.test import Client

    for who in (world["api"] if route.is_api else world["page"], Client()):
        for method in ("get", "post"):
            response = getattr(who, method)(url)
            assert not crashed(route, response), f"{method.upper()} {url} -> {response.status_code}"
