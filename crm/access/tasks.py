"""Access recalculations too large for the request that caused them.

`calculate_rule`: a criteria rule over more than maintenance.INLINE_RULE_ROWS records. The rule was
saved as `calculating` (it grants nothing); this job writes all its share rows and marks it active
in ONE transaction (TenantTask), so there is never a moment with part of its access applied and
never more access than configured. Progress shown to the admin: the job writes the rows in steps
and puts the percentage in the tenant cache after each (the rules page polls it); the rule row
turns active at commit; an interrupted job leaves the rule calculating and is safe to run again
(acks_late: a redelivered job rewrites the same rows). Records written while it runs are noted
in RuleBacklog by the table trigger and re-evaluated at the switch (see calculate_rule).
"""

from __future__ import annotations

from django.db import connection, transaction

from crm.celery import TenantTask, app

from . import maintenance, registry
from .models import RuleBacklog, SharingRule


@app.task(base=TenantTask, bind=True, name="crm.access.tasks.calculate_rule")
def calculate_rule(self, *, tenant_id: str, rule_id: str) -> int:
    rule = SharingRule.objects.filter(tenant_id=tenant_id, pk=rule_id).first()
    if rule is None or rule.kind != SharingRule.Kind.CRITERIA:
        return 0
    from crm.tenancy.cache import tenant_cache

    key = maintenance.rule_progress_key(rule.pk)
    rule.status = SharingRule.Status.ACTIVE
    # the rule list reads the progress from the cache (the rule row itself changes only at commit)
    written = maintenance.apply_rule_in_steps(rule, lambda percent: tenant_cache.set(key, percent, 3600))
    # Records written while the rows above were computed were judged (by the snapshot) on values
    # that may since have changed; the table trigger noted them in the backlog. Hold writers of the
    # table off for the moment of the switch (SHARE mode waits for the writers in flight, so their
    # notes are in), re-evaluate just those records, and switch the rule on in the same commit:
    # from then on the trigger keeps the rule's rows itself.
    table = registry.get(rule.object).table
    with connection.cursor() as cursor:
        cursor.execute(f'LOCK TABLE "{table}" IN SHARE MODE')
    backlog = RuleBacklog.objects.filter(tenant_id=tenant_id, rule=rule)
    maintenance.apply_rule(rule, set(backlog.values_list("record_id", flat=True)))
    backlog.delete()
    rule.progress = 100
    rule.save(update_fields=["status", "progress", "updated_at"])
    tenant_cache.set(key, 100, 60)  # read only while the row says calculating: until this commit
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
