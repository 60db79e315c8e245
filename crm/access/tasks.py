"""Access recalculations too large for the request that caused them.

`calculate_rule`: a criteria rule over more than maintenance.INLINE_RULE_ROWS records. The rule was
saved as `calculating` (it grants nothing); this job writes all its share rows and marks it active
in ONE transaction (TenantTask), so there is never a moment with part of its access applied and
never more access than configured. Progress shown to the admin is the rule's own `progress`
(0 → 100 at commit); an interrupted job leaves the rule calculating and is safe to run again
(acks_late: a redelivered job rewrites the same rows).
"""

from __future__ import annotations

from django.db import transaction

from crm.celery import TenantTask, app

from . import maintenance
from .models import SharingRule


@app.task(base=TenantTask, bind=True, name="crm.access.tasks.calculate_rule")
def calculate_rule(self, *, tenant_id: str, rule_id: str) -> int:
    rule = SharingRule.objects.filter(tenant_id=tenant_id, pk=rule_id).first()
    if rule is None or rule.kind != SharingRule.Kind.CRITERIA:
        return 0
    rule.status = SharingRule.Status.ACTIVE
    written = maintenance.apply_rule(rule)
    rule.progress = 100
    rule.save(update_fields=["status", "progress", "updated_at"])
    return written


@app.task(base=TenantTask, bind=True, name="crm.access.tasks.transfer_book")
def transfer_book(self, *, tenant_id: str, actor_id: str, from_id: str, to_ids: list[str], keep_shares: bool,
                  keep_teams: bool) -> dict:
    """Hand a book over (crm.access.transfer) in the job's one transaction; progress in the cache
    under transfer_progress_key(task id), read by the progress page."""
    from crm.tenancy.cache import tenant_cache
    from crm.tenancy.models import Membership

    from . import transfer

    members = Membership.objects.filter(tenant_id=tenant_id)
    actor = members.get(pk=actor_id)
    from_member = members.get(pk=from_id)
    by_id = {str(m.pk): m for m in members.filter(pk__in=to_ids)}
    to_members = [by_id[i] for i in to_ids if i in by_id]
    key = transfer.progress_key(self.request.id)
    tenant = actor.tenant

    def progress(done: int, total: int) -> None:
        tenant_cache.set(key, {"state": "running", "percent": int(100 * done / total)}, 3600)

    try:
        counts = transfer.transfer_book(actor=actor, from_member=from_member, to_members=to_members,
                                        keep_shares=keep_shares, keep_teams=keep_teams, progress=progress)
    except Exception as exc:
        tenant_cache.set(key, {"state": "failed", "error": str(exc)[:300]}, 3600)
        raise
    transaction.on_commit(lambda: tenant_cache.set(key, {"state": "done", "percent": 100, "counts": counts}, 3600,
                                                   tenant=tenant))
    return counts
