"""The nightly lists purge: recently viewed keeps what the view shows, expired trash goes, per tenant."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from crm.celery import app
from crm.lists import tasks
from crm.lists.models import RecentView, TrashBatch
from crm.lists.selectors import RECENT_LIMIT
from crm.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db


def views(company, person, object_key: str, n: int) -> list:
    """`n` visits of `person`, one a minute, the newest first; returns the record ids in that order."""
    from crm.tenancy.ids import new_id

    now = timezone.now()
    rows = [RecentView(tenant=company.tenant, membership=person, object=object_key, record_id=new_id(),
                       viewed_at=now - timedelta(minutes=i)) for i in range(n)]
    with tenant_context(company.tenant):
        RecentView.objects.bulk_create(rows)
    return [r.record_id for r in rows]


def kept(company, person, object_key: str) -> list:
    with tenant_context(company.tenant):
        return list(RecentView.objects.for_tenant(company.tenant).filter(membership=person, object=object_key)
                    .order_by("-viewed_at").values_list("record_id", flat=True))


def test_each_person_keeps_their_newest_recently_viewed_per_list(acme, client_as):
    accounts = views(acme, acme.rep, "accounts", RECENT_LIMIT + 3)
    contacts = views(acme, acme.rep, "contacts", 2)
    managers = views(acme, acme.manager, "accounts", 3)

    assert tasks.purge_tenant(tenant_id=str(acme.tenant.pk))["recent_views"] == 3

    assert kept(acme, acme.rep, "accounts") == accounts[:RECENT_LIMIT]  # the three oldest went
    assert kept(acme, acme.rep, "contacts") == contacts
    assert kept(acme, acme.manager, "accounts") == managers
    assert tasks.purge_tenant(tenant_id=str(acme.tenant.pk))["recent_views"] == 0  # a second run: nothing


def test_the_purge_of_one_company_leaves_another_alone(acme, globex):
    theirs = views(globex, globex.rep, "accounts", RECENT_LIMIT + 5)
    views(acme, acme.rep, "accounts", RECENT_LIMIT + 1)

    tasks.purge_tenant(tenant_id=str(acme.tenant.pk))

    assert len(kept(acme, acme.rep, "accounts")) == RECENT_LIMIT
    assert kept(globex, globex.rep, "accounts") == theirs


def test_trash_goes_a_day_after_undo_expired(acme):
    now = timezone.now()

    def batch(expires_at, summary):
        return TrashBatch.objects.create(tenant=acme.tenant, actor=acme.rep, object="accounts", count=1,
                                         summary=summary, snapshot={"rows": [], "updates": []}, expires_at=expires_at)

    with tenant_context(acme.tenant):
        batch(now + timedelta(minutes=30), "can be undone")
        batch(now - timedelta(hours=2), "too late, still explained")
        batch(now - timedelta(days=2), "dead copy")

    assert tasks.purge_tenant(tenant_id=str(acme.tenant.pk))["trash_batches"] == 1

    with tenant_context(acme.tenant):
        assert sorted(TrashBatch.objects.for_tenant(acme.tenant).values_list("summary", flat=True)) == \
            ["can be undone", "too late, still explained"]


def test_the_nightly_beat_entry_queues_one_purge_per_company(acme, globex, monkeypatch):
    assert app.conf.beat_schedule["lists-purge"]["task"] == tasks.purge_all_tenants.name
    queued = []
    monkeypatch.setattr(tasks.purge_tenant, "delay", lambda **kwargs: queued.append(kwargs))

    assert tasks.purge_all_tenants() == 2
    assert sorted(q["tenant_id"] for q in queued) == sorted([str(acme.tenant.pk), str(globex.tenant.pk)])
