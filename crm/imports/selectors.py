"""Reads of import jobs. Who sees a job follows the visibility engine with the uploader as the
owner: your own imports, your team's for a manager, all of the company's for an admin (an import
says what was loaded into the shared book, so whoever answers for those records may look). Only
the uploader changes or runs a job (services._require_own)."""

from __future__ import annotations

from crm.access import policy
from crm.tenancy.models import Membership

from .models import ImportJob

LIST_LIMIT = 50


def visible_jobs(*, actor: Membership):
    qs = ImportJob.objects.for_tenant(actor.tenant)
    return policy.visible(qs, actor, "read", owner_field="created_by")


def import_list(*, actor: Membership, mine: bool = False):
    qs = visible_jobs(actor=actor)
    if mine:
        qs = qs.filter(created_by=actor)
    return qs.select_related("created_by__user").order_by("-created_at", "-id")


def import_get(*, actor: Membership, pk) -> ImportJob | None:
    try:
        return visible_jobs(actor=actor).select_related("created_by__user").filter(pk=pk).first()
    except (ValueError, TypeError):
        return None
