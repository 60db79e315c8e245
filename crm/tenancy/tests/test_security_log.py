from datetime import timedelta

import pytest
from django.utils import timezone

from crm.audit.models import SecurityEvent
from crm.audit.security import security_event
from crm.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db


def make_events(company, n, kind="login"):
    start = timezone.now() - timedelta(hours=1)
    with tenant_context(company.tenant):
        for i in range(n):
            event = security_event(company.tenant, kind, user=company.rep.user, detail={"i": i})
            # distinct times, and a few equal ones: the id breaks ties in the order
            SecurityEvent.objects.for_tenant(company.tenant).filter(pk=event.pk).update(
                created_at=start + timedelta(seconds=i // 2)
            )


def test_an_admin_reads_the_security_log_newest_first(client_as, acme):
    make_events(acme, 3)
    response = client_as(acme.admin).get("/settings/security-log/")
    assert response.status_code == 200
    made = [row["e"].detail["i"] for row in response.context["rows"] if "i" in row["e"].detail]
    assert made == [2, 1, 0]
    assert "Signed in" in response.content.decode()


def test_the_log_pages_by_keyset_without_gaps_or_repeats(client_as, acme):
    make_events(acme, 120)
    client = client_as(acme.admin)
    seen, url, pages = [], "/settings/security-log/?kind=login", 0
    while url:
        response = client.get(url)
        seen += [row["e"].pk for row in response.context["rows"]]
        url = response.context["next_url"]
        url = f"/settings/security-log/{url}" if url else None
        pages += 1
    with tenant_context(acme.tenant):
        expected = list(SecurityEvent.objects.for_tenant(acme.tenant).filter(kind="login")
                        .order_by("-created_at", "-id").values_list("pk", flat=True))
    assert seen == expected
    assert pages == 3


def test_the_log_filters_by_kind(client_as, acme):
    make_events(acme, 2, kind="token.created")
    make_events(acme, 2, kind="login.failed")
    response = client_as(acme.admin).get("/settings/security-log/?kind=token.created")
    assert {row["e"].kind for row in response.context["rows"]} == {"token.created"}
    assert len(response.context["rows"]) == 2


def test_a_garbled_cursor_shows_the_first_page(client_as, acme):
    make_events(acme, 1)
    response = client_as(acme.admin).get("/settings/security-log/?after=%%%garbage")
    assert response.status_code == 200
    assert response.context["rows"]


def test_the_log_shows_only_this_companys_events(client_as, acme, globex):
    make_events(globex, 3)
    response = client_as(acme.admin).get("/settings/security-log/")
    assert all(row["e"].tenant_id == acme.tenant.pk for row in response.context["rows"])
    assert "globex.example" not in response.content.decode()
