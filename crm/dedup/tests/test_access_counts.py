"""The merge page counts what moves with the records as the merger sees it: a colleague's private
activity about one of the contacts is not counted (a count would tell it exists), yet it follows the
surviving contact like every other row."""

from __future__ import annotations

import pytest

from contacts.models import Activity
from crm.access import services as access_services
from crm.access.models import Default
from crm.dedup import selectors, services

from .makers import call, contact

pytestmark = pytest.mark.django_db


def test_the_merge_preview_counts_only_visible_activities_and_the_merge_moves_all(acme, in_tenant):
    with in_tenant(acme):
        access_services.org_default_set(actor=acme.admin, object="activities", access=Default.PRIVATE)
        keep = contact(acme.rep, "Lee", "Ann", emails=["ann@initech.example"])
        twin = contact(acme.rep, "Lee", "Anne", emails=["ann@initech.example"])
        call(acme.rep, "Mine", contact=twin)
        hidden = Activity.objects.create(tenant=acme.tenant, owner=acme.rep2, kind="note", subject="Theirs",
                                         contact=twin, occurred_at=twin.created_at)
        preview = selectors.merge_preview(actor=acme.rep, object_label="contacts", ids=[keep.pk, twin.pk],
                                          master_id=keep.pk)
        activities = next(r for r in preview.relations if r["label"] == "Activities")
        assert activities["moves"] == 1
        admin_view = selectors.merge_preview(actor=acme.admin, object_label="contacts", ids=[keep.pk, twin.pk],
                                             master_id=keep.pk)
        assert next(r for r in admin_view.relations if r["label"] == "Activities")["moves"] == 2

        services.records_merge(actor=acme.rep, object_label="contacts", master=keep.pk, losers=[twin.pk])
        hidden.refresh_from_db()
        assert hidden.contact_id == keep.pk
