"""Delete with undo: a tenant-scoped JSON snapshot of everything a delete removes or changes.

Django's deletion Collector already knows what a delete takes with it (CASCADE: an account's
tags, relations, activities and their attendees and comments…) and what it changes (SET_NULL:
contacts and child accounts lose the account). Before deleting we walk the same collector and
keep, in one `TrashBatch` row:

- every row it will delete (all concrete, non-generated columns, by attname), models in order;
- the current value of every column it will set to NULL/default, by row;
- the filterable custom-value copies (crm.customfields CustomValue) of the deleted records, which
  are linked by `record_id`, not by a foreign key.

Undo inserts the rows back (bulk_create; the composite foreign keys are DEFERRABLE INITIALLY
DEFERRED, so order within the transaction does not matter), then re-applies the old column values,
in one transaction: all or nothing. History records the delete and the re-insert like any change.
A restore that collides with a row made since (the same tag name, say) fails as a whole with a
message; nothing half-restored stays.
"""

from __future__ import annotations

import json

from django.apps import apps
from django.core.serializers.json import DjangoJSONEncoder
from django.db import router
from django.db.models import QuerySet
from django.db.models.deletion import Collector

from crm.customfields.models import CustomValue

from .models import TrashBatch


class _Encoder(DjangoJSONEncoder):
    """Dates, times, UUIDs, decimals as Django writes them; anything else (a Country) as its text,
    which is what the field's to_python reads back."""

    def default(self, o):
        try:
            return super().default(o)
        except TypeError:
            return str(o)


def _columns(model) -> list:
    return [f for f in model._meta.concrete_fields if not getattr(f, "generated", False)]


def _row(obj, columns) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in columns}


def delete_into_trash(*, actor, definition, records: list, summary: str, expires_at) -> TrashBatch:
    model = definition.model
    collector = Collector(using=router.db_for_write(model), origin=records)
    collector.collect(records)
    tables: dict[str, list] = {}
    order: list[str] = []

    def keep(m, objs):
        label = m._meta.label
        if label not in tables:
            tables[label] = []
            order.append(label)
        columns = _columns(m)
        tables[label].extend(_row(o, columns) for o in objs)

    for m, instances in collector.data.items():
        keep(m, instances)
    for qs in collector.fast_deletes:
        keep(qs.model, list(qs))
    updates = []
    for (field, _value), batches in collector.field_updates.items():
        pairs = []
        for batch in batches:
            if isinstance(batch, QuerySet):
                pairs.extend(batch.values_list("pk", field.attname))
            else:
                pairs.extend((o.pk, getattr(o, field.attname)) for o in batch)
        if pairs:
            updates.append([field.model._meta.label, field.attname, pairs])
    record_ids = [r["id"] for label in order for r in tables[label] if "id" in r]
    custom = list(CustomValue.objects.filter(tenant_id=actor.tenant_id, record_id__in=record_ids))
    if custom:
        keep(CustomValue, custom)
    snapshot = json.loads(json.dumps({"rows": [[label, tables[label]] for label in order], "updates": updates},
                                     cls=_Encoder))
    batch = TrashBatch.objects.create(tenant_id=actor.tenant_id, actor=actor, object=definition.key,
                                      count=len(records), summary=summary, snapshot=snapshot, expires_at=expires_at)
    if definition.before_delete is not None:
        definition.before_delete(actor.tenant_id, [r.pk for r in records])
    if custom:
        CustomValue.objects.filter(tenant_id=actor.tenant_id, id__in=[c.pk for c in custom]).delete()
    collector.delete()
    return batch


def restore(batch: TrashBatch) -> None:
    snapshot = batch.snapshot
    for label, rows in snapshot["rows"]:
        model = apps.get_model(label)
        columns = {f.attname: f for f in _columns(model)}
        objs = [model(**{name: columns[name].to_python(value) for name, value in row.items() if name in columns})
                for row in rows]
        model.objects.bulk_create(objs, batch_size=1000)
    for label, attname, pairs in snapshot["updates"]:
        model = apps.get_model(label)
        field = next(f for f in model._meta.concrete_fields if f.attname == attname)
        by_value: dict = {}
        for pk, value in pairs:
            by_value.setdefault(value, []).append(pk)
        for value, pks in by_value.items():
            model.objects.filter(tenant_id=batch.tenant_id, pk__in=pks).update(
                **{attname: field.to_python(value)})
