"""References to merged records that are not foreign keys, and follow the master in a merge.

The lists app keeps two kinds of them (crm/lists/models.py):

- `RecentView` (person, object, record_id): a loser's row becomes the master's. A person who had
  opened both keeps one row, at the more recent of the two times, so the master shows once in
  "Recently viewed", where the latest of the merged records was.
- `TrashBatch.snapshot` (crm/lists/trash.py: what a bulk delete removed, kept for an hour for
  undo): a deleted row that pointed at a loser (an activity of a deleted contact logged on the
  loser account, a meeting's attendee) would make "Undo" fail on the missing record; it points at
  the master instead, like the live rows the merge moved. A row that would then repeat one the
  master already has in the same snapshot (both records attended the deleted meeting) is dropped,
  as the merge's own movers do (`unique_with`). Only batches that can still be undone are read.

`SavedView` needs nothing: its filters hold values (an account by its exact name, an owner by
membership id), its columns are column keys; none names a record.

Every write goes through the merge journal, so undoing the merge puts each row back as it was.
"""

from __future__ import annotations

import copy

from django.apps import apps
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from .registry import ForeignKeyMover, GenericMover, MoveContext, relations_for


def follow_master(ctx: MoveContext) -> None:
    recent_views_follow(ctx)
    trash_snapshots_follow(ctx)


def recent_views_of(tenant_id, object_label: str, record_ids: list):
    """Everyone's recently-viewed rows of these records. Every member of the company is named, so
    that the whole condition is inside recentview_uniq (tenant, membership, object, record_id)
    instead of a walk over all the company's rows."""
    from crm.lists.models import RecentView
    from crm.tenancy.models import Membership

    people = list(Membership.objects.filter(tenant_id=tenant_id).values_list("pk", flat=True))
    return RecentView.objects.filter(tenant_id=tenant_id, membership_id__in=people, object=object_label,
                                     record_id__in=record_ids)


def recent_views_follow(ctx: MoveContext) -> int:
    """Returns how many people's rows now name the master instead of a loser."""
    from crm.lists.models import RecentView

    master_id, loser_ids = ctx.master.pk, set(ctx.loser_ids)
    rows = list(recent_views_of(ctx.tenant_id, ctx.object, [master_id, *loser_ids])
                .values("pk", "membership_id", "record_id", "viewed_at"))
    by_person: dict = {}
    for row in rows:
        by_person.setdefault(row["membership_id"], []).append(row)
    drop, move, later = [], [], []  # later: (master's row, the newer time it takes)
    for person_rows in by_person.values():
        theirs = [r for r in person_rows if r["record_id"] in loser_ids]
        if not theirs:
            continue
        newest = max(person_rows, key=lambda r: r["viewed_at"])
        kept = next((r for r in person_rows if r["record_id"] == master_id), None)
        if kept is None:
            kept = newest
            move.append(kept["pk"])
        elif newest["viewed_at"] > kept["viewed_at"]:
            later.append((kept["pk"], newest["viewed_at"]))
        drop.extend(r["pk"] for r in theirs if r["pk"] != kept["pk"])
    scoped = RecentView.objects.filter(tenant_id=ctx.tenant_id)
    if drop:  # first: the unique (person, object, record) must hold after every statement
        ctx.journal.delete(scoped.filter(pk__in=drop))
    if move:
        ctx.journal.update(scoped.filter(pk__in=move), record_id=master_id)
    for pk, viewed_at in later:
        ctx.journal.update(scoped.filter(pk=pk), viewed_at=viewed_at)
    return len(move) + len(later)


def _rewrites(object_label: str, master_model):
    """Per model label: the columns that name a record of the merged model, the generic links
    (type column, id column, type value) and the unique keys (field, *unique_with) to keep."""
    columns: dict[str, list[str]] = {}
    generic: dict[str, list[tuple]] = {}
    unique: dict[str, list[tuple]] = {}
    for model in apps.get_models():
        label = model._meta.label
        for f in model._meta.concrete_fields:
            if f.is_relation and f.related_model is master_model:
                columns.setdefault(label, []).append(f.attname)
    for mover in relations_for(object_label):
        if isinstance(mover, GenericMover):
            generic.setdefault(mover.model._meta.label, []).append((mover.type_field, mover.id_field,
                                                                    mover.type_value))
        elif isinstance(mover, ForeignKeyMover) and mover.unique_with:
            model = mover.model
            names = [model._meta.get_field(n).attname for n in (mover.field, *mover.unique_with)]
            unique.setdefault(model._meta.label, []).append(tuple(names))
    return columns, generic, unique


def _rewrite_snapshot(snapshot: dict, *, master_id: str, loser_ids: set[str], columns, generic, unique) -> dict | None:
    """A copy of `snapshot` with the losers replaced by the master, or None if nothing names them."""
    out = copy.deepcopy(snapshot)
    changed = False
    for entry in out.get("rows", []):
        label, rows = entry
        for row in rows:
            for attname in columns.get(label, ()):
                if row.get(attname) in loser_ids:
                    row[attname] = master_id
                    changed = True
            for type_field, id_field, type_value in generic.get(label, ()):
                if row.get(type_field) == type_value and row.get(id_field) in loser_ids:
                    row[id_field] = master_id
                    changed = True
        for key in unique.get(label, ()):
            seen, kept = set(), []
            for row in rows:
                value = tuple(row.get(k) for k in key)
                if value[0] == master_id and value in seen:
                    changed = True
                    continue
                seen.add(value)
                kept.append(row)
            rows[:] = kept
    return out if changed else None


def trash_snapshots_follow(ctx: MoveContext) -> int:
    """Returns how many trash batches now name the master instead of a loser."""
    from crm.lists.models import TrashBatch

    master_id, loser_ids = str(ctx.master.pk), {str(pk) for pk in ctx.loser_ids}
    batches = TrashBatch.objects.filter(tenant_id=ctx.tenant_id, restored_at__isnull=True,
                                        expires_at__gt=timezone.now())
    # a text search first, so that only batches that mention a loser are loaded (ids are stored as text)
    mentions = Q()
    for loser in loser_ids:
        mentions |= Q(snapshot_text__contains=loser)
    mentioning = list(batches.annotate(snapshot_text=Cast("snapshot", TextField())).filter(mentions)
                      .values_list("pk", flat=True))
    if not mentioning:
        return 0
    columns, generic, unique = _rewrites(ctx.object, type(ctx.master))
    changed = 0
    for pk, snapshot in batches.filter(pk__in=mentioning).values_list("pk", "snapshot"):
        rewritten = _rewrite_snapshot(snapshot, master_id=master_id, loser_ids=loser_ids, columns=columns,
                                      generic=generic, unique=unique)
        if rewritten is not None:
            changed += ctx.journal.update(TrashBatch.objects.filter(tenant_id=ctx.tenant_id, pk=pk),
                                          snapshot=rewritten)
    return changed
