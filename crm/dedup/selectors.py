"""Reads of duplicate handling, always through the visibility engine.

A person sees a duplicate pair only when they may see both records: the queue, its counts, the
panels and the API all filter `record_a` and `record_b` through `policy.visible()` of the object
(two semi-joins on the primary key, under the queue's ordered index scan).
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass, field

from django.db.models import QuerySet, prefetch_related_objects

from crm.access import policy
from crm.tenancy.models import Membership
from crm.tenancy.search import keyset_after

from . import fields as merge_fields
from .models import RULES, DuplicateCandidate, DuplicateScan, MergeRecord, ObjectType
from .registry import relations_for
from .scan import find_for_record
from .services import load_records, model_for, undo_refusal

QUEUE_PAGE = 50
PANEL_MAX = 10


def visible_records(actor: Membership, object_label: str) -> QuerySet:
    model = model_for(object_label)
    return policy.visible(model.objects.for_tenant(actor.tenant_id), actor, "read")


def candidates_visible(*, actor: Membership, object_label: str, status: str = DuplicateCandidate.Status.OPEN,
                       rule: str = "") -> QuerySet[DuplicateCandidate]:
    """Pairs of `object_label` in `status` whose two records the actor may both see, best first."""
    qs = policy.visible(DuplicateCandidate.objects.for_tenant(actor.tenant_id), actor, "read")
    ids = visible_records(actor, object_label).values("id")
    qs = qs.filter(object=object_label, status=status, record_a__in=ids, record_b__in=ids)
    if rule:
        qs = qs.filter(rule=rule)
    return qs.order_by("-score", "-id")


def encode_cursor(candidate: DuplicateCandidate) -> str:
    return base64.urlsafe_b64encode(f"{candidate.score}|{candidate.pk}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[int, uuid.UUID] | None:
    try:
        score, pk = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        return int(score), uuid.UUID(pk)
    except (ValueError, UnicodeError):
        return None


@dataclass
class QueueRow:
    candidate: DuplicateCandidate
    a: object
    b: object


@dataclass
class QueuePage:
    rows: list[QueueRow]
    next_cursor: str | None
    counts: dict = field(default_factory=dict)


def queue_page(*, actor: Membership, object_label: str, rule: str = "", after: str = "",
               size: int = QUEUE_PAGE) -> QueuePage:
    """One page of the queue with both records of each pair (three queries)."""
    qs = candidates_visible(actor=actor, object_label=object_label, rule=rule)
    position = decode_cursor(after) if after else None
    if position:
        qs = qs.filter(keyset_after(("score", "id"), list(position), descending=True))
    candidates = list(qs[: size + 1])
    more = len(candidates) > size
    candidates = candidates[:size]
    ids = {c.record_a for c in candidates} | {c.record_b for c in candidates}
    related = ["owner__user", "account"] if object_label == ObjectType.CONTACTS else ["owner__user"]
    records = {r.pk: r for r in visible_records(actor, object_label).filter(pk__in=ids).select_related(*related)}
    rows = [QueueRow(c, records[c.record_a], records[c.record_b]) for c in candidates
            if c.record_a in records and c.record_b in records]
    return QueuePage(rows, encode_cursor(candidates[-1]) if more else None)


def queue_counts(*, actor: Membership, cap: int = 1000) -> dict[str, int]:
    """Open pairs per object the actor can act on (capped: "1,000+" is enough to know)."""
    return {o: candidates_visible(actor=actor, object_label=o).order_by()[:cap].count() for o in RULES}


def last_scan(*, actor: Membership) -> DuplicateScan | None:
    return DuplicateScan.objects.for_tenant(actor.tenant_id).order_by("-created_at", "-id").first()


def record_duplicates(*, actor: Membership, object_label: str, record, limit: int = PANEL_MAX) -> list[dict]:
    """The record's likely duplicates the actor may see, checked live (crm/dedup/scan.py), without
    pairs someone marked "not a duplicate"."""
    pairs = find_for_record(record, object_label)
    if not pairs:
        return []
    others = {p.b if p.a == record.pk else p.a: p for p in pairs}
    dismissed = set()
    for a, b in DuplicateCandidate.objects.for_tenant(actor.tenant_id).filter(
            object=object_label, status=DuplicateCandidate.Status.DISMISSED,
            record_a__in=[min(record.pk, o, key=str) for o in others],
            record_b__in=[max(record.pk, o, key=str) for o in others]).values_list("record_a", "record_b"):
        if record.pk in (a, b):  # the two IN lists also admit pairs of two others
            dismissed.add(b if a == record.pk else a)
    visible = visible_records(actor, object_label).filter(pk__in=[o for o in others if o not in dismissed])
    if object_label == ObjectType.CONTACTS:
        visible = visible.select_related("account")
    shown = pair_details(actor, object_label)
    out = [{"record": r, "pair": others[r.pk], "detail": shown(others[r.pk].rule, others[r.pk].detail)}
           for r in visible]
    order = {rule: i for i, rule in enumerate(RULES[object_label])}
    out.sort(key=lambda x: (order[x["pair"].rule], -x["pair"].score, str(x["record"].pk)))
    return out[:limit]


def merge_history(*, actor: Membership, object_label: str, master_id, limit: int = 5) -> list[dict]:
    merges = MergeRecord.objects.for_tenant(actor.tenant_id).filter(object=object_label, master_id=master_id) \
        .select_related("merged_by__user", "undone_by__user").order_by("-created_at")[:limit]
    return [{"merge": m, "refusal": undo_refusal(actor=actor, merge=m)} for m in merges]


def merge_get(*, actor: Membership, pk) -> MergeRecord:
    """A merge the actor may see: one whose master record they may see (else 404)."""
    from django.http import Http404

    try:
        pk = uuid.UUID(str(pk))
    except ValueError:
        raise Http404 from None
    merge = MergeRecord.objects.for_tenant(actor.tenant_id).filter(pk=pk).first()
    if merge is None:
        raise Http404
    if merge.undone_at is None and not visible_records(actor, merge.object).filter(pk=merge.master_id).exists():
        raise Http404
    if merge.undone_at is not None and merge.merged_by_id != actor.pk and not policy.sees_all(actor):
        raise Http404
    return merge


def merges_visible(*, actor: Membership) -> QuerySet[MergeRecord]:
    """Merges whose master the actor may see (undone ones: their own, or all for an admin)."""
    from django.db.models import Q

    qs = MergeRecord.objects.for_tenant(actor.tenant_id)
    if policy.sees_all(actor):
        return qs
    account_ids = visible_records(actor, ObjectType.ACCOUNTS).values("id")
    contact_ids = visible_records(actor, ObjectType.CONTACTS).values("id")
    return qs.filter(
        Q(undone_at__isnull=True, object=ObjectType.ACCOUNTS, master_id__in=account_ids)
        | Q(undone_at__isnull=True, object=ObjectType.CONTACTS, master_id__in=contact_ids)
        | Q(undone_at__isnull=False, merged_by=actor)
    )


# --- the merge page ------------------------------------------------------------------------------

@dataclass
class FieldRow:
    name: str
    label: str
    values: list[dict]  # per record: {"record": r, "display": str, "checked": bool}
    differs: bool
    locked: bool = False  # read only for the person: shown, not offered; the master's value stays


@dataclass
class MergePreview:
    object: str
    records: list
    master: object
    rows: list[FieldRow]
    relations: list[dict]  # {"label", "counts": [per record], "moves": n}
    notes: list[str]


def merge_preview(*, actor: Membership, object_label: str, ids, master_id=None, choices: dict | None = None) -> MergePreview:
    """The records side by side: one row per field (custom fields key by key), which value the
    master would keep, and what would move to it, per relation. A field hidden from the actor has
    no row; one read only for them is shown locked to the master's value (field-level security)."""
    records = load_records(actor=actor, object_label=object_label, ids=ids)
    hidden, read_only = merge_fields.restricted(actor, object_label)
    prefetch_related_objects(records, *(("account", "reports_to") if object_label == ObjectType.CONTACTS
                                         else ("parent",)))
    master = next((r for r in records if str(r.pk) == str(master_id)), records[0])
    choices = choices or {}
    rows = []
    for f in merge_fields.FIELDS[object_label]:
        if f.name in hidden:
            continue
        raw = [merge_fields.raw_value(r, f) for r in records]
        shown = [merge_fields.display_value(r, f) for r in records]
        rows.append(_field_row(f.name, f.label, records, raw, shown, master, choices, locked=f.name in read_only))
    specs = merge_fields.custom_specs(actor.tenant_id, object_label)
    labels = {s.name: s.label for s in specs}
    for key in merge_fields.custom_keys(records, specs):
        name = merge_fields.CUSTOM_PREFIX + key
        if name in hidden:
            continue
        raw = [(r.custom or {}).get(key) if isinstance(r.custom, dict) else None for r in records]
        shown = ["" if v is None else (", ".join(map(str, v)) if isinstance(v, list) else str(v)) for v in raw]
        rows.append(_field_row(name, labels[key], records, raw, shown, master, choices, locked=name in read_only))
    relations = []
    for mover in relations_for(object_label):
        counts = [mover.count(tenant_id=actor.tenant_id, loser_ids=[r.pk], actor=actor) if r.pk != master.pk else None
                  for r in records]
        moves = sum(c for c in counts if c)
        if moves or any(c for c in counts if c):
            relations.append({"label": mover.label, "counts": counts, "moves": moves})
    notes = []
    if object_label == ObjectType.CONTACTS and any(r.do_not_contact for r in records):
        notes.append("One of the records is marked do not contact: the merged contact will be too.")
    if object_label == ObjectType.CONTACTS:
        notes.append("Emails and phones of every record are kept; consent keeps the latest decision per "
                     "channel, and an opt-out is never replaced by an opt-in.")
    else:
        notes.append("Tags of every record are kept.")
    return MergePreview(object_label, records, master, rows, relations, notes)


def _field_row(name, label, records, raw, shown, master, choices, locked: bool = False) -> FieldRow:
    differs = len({repr(v) for v in raw}) > 1
    chosen = None if locked else choices.get(name)
    if locked:
        chosen = str(master.pk)  # read only: the master's value stays, empty or not
    elif chosen is None or chosen not in {str(r.pk) for r in records}:
        index = records.index(master)
        if merge_fields.is_empty(raw[index]):
            index = next((i for i, v in enumerate(raw) if not merge_fields.is_empty(v)), index)
        chosen = str(records[index].pk)
    values = [{"record": r, "display": shown[i], "checked": str(r.pk) == chosen, "empty": merge_fields.is_empty(raw[i])}
              for i, r in enumerate(records)]
    return FieldRow(name, label, values, differs, locked)


def pair_details(actor: Membership, object_label: str):
    """A function (rule, detail) -> the pair's "what matched" without values hidden from the actor."""
    hidden, _ = merge_fields.restricted(actor, object_label)
    return lambda rule, detail: merge_fields.shown_detail(hidden, object_label, rule, detail)


