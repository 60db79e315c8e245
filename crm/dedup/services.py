"""Writes of duplicate handling: merge, undo, "not a duplicate", scan requests. Keyword-only, one
transaction each, business rules here.

A merge (`records_merge`):
  1. loads the master and the losers (2 or 3 records in all) through the visibility engine, locked
     FOR UPDATE; one the actor cannot see is a 404, one they may not edit (or, for losers, delete)
     a 403;
  2. moves every related row of the losers to the master through the registered movers
     (crm/dedup/registry.py, relations.py), de-duplicating what unique constraints require
     (emails, phones, tags, relations, consent per channel);
  3. gives the master the chosen values through accounts/contacts' own update services (their
     validation applies: owner rules, parent loops, E.164 phones);
  4. moves whatever else still points at the losers (a later app's foreign key nobody registered),
     and the references by id that follow the master (recently viewed, trash snapshots:
     crm/dedup/references.py), deletes the losers and marks their open duplicate pairs merged;
  5. writes a MergeRecord with the journal of every row it changed or deleted.
Every row write goes through the journal (crm/dedup/journal.py), so undo restores exactly: the
losers with their ids and timestamps, each moved row back to its record, the deleted duplicates,
the master's previous values. Undo refuses, saying why, when the master was deleted or its merged
fields were edited since (it would silently throw that work away), or when the window has passed.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.http import Http404
from django.utils import timezone

from crm.access import policy
from crm.customfields import services as customfields
from crm.tenancy.models import Membership, TenantModel

from . import fields as merge_fields
from . import references
from .journal import Journal, from_json, image, replay_backwards
from .models import DuplicateCandidate, DuplicateScan, MergeRecord, ObjectType
from .registry import MoveContext, handled_foreign_keys, relations_for

MAX_RECORDS = 3
UNDO_DAYS = 7
# never compared or restored by undo: they change with every save, and the undo is itself a change
NOT_RESTORED = {"updated_at", "modified_by_id"}


def model_for(object_label: str):
    from accounts.models import Account
    from contacts.models import Contact

    if object_label == ObjectType.ACCOUNTS:
        return Account
    if object_label == ObjectType.CONTACTS:
        return Contact
    raise ValidationError({"object": "Choose accounts or contacts."})


def parse_ids(values, field: str) -> list[uuid.UUID]:
    out = []
    for value in values or []:
        try:
            out.append(uuid.UUID(str(value)))
        except (TypeError, ValueError):
            raise ValidationError({field: f"{value!s:.40} is not a record id."}) from None
    return out


def load_records(*, actor: Membership, object_label: str, ids, lock: bool = False) -> list:
    """The records `ids` (in that order) if the actor may see every one of them, else 404."""
    model = model_for(object_label)
    qs = policy.visible(model.objects.for_tenant(actor.tenant_id), actor, "read").filter(pk__in=list(ids))
    if lock:
        qs = qs.select_for_update(of=("self",))
    found = {r.pk: r for r in qs.select_related("owner__user")}
    if len(found) != len(set(ids)):
        raise Http404
    return [found[i] for i in ids]


def _check_merge_input(master_id, loser_ids) -> None:
    if master_id is None:
        raise ValidationError({"master": "Choose the record to keep."})
    if not loser_ids:
        raise ValidationError({"losers": "Choose at least one other record to merge into it."})
    if master_id in loser_ids or len(set(loser_ids)) != len(loser_ids):
        raise ValidationError({"losers": "Each record can be merged only once, and not into itself."})
    if len(loser_ids) + 1 > MAX_RECORDS:
        raise ValidationError({"losers": f"Merge at most {MAX_RECORDS} records at a time."})


def resolve_values(object_label: str, master, losers, choices: dict, specs=None, fixed=frozenset()) -> dict:
    """{field name: value} the master gets: the chosen record's value per field; for fields not
    chosen, the master's, or the first other record's where the master's is empty. `custom` is
    returned merged key by key. `fixed` fields (hidden or read only for the person merging) keep
    the master's value, empty or not."""
    records = [master, *losers]
    by_id = {str(r.pk): r for r in records}
    specs = merge_fields.custom_specs(master.tenant_id, object_label) if specs is None else specs
    unknown = set(choices) - set(merge_fields.all_field_names(object_label, records, specs))
    errors = {}
    if unknown:
        errors["fields"] = [f"Unknown field: {name}." for name in sorted(unknown)]
    bad = [name for name, src in choices.items() if name not in unknown and str(src) not in by_id]
    if bad:
        errors.setdefault("fields", []).extend(f"{name}: choose one of the records being merged." for name in bad)
    if errors:
        raise ValidationError(errors)

    def pick(read):
        def value_of(name):
            src = choices.get(name)
            if src is not None:
                return read(by_id[str(src)])
            value = read(master)
            if merge_fields.is_empty(value) and name not in fixed:
                for other in losers:
                    if not merge_fields.is_empty(read(other)):
                        return read(other)
            return value
        return value_of

    values = {}
    for f in merge_fields.FIELDS[object_label]:
        values[f.name] = pick(lambda r, f=f: merge_fields.raw_value(r, f))(f.name)
    # only the keys of active custom fields, each with its value or None (= no value): the
    # custom-fields service merges them onto the master's and validates them
    custom = {}
    for key in merge_fields.custom_keys(records, specs):
        name = merge_fields.CUSTOM_PREFIX + key
        custom[key] = pick(lambda r, key=key: (r.custom or {}).get(key) if isinstance(r.custom, dict) else None)(name)
    values["custom"] = custom
    return values


def _custom_changes(master, custom: dict) -> dict:
    mine = master.custom if isinstance(master.custom, dict) else {}
    return {k: v for k, v in custom.items() if mine.get(k) != v}


def _apply_contact_values(*, actor, master, losers, values, journal: Journal, fixed=frozenset()) -> None:
    from contacts import services as contact_services
    from contacts.models import ContactEmail, ContactPhone

    merged_ids = {master.pk, *(r.pk for r in losers)}
    kwargs = {}
    for f in merge_fields.CONTACT_FIELDS:
        if f.name in ("email", "phone", "owner"):
            continue
        value = values[f.name]
        if f.name == "reports_to" and value in merged_ids:
            value = None  # nobody reports to themselves
        if value != merge_fields.raw_value(master, f):
            kwargs[f.name] = value
    if _custom_changes(master, values["custom"]):
        kwargs["custom"] = _custom_changes(master, values["custom"])
    if any(r.do_not_contact for r in losers) and not master.do_not_contact:
        kwargs["do_not_contact"] = True  # a safety flag is never lost by a merge
    owner = values["owner"] if values["owner"] != master.owner_id else None
    if kwargs or owner:
        contact_services.contact_update(actor=actor, contact=master, owner=owner, **kwargs)
    # the chosen primary email and phone: every address of every record is on the master by now
    for model, column, attr in ((ContactEmail, "email", "email"), (ContactPhone, "number", "phone")):
        chosen = values[attr] or ""
        if attr in fixed and not chosen:
            continue  # hidden or read only for the person merging: an empty primary stays empty
        rows = model.objects.filter(tenant_id=actor.tenant_id, contact_id=master.pk)
        if chosen and rows.filter(**{column: chosen}).exists():
            journal.update(rows.exclude(**{column: chosen}), is_primary=False)
            journal.update(rows.filter(**{column: chosen}), is_primary=True)
        elif not rows.filter(is_primary=True).exists() and rows.exists():
            first = rows.order_by("created_at", "pk").first()
            journal.update(rows.filter(pk=first.pk), is_primary=True)
            chosen = getattr(first, column)
        type(master).objects.filter(tenant_id=actor.tenant_id, pk=master.pk).update(**{attr: chosen})


def _apply_account_values(*, actor, master, losers, values) -> None:
    from accounts import services as account_services
    from accounts.models import Account

    merged_ids = {master.pk, *(r.pk for r in losers)}
    kwargs = {}
    for f in merge_fields.ACCOUNT_FIELDS:
        value = values[f.name]
        if f.name == "parent" and value in merged_ids:
            # a merged record cannot be the parent; its own parent takes its place
            value = next((r.parent_id for r in losers if r.pk == value), None)
            value = None if value in merged_ids else value
        if value == merge_fields.raw_value(master, f):
            continue
        if f.name == "owner":
            value = Membership.objects.for_tenant(actor.tenant_id).get(pk=value)
        elif f.name == "parent":
            value = Account.objects.for_tenant(actor.tenant_id).filter(pk=value).first() if value else None
        kwargs[f.name] = value
    if _custom_changes(master, values["custom"]):
        kwargs["custom"] = _custom_changes(master, values["custom"])
    if kwargs:
        account_services.account_update(actor=actor, account=master, **kwargs)
    # tags are a union: moved by the AccountTag mover


def _move_leftovers(ctx: MoveContext, model) -> dict:
    """Whatever still points at a loser, registered or not, moves to the master (through the
    journal) before the losers are deleted: a later app's rows never cascade away unrecorded."""
    handled = handled_foreign_keys(ctx.object)
    moved = {}
    for rel in model._meta.related_objects:
        if not (rel.one_to_many or rel.one_to_one) or rel.on_delete is models.DO_NOTHING:
            continue
        related, fk = rel.related_model, rel.field
        if (related._meta.label_lower, fk.name) in handled or not issubclass(related, TenantModel):
            continue
        qs = related.objects.filter(tenant_id=ctx.tenant_id, **{f"{fk.attname}__in": ctx.loser_ids})
        if related is model:
            qs = qs.exclude(pk=ctx.master.pk)
        if qs.exists():
            moved[str(related._meta.verbose_name_plural).capitalize()] = ctx.journal.update(qs, **{fk.name: ctx.master.pk})
    return moved


def _field_security(actor, object_label: str, choices: dict, master_id) -> frozenset:
    """The merge fields the actor may not set (hidden or read only for them): the master keeps its
    value in those. Choosing another record's value for one is refused (ValidationError on
    `fields`); naming the master's own value changes nothing and passes."""
    hidden, read_only = merge_fields.restricted(actor, object_label)
    fixed = hidden | read_only
    labels = {f.name: f.label for f in merge_fields.FIELDS[object_label]}
    if any(name.startswith(merge_fields.CUSTOM_PREFIX) for name in choices):
        labels.update({merge_fields.CUSTOM_PREFIX + s.name: s.label
                       for s in merge_fields.custom_specs(actor.tenant_id, object_label)})
    errors = []
    for name, src in sorted(choices.items()):
        if name in fixed and src != str(master_id):
            label = labels.get(name, name.removeprefix(merge_fields.CUSTOM_PREFIX))
            errors.append(f"{label}: you cannot set this field." if name in hidden
                          else f"{label} is read only for you: the master's value is kept.")
    if errors:
        raise ValidationError({"fields": errors})
    return fixed


def _record_names(object_label: str, records) -> str:
    return ", ".join(r.full_name if object_label == ObjectType.CONTACTS else r.name for r in records)[:600]


@transaction.atomic
def records_merge(*, actor: Membership, object_label: str, master, losers, fields: dict | None = None) -> MergeRecord:
    """Merge `losers` (ids) into `master` (an id); `fields` maps a field name ("phone",
    "custom.segment") to the id of the record whose value the master takes."""
    model_for(object_label)
    master_id = parse_ids([master], "master")[0] if master not in (None, "") else None
    loser_ids = parse_ids(losers, "losers")
    _check_merge_input(master_id, loser_ids)
    if not isinstance(fields or {}, dict):
        raise ValidationError({"fields": "Give a field name → record id mapping."})
    records = load_records(actor=actor, object_label=object_label, ids=[master_id, *loser_ids], lock=True)
    master_record, loser_records = records[0], records[1:]
    for record in records:
        policy.require(actor, "edit", record)
    for record in loser_records:
        policy.require(actor, "delete", record)
    choices = {str(k): str(v) for k, v in (fields or {}).items() if v not in (None, "")}
    fixed = _field_security(actor, object_label, choices, master_id)
    choices = {k: v for k, v in choices.items() if k not in fixed}
    values = resolve_values(object_label, master_record, loser_records, choices, fixed=fixed)

    journal = Journal(actor.tenant_id)
    ctx = MoveContext(actor=actor, tenant_id=actor.tenant_id, object=object_label, master=master_record,
                      losers=loser_records, journal=journal, choices=choices)
    before = image(master_record)
    moved: dict[str, int] = {}
    try:
        with transaction.atomic():
            for mover in relations_for(object_label):
                n = mover.move(ctx)
                if n:
                    moved[mover.label] = moved.get(mover.label, 0) + n
            if object_label == ObjectType.CONTACTS:
                _apply_contact_values(actor=actor, master=master_record, losers=loser_records, values=values,
                                      journal=journal, fixed=fixed)
            else:
                _apply_account_values(actor=actor, master=master_record, losers=loser_records, values=values)
            for label, n in _move_leftovers(ctx, type(master_record)).items():
                moved[label] = moved.get(label, 0) + n
            references.follow_master(ctx)  # recently viewed, trash snapshots: not counted as moved
            journal.delete(type(master_record).objects.filter(tenant_id=actor.tenant_id, pk__in=loser_ids))
            customfields.forget_records(actor.tenant_id, loser_ids)  # a derived copy: rebuilt on undo
            journal.update(
                DuplicateCandidate.objects.filter(tenant_id=actor.tenant_id, object=object_label,
                                                  status=DuplicateCandidate.Status.OPEN)
                .filter(models.Q(record_a__in=loser_ids) | models.Q(record_b__in=loser_ids)),
                status=DuplicateCandidate.Status.MERGED,
            )
    except IntegrityError as exc:
        raise ValidationError({"losers": f"These records cannot be merged: a related record would clash ({exc})."}) \
            from None
    master_record.refresh_from_db()
    return MergeRecord.objects.create(
        tenant_id=actor.tenant_id, object=object_label, master_id=master_id, loser_ids=[str(i) for i in loser_ids],
        loser_names=_record_names(object_label, loser_records), master_before=before,
        master_after=image(master_record), journal=journal.entries, moved=moved, merged_by=actor,
    )


def undo_refusal(*, actor: Membership, merge: MergeRecord) -> str | None:
    """Why `actor` may not undo `merge` now, or None. Pages show it next to a disabled button."""
    if merge.undone_at is not None:
        return "This merge was already undone."
    if merge.merged_by_id != actor.pk and not policy.can(actor, "administer"):
        return "Only the person who merged, or an admin, can undo a merge."
    if merge.created_at < timezone.now() - timedelta(days=UNDO_DAYS):
        return f"A merge can be undone for {UNDO_DAYS} days; this one is older."
    return None


def _changed_fields(merge: MergeRecord) -> list[str]:
    return [k for k, v in merge.master_after.items() if merge.master_before.get(k) != v and k not in NOT_RESTORED]


@transaction.atomic
def merge_undo(*, actor: Membership, merge: MergeRecord) -> MergeRecord:
    """Put the losers back (same ids), move their rows back, restore the master's values."""
    merge = MergeRecord.objects.for_tenant(actor.tenant_id).select_for_update().get(pk=merge.pk)
    refusal = undo_refusal(actor=actor, merge=merge)
    if refusal:
        raise ValidationError({"merge": refusal})
    model = model_for(merge.object)
    master = model.objects.for_tenant(actor.tenant_id).select_for_update().filter(pk=merge.master_id).first()
    if master is None:
        raise ValidationError({"merge": "The record the others were merged into has been deleted since; "
                                        "the merge cannot be undone."})
    if not policy.can(actor, "edit", master):
        raise PermissionDenied("You may no longer edit the merged record.")
    if model.objects.for_tenant(actor.tenant_id).filter(pk__in=merge.loser_ids).exists():
        raise ValidationError({"merge": "One of the merged records exists again; the merge cannot be undone."})
    changed = _changed_fields(merge)
    now = image(master)
    edited = [k for k in changed if now.get(k) != merge.master_after.get(k)]
    if edited:
        labels = {f.name: f.label for fs in merge_fields.FIELDS.values() for f in fs}
        names = ", ".join(labels.get(k.removesuffix("_id"), k.removesuffix("_id").replace("_", " ")) for k in edited)
        raise ValidationError({"merge": f"The merged record was edited after the merge ({names}). Undo would "
                                        "throw that away: change those fields back, or edit the records by hand."})
    try:
        with transaction.atomic():
            replay_backwards(merge.journal, tenant_id=actor.tenant_id)
            if changed:
                model.objects.for_tenant(actor.tenant_id).filter(pk=master.pk).update(
                    **{k: from_json(model, k, merge.master_before.get(k)) for k in changed}
                )
            restored = model.objects.for_tenant(actor.tenant_id).filter(pk__in=[master.pk, *merge.loser_ids])
            customfields.write_many(actor.tenant_id, merge.object, list(restored.values_list("pk", "custom")))
    except IntegrityError:
        raise ValidationError({"merge": "Something added since the merge clashes with the records being restored "
                                        "(for example the same email on another record); the merge cannot be "
                                        "undone."}) from None
    merge.undone_at = timezone.now()
    merge.undone_by = actor
    merge.save(update_fields=["undone_at", "undone_by", "updated_at"])
    return merge


@transaction.atomic
def pair_dismiss(*, actor: Membership, object_label: str, record_ids) -> DuplicateCandidate:
    """"Not a duplicate": remembered for the pair, whichever rule found it, and kept by later scans."""
    ids = parse_ids(record_ids, "ids")
    if len(ids) != 2 or ids[0] == ids[1]:
        raise ValidationError({"ids": "Give the two records that are not duplicates."})
    load_records(actor=actor, object_label=object_label, ids=ids)  # 404 unless both are visible
    a, b = sorted(ids, key=str)
    candidate = DuplicateCandidate.objects.for_tenant(actor.tenant_id).filter(
        object=object_label, record_a=a, record_b=b).first()
    if candidate is None:
        candidate = DuplicateCandidate(tenant_id=actor.tenant_id, object=object_label, record_a=a, record_b=b,
                                       rule="similar_name", score=0, found_at=timezone.now())
    candidate.status = DuplicateCandidate.Status.DISMISSED
    candidate.dismissed_by = actor
    candidate.dismissed_at = timezone.now()
    candidate.save()
    return candidate


@transaction.atomic
def pair_reopen(*, actor: Membership, candidate: DuplicateCandidate) -> DuplicateCandidate:
    load_records(actor=actor, object_label=candidate.object, ids=[candidate.record_a, candidate.record_b])
    candidate.status = DuplicateCandidate.Status.OPEN
    candidate.dismissed_by = None
    candidate.dismissed_at = None
    candidate.save()
    return candidate


@transaction.atomic
def scan_request(*, actor: Membership) -> DuplicateScan:
    """Queue a scan of the whole company (admins: it reads every record). One at a time."""
    if not policy.can(actor, "administer"):
        raise PermissionDenied("Only an admin can scan the whole company for duplicates.")
    running = DuplicateScan.objects.for_tenant(actor.tenant_id).filter(
        status__in=[DuplicateScan.Status.QUEUED, DuplicateScan.Status.RUNNING],
        created_at__gte=timezone.now() - timedelta(hours=2),
    ).first()
    if running:
        return running
    scan = DuplicateScan.objects.create(tenant_id=actor.tenant_id, requested_by=actor)
    from .tasks import scan_tenant

    tenant_id, scan_id = str(actor.tenant_id), str(scan.pk)
    transaction.on_commit(lambda: scan_tenant.delay(tenant_id=tenant_id, scan_id=scan_id))
    return scan
