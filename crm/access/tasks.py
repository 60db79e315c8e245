"""Access recalculations too large for the request that caused them.

`calculate_rule`: a criteria rule over more than maintenance.INLINE_RULE_ROWS records. The rule was
saved as `calculating` (it grants nothing); this job writes all its share rows and marks it active
in ONE transaction (TenantTask), so there is never a moment with part of its access applied and
never more access than configured. Progress shown to the admin is the rule's own `progress`
(0 → 100 at commit); an interrupted job leaves the rule calculating and is safe to run again
(acks_late: a redelivered job rewrites the same rows).
"""

from __future__ import annotations

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
