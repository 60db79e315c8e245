"""Writes of the list pages: saved views, recently viewed records, bulk actions and their undo.

Bulk actions touch only the records the actor may edit (owner, tag) or delete, through
`policy.visible(…, "edit"/"delete")`; the others of a selection are counted as skipped and said so.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.http import Http404
from django.utils import timezone

from crm.access import policy
from crm.tenancy.models import Membership

from . import registry, trash
from .models import SavedView, TrashBatch

MAX_VIEWS_PER_PERSON = 100
MAX_BULK = 1000  # a page is 50; "select all on this page" stays far below
UNDO_FOR = dt.timedelta(hours=1)


def _uuids(ids) -> list[uuid.UUID]:
    out = []
    for value in ids or []:
        try:
            out.append(uuid.UUID(str(value)))
        except ValueError:
            continue
    return list(dict.fromkeys(out))[:MAX_BULK]


# --- saved views ------------------------------------------------------------------------------


def _clean_view(*, object: str, name: str, columns, sort: str, params) -> dict:
    try:
        definition = registry.get(object)
    except KeyError:
        raise ValidationError({"object": f"“{object}” has no list."}) from None
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": "Give the view a name."})
    if len(name) > 80:
        raise ValidationError({"name": "At most 80 characters."})
    if not isinstance(params, dict) or any(not isinstance(v, list) for v in params.values()):
        raise ValidationError({"params": "Filters are a map of parameter names to lists of values."})
    columns = [str(c) for c in (columns or [])][:100]
    sort = sort if any(s.key == sort for s in definition.sorts) else definition.sorts[0].key
    return {"name": name, "columns": columns, "sort": sort,
            "params": {str(k): [str(v) for v in vs][:50] for k, vs in params.items()}}


@transaction.atomic
def view_create(*, actor: Membership, object: str, name: str, params: dict, columns: list, sort: str = "",
                shared: bool = False) -> SavedView:
    """Save the list as it is now under a name, private or shared with the company."""
    cleaned = _clean_view(object=object, name=name, columns=columns, sort=sort, params=params)
    mine = SavedView.objects.for_tenant(actor.tenant).filter(object=object, owner=actor)
    if mine.count() >= MAX_VIEWS_PER_PERSON:
        raise ValidationError({"name": f"At most {MAX_VIEWS_PER_PERSON} views per list; delete one first."})
    return SavedView.objects.create(tenant_id=actor.tenant_id, object=object, owner=actor, shared=bool(shared),
                                    **cleaned)


def _require_change(actor: Membership, view: SavedView) -> None:
    if view.owner_id != actor.pk and not policy.can(actor, "customize"):
        raise PermissionDenied("Only the person who made this view, or an admin, may change it.")


@transaction.atomic
def view_update(*, actor: Membership, view: SavedView, name: str | None = None, params: dict | None = None,
                columns: list | None = None, sort: str | None = None, shared: bool | None = None) -> SavedView:
    _require_change(actor, view)
    cleaned = _clean_view(object=view.object, name=view.name if name is None else name,
                          columns=view.columns if columns is None else columns,
                          sort=view.sort if sort is None else sort, params=view.params if params is None else params)
    for key, value in cleaned.items():
        setattr(view, key, value)
    if shared is not None:
        view.shared = bool(shared)
    view.save()
    return view


@transaction.atomic
def view_delete(*, actor: Membership, view: SavedView) -> None:
    _require_change(actor, view)
    view.delete()


# --- recently viewed --------------------------------------------------------------------------


def remember(request, object_key: str, record) -> None:
    """Note that the signed-in person opened this record (the "Recently viewed" view). One
    statement, an upsert on (tenant, membership, object, record): call it from a record's page."""
    actor = getattr(request, "membership", None)
    if actor is None or record is None:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO lists_recentview (id, tenant_id, membership_id, object, record_id, viewed_at, created_at,
                                          updated_at)
            VALUES (%s, %s, %s, %s, %s, now(), now(), now())
            ON CONFLICT (tenant_id, membership_id, object, record_id)
            DO UPDATE SET viewed_at = EXCLUDED.viewed_at, updated_at = EXCLUDED.updated_at
            """,
            [_new_id(), actor.tenant_id, actor.pk, object_key, record.pk],
        )


def _new_id():
    from crm.tenancy.ids import new_id

    return new_id()


# --- bulk actions -----------------------------------------------------------------------------


@dataclass
class BulkResult:
    changed: int
    skipped: int
    batch: TrashBatch | None = None

    def message(self, verb: str, singular: str) -> str:
        def n(k):
            return f"{k} {singular}{'s' if k != 1 else ''}"

        text = f"{n(self.changed)} {verb}."
        if self.skipped:
            text += f" {n(self.skipped)} skipped: you may not change {'them' if self.skipped != 1 else 'it'}."
        return text


@transaction.atomic
def bulk_change_owner(*, actor: Membership, object: str, ids, owner: Membership) -> BulkResult:
    """Hand the selected records the actor may edit to `owner` (managers and admins)."""
    definition = registry.get(object)
    if not policy.can(actor, "transfer_records"):  # managers' and admins' right by default
        raise ValidationError({"owner": "Only someone who may hand records over (a manager or an admin) can change "
                                        "owners in bulk."})
    if owner.tenant_id != actor.tenant_id or not owner.is_active:
        raise ValidationError({"owner": "Choose an active member of your company."})
    ids = _uuids(ids)
    editable = list(policy.visible(definition.model.objects.for_tenant(actor.tenant), actor, "edit")
                    .filter(id__in=ids).values_list("id", flat=True))
    if definition.change_owner is not None:
        definition.change_owner(actor, editable, owner)
    else:
        definition.model.objects.for_tenant(actor.tenant).filter(id__in=editable) \
            .update(owner=owner, updated_at=timezone.now())
    return BulkResult(len(editable), len(ids) - len(editable))


@transaction.atomic
def bulk_complete_tasks(*, actor: Membership, object: str, ids) -> BulkResult:
    """Mark the selected open tasks done (those the actor may edit); other activities are skipped."""
    from contacts import services as contact_services
    from contacts.models import Activity

    definition = registry.get(object)
    ids = _uuids(ids)
    tasks = list(policy.visible(definition.model.objects.for_tenant(actor.tenant), actor, "edit")
                 .filter(id__in=ids, kind=Activity.Kind.TASK).exclude(status=Activity.Status.DONE))
    for task in tasks:  # at most a page: the service keeps the one rule of completing a task
        contact_services.task_complete(actor=actor, task=task)
    return BulkResult(len(tasks), len(ids) - len(tasks))


@transaction.atomic
def bulk_add_tag(*, actor: Membership, object: str, ids, name: str) -> BulkResult:
    definition = registry.get(object)
    if definition.add_tag is None:
        raise ValidationError({"tag": f"{definition.label} have no tags."})
    action = next((a for a in definition.bulk_actions if a.key == "tag"), None)
    blocked = registry.action_blocked(actor, definition, action) if action is not None else ""
    if blocked:
        raise ValidationError({"tag": blocked})
    ids = _uuids(ids)
    editable = list(policy.visible(definition.model.objects.for_tenant(actor.tenant), actor, "edit")
                    .filter(id__in=ids).values_list("id", flat=True))
    definition.add_tag(actor, editable, name)
    return BulkResult(len(editable), len(ids) - len(editable))


@transaction.atomic
def accounts_add_tag(*, actor: Membership, ids, name: str) -> int:
    """Put one tag on the given accounts (created when new, matched case-blind); accounts that
    already carry it are left alone. `ids` must already be the ones the actor may edit."""
    from accounts.models import AccountTag, Tag
    from accounts.services import MAX_TAG_LENGTH
    from crm.access import fields
    from crm.tenancy.search import normalise_text

    if "tags" in fields.unwritable(actor, "accounts"):  # the one rule, whoever calls
        raise ValidationError({"tag": "Tags are read only for you: you cannot add a tag."})
    name = " ".join(str(name or "").split())
    if not name:
        raise ValidationError({"tag": "Name the tag to add."})
    if len(name) > MAX_TAG_LENGTH:
        raise ValidationError({"tag": f"A tag has at most {MAX_TAG_LENGTH} characters."})
    tag = Tag.objects.for_tenant(actor.tenant).filter(name_key=normalise_text(name)).first()
    if tag is None:
        tag = Tag.objects.create(tenant_id=actor.tenant_id, name=name)
    have = set(AccountTag.objects.for_tenant(actor.tenant).filter(tag=tag, account_id__in=list(ids))
               .values_list("account_id", flat=True))
    AccountTag.objects.bulk_create([AccountTag(tenant_id=actor.tenant_id, account_id=pk, tag=tag)
                                    for pk in ids if pk not in have])
    return len(ids)


def deletable(*, actor: Membership, object: str, ids) -> tuple[list, int]:
    """(the selected records the actor may delete, how many of the selection they may not)."""
    definition = registry.get(object)
    ids = _uuids(ids)
    rows = list(policy.visible(definition.model.objects.for_tenant(actor.tenant), actor, "delete")
                .filter(id__in=ids).order_by(*_order(definition)))
    return rows, len(ids) - len(rows)


def _order(definition) -> list:
    sort = definition.sorts[0]
    return [f"-{f}" if sort.descending else f for f in sort.fields]


@transaction.atomic
def bulk_delete(*, actor: Membership, object: str, ids) -> BulkResult:
    """Delete the selected records the actor may delete, keeping everything that goes with them
    in a TrashBatch for UNDO_FOR (see trash.py); returns the batch to offer "Undo"."""
    definition = registry.get(object)
    rows, skipped = deletable(actor=actor, object=object, ids=ids)
    if not rows:
        return BulkResult(0, skipped)
    names = [definition.title_of(r) for r in rows[:3]]
    summary = ", ".join(names) + (f" and {len(rows) - 3} more" if len(rows) > 3 else "")
    batch = trash.delete_into_trash(actor=actor, definition=definition, records=rows, summary=summary[:300],
                                    expires_at=timezone.now() + UNDO_FOR)
    return BulkResult(len(rows), skipped, batch)


def trash_get(*, actor: Membership, pk) -> TrashBatch:
    """The actor's own batch (undo is theirs alone), else 404."""
    try:
        pk = uuid.UUID(str(pk))
    except ValueError:
        raise Http404 from None
    batch = TrashBatch.objects.for_tenant(actor.tenant).filter(pk=pk, actor=actor).first()
    if batch is None:
        raise Http404
    return batch


@transaction.atomic
def bulk_undo(*, actor: Membership, batch: TrashBatch) -> int:
    """Put back every row of the batch, in one transaction; returns the records restored."""
    if batch.actor_id != actor.pk:
        raise PermissionDenied("Only the person who deleted these can undo it.")
    if batch.restored_at is not None:
        raise ValidationError({"batch": "This was already undone."})
    if batch.expires_at <= timezone.now():
        raise ValidationError({"batch": "Too late to undo: deleted records are kept for an hour."})
    trash.restore(batch)
    batch.restored_at = timezone.now()
    batch.save(update_fields=["restored_at", "updated_at"])
    return batch.count


# --- exports ----------------------------------------------------------------------------------


@transaction.atomic
def export_create(*, actor: Membership, object: str, format: str, params: dict | None = None,
                  columns: list | None = None, sort: str = "", rows_total: int | None = None):
    """Queue an export of a list view as a job; the worker starts it once this commits."""
    from .models import ExportJob
    from .tasks import run_export

    try:
        definition = registry.get(object)
    except KeyError:
        raise ValidationError({"object": f"“{object}” has no list to export."}) from None
    if format not in ExportJob.Format.values:
        raise ValidationError({"format": "Choose csv or xlsx."})
    cleaned = _clean_view(object=object, name="export", columns=columns, sort=sort, params=params or {})
    job = ExportJob.objects.create(tenant_id=actor.tenant_id, requester=actor, object=definition.key, format=format,
                                   params=cleaned["params"], columns=cleaned["columns"], sort=cleaned["sort"],
                                   rows_total=rows_total)
    tenant_id, job_id = str(actor.tenant_id), str(job.pk)
    transaction.on_commit(lambda: run_export.delay(tenant_id=tenant_id, job_id=job_id))
    return job


def export_get(*, actor: Membership, pk):
    """The actor's own export job (exports are private to who asked), else 404."""
    from .models import ExportJob

    try:
        pk = uuid.UUID(str(pk))
    except ValueError:
        raise Http404 from None
    job = ExportJob.objects.for_tenant(actor.tenant).filter(pk=pk, requester=actor).first()
    if job is None:
        raise Http404
    return job
