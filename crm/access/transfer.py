"""Handing a leaving rep's book over to one or more colleagues.

Apps register what moves from their AppConfig.ready(), so a later app (open opportunities, open
tickets) hands its records over without a change here:

    from crm.access.transfer import register_transfer
    register_transfer("contacts", follows="account")
    register_transfer("activities", follows="account", moves=lambda: Q(status="open", kind="task"))

- The root object ("accounts", `root=True`) is split evenly between the receivers: round robin in
  `order` (account name) order.
- An object that `follows` a foreign key to the root: its records owned by the leaver whose parent
  moved go to the parent's new owner; the rest go to the first receiver.
- `moves()` is the Q of the records that move at all (open activities, not done ones).

Everything runs in ONE transaction, one UPDATE statement per object and step (never a Python loop
over records). The audit layer's statement-level triggers record the history (source "page" or
"job", whatever the caller entered); the service writes one security-log entry with the counts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q

from crm.audit.security import security_event
from crm.tenancy.models import Membership

from . import policy, registry
from .models import Cause, Share, TeamMember


@dataclass(frozen=True)
class Transferable:
    key: str  # the object's key in crm.access.registry
    moves: Callable[[], Q] | None = None  # which of the leaver's records move (None: all)
    follows: str | None = None  # foreign key to the root object: the record follows its new owner
    root: bool = False
    order: str = "name_key"  # the root's round-robin order

    @property
    def secured(self) -> registry.Secured:
        return registry.get(self.key)

    @property
    def label(self) -> str:
        return self.secured.label

    def queryset(self, tenant_id, from_member_id):
        entry = self.secured
        qs = entry.model.objects.filter(tenant_id=tenant_id, **{f"{entry.owner_field}_id": from_member_id})
        return qs.filter(self.moves()) if self.moves is not None else qs


_TRANSFERS: dict[str, Transferable] = {}


def register_transfer(object_key: str, *, moves: Callable[[], Q] | None = None, follows: str | None = None,
                      root: bool = False, order: str = "name_key") -> Transferable:
    entry = Transferable(object_key, moves, follows, root, order)
    _TRANSFERS[object_key] = entry
    return entry


def transferables() -> list[Transferable]:
    """The root first, then the others in registration order."""
    return sorted(_TRANSFERS.values(), key=lambda t: not t.root)


# --- checks -----------------------------------------------------------------------------------------


def _check(actor: Membership, from_member: Membership, to_members: list[Membership]) -> None:
    policy.require(actor, "transfer_records")
    if from_member is None or from_member.tenant_id != actor.tenant_id:
        raise ValidationError({"from_member": "Choose whose records to hand over."})
    if not to_members:
        raise ValidationError({"to_members": "Choose at least one colleague to receive them."})
    seen = set()
    for member in to_members:
        if member.tenant_id != actor.tenant_id or not member.is_active:
            raise ValidationError({"to_members": "Receivers must be active colleagues."})
        if member.pk == from_member.pk:
            raise ValidationError({"to_members": "The leaver cannot receive their own records."})
        if member.pk in seen:
            raise ValidationError({"to_members": "Each colleague only once."})
        seen.add(member.pk)


# --- preview ----------------------------------------------------------------------------------------


def transfer_preview(actor: Membership, from_member: Membership, to_members: list[Membership],
                     options: dict | None = None) -> dict:
    """What would move: {object key: count, "shares": n, "teams": n}. Nothing changes."""
    _check(actor, from_member, to_members)
    counts = {t.key: t.queryset(actor.tenant_id, from_member.pk).count() for t in transferables()}
    counts["shares"] = _manual_shares(actor.tenant_id, from_member.pk).count()
    counts["teams"] = TeamMember.objects.filter(tenant_id=actor.tenant_id, membership_id=from_member.pk).count()
    return counts


def _manual_shares(tenant_id, member_id):
    return Share.objects.filter(tenant_id=tenant_id, cause=Cause.MANUAL).filter(
        Q(grantee=member_id) | Q(created_by_id=member_id))


# --- the transfer -----------------------------------------------------------------------------------


def _rows(sql: str, params: list) -> list:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def _selection(t: Transferable, tenant_id, from_id) -> tuple[str, list]:
    sql, params = t.queryset(tenant_id, from_id).values("id").query.sql_with_params()
    return sql, list(params)


@transaction.atomic
def transfer_book(*, actor: Membership, from_member: Membership, to_members: list[Membership],
                  keep_shares: bool = True, keep_teams: bool = True, progress=None) -> dict:
    """Hand `from_member`'s records over to `to_members`; returns the counts that moved.

    `progress(done, total)` is called after each step (the job's progress bar)."""
    _check(actor, from_member, to_members)
    tenant_id, from_id = actor.tenant_id, from_member.pk
    receivers = [m.pk for m in to_members]
    first = receivers[0]
    counts: dict[str, int] = {}
    moved_roots: list = []
    root_table = root_owner = None
    steps = transferables()
    total = len(steps) + 1
    for done, t in enumerate(steps, start=1):
        entry = t.secured
        table, owner = entry.table, entry.owner_column
        sel_sql, sel_params = _selection(t, tenant_id, from_id)
        ids: list = []
        if t.root:
            root_table, root_owner = table, owner
            order = entry.column(t.order)
            ids = _rows(
                f"UPDATE {table} r SET {owner} = (%s::uuid[])[(m.rn %% %s) + 1], updated_at = now() "
                f"FROM (SELECT s.id, row_number() OVER (ORDER BY s.{order}, s.id) - 1 AS rn "
                f"      FROM {table} s WHERE s.id IN ({sel_sql})) m "
                f"WHERE r.tenant_id = %s AND r.id = m.id RETURNING r.id",
                [receivers, len(receivers), *sel_params, tenant_id],
            )
            moved_roots = ids
        else:
            if t.follows and root_table and moved_roots:
                fk = entry.column(t.follows)
                ids = _rows(
                    f"UPDATE {table} c SET {owner} = p.{root_owner}, updated_at = now() "
                    f"FROM {root_table} p WHERE c.tenant_id = %s AND c.id IN ({sel_sql}) "
                    f"AND p.tenant_id = %s AND p.id = c.{fk} AND p.id = ANY(%s::uuid[]) RETURNING c.id",
                    [tenant_id, *sel_params, tenant_id, moved_roots],
                )
            # the rest (no parent, or a parent the leaver did not own) go to the first receiver
            ids += _rows(
                f"UPDATE {table} SET {owner} = %s, updated_at = now() WHERE tenant_id = %s AND id IN ({sel_sql}) "
                f"RETURNING id",
                [first, tenant_id, *sel_params],
            )
        counts[t.key] = len(ids)  # criteria rules that test the owner: the table's trigger (maintenance.py)
        if progress is not None:
            progress(done, total)
    counts["shares"] = _carry_shares(tenant_id, from_id, first, keep_shares)
    counts["teams"] = _carry_teams(tenant_id, from_id, first, keep_teams)
    if progress is not None:
        progress(total, total)
    security_event(actor.tenant, "access.changed", user=actor.user, detail={
        "change": "book.transferred", "from": from_member.user.email,
        "to": [m.user.email for m in to_members], "keep_shares": keep_shares, "keep_teams": keep_teams,
        "counts": counts,
    })
    return counts


def _carry_shares(tenant_id, from_id, to_id, keep: bool) -> int:
    """Manual shares the leaver received or created: to the receiver, or gone."""
    shares = _manual_shares(tenant_id, from_id)
    if not keep:
        return shares.delete()[0]
    # a share the receiver already holds on the same record: the leaver's copy is redundant
    Share.objects.filter(tenant_id=tenant_id, cause=Cause.MANUAL, grantee=from_id).filter(
        record_id__in=Share.objects.filter(tenant_id=tenant_id, cause=Cause.MANUAL, grantee=to_id).values("record_id")
    ).delete()
    received = Share.objects.filter(tenant_id=tenant_id, cause=Cause.MANUAL, grantee=from_id).update(grantee=to_id)
    created = Share.objects.filter(tenant_id=tenant_id, cause=Cause.MANUAL, created_by_id=from_id).update(
        created_by_id=to_id)
    return received + created


def _carry_teams(tenant_id, from_id, to_id, keep: bool) -> int:
    """The leaver's places on record teams: to the receiver (with the share row each stands for),
    or gone (with it)."""
    mine = TeamMember.objects.filter(tenant_id=tenant_id, membership_id=from_id)
    if not keep:
        Share.objects.filter(tenant_id=tenant_id, cause=Cause.TEAM, cause_id__in=mine.values("id")).delete()
        return mine.delete()[0]
    # where the receiver already sits on the team, the leaver's place (and its share row) goes
    duplicate = mine.filter(Exists(TeamMember.objects.filter(
        tenant_id=tenant_id, membership_id=to_id, object=OuterRef("object"), record_id=OuterRef("record_id"))))
    Share.objects.filter(tenant_id=tenant_id, cause=Cause.TEAM, cause_id__in=duplicate.values("id")).delete()
    duplicate.delete()
    Share.objects.filter(tenant_id=tenant_id, cause=Cause.TEAM, cause_id__in=mine.values("id")).update(grantee=to_id)
    return mine.update(membership_id=to_id)


def progress_key(job_id) -> str:
    """The job's progress in the tenant's cache (crm.tenancy.cache: the tenant is in every key, no
    peeking across tenants)."""
    return f"access:transfer:{job_id}"
