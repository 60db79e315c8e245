"""The merge journal: every row a merge changes or deletes, recorded before it happens, so undo can
put it back exactly (same ids, same values, same timestamps).

Three kinds of entry, JSON only (they live in MergeRecord.journal):

    {"op": "update", "model": "contacts.activity", "pks": [...], "before": {"contact_id": "…"},
     "after": {"contact_id": "…"}}
    {"op": "delete", "model": "contacts.contactemail", "rows": [{<every stored column>}, …]}
    {"op": "create", "model": "accounts.accounttag", "pks": [...]}

Undo replays them backwards: a delete is re-inserted with its id, a create is deleted, an update is
reverted only where the row still holds the merge's value (`after`): a row someone changed since
the merge (an activity moved to another contact) stays as it is now, which is what that person
wanted; a row deleted since stays deleted. Movers (crm/dedup/registry.py) write through
`Journal.update/delete/created` and never touch rows behind its back.
"""

from __future__ import annotations

import datetime
import decimal
import json
import uuid

from django.apps import apps
from django.db import models


def to_json(value):
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if hasattr(value, "code") and not isinstance(value, str):  # django-countries' Country
        return value.code or ""
    return value


def stored_fields(model) -> list:
    """The columns a row image holds: every concrete field but generated ones (recomputed)."""
    return [f for f in model._meta.concrete_fields if not getattr(f, "generated", False)]


def image(obj) -> dict:
    return {f.attname: to_json(f.value_from_object(obj)) for f in stored_fields(type(obj))}


def from_json(model, attname: str, value):
    field = next(f for f in model._meta.concrete_fields if f.attname == attname)
    if value is None:
        return None
    if isinstance(field, models.JSONField):
        return value
    if isinstance(field, models.ForeignKey):
        return field.target_field.to_python(value)
    return field.to_python(value)


class Journal:
    def __init__(self, tenant_id) -> None:
        self.tenant_id = tenant_id
        self.entries: list[dict] = []

    def update(self, qs: models.QuerySet, **values) -> int:
        """UPDATE the rows of `qs` to `values` (field names or attnames), recording each row's
        previous values of those columns. Rows that already hold the values are left alone."""
        model = qs.model
        attnames = {}
        for name, value in values.items():
            field = model._meta.get_field(name)
            attnames[field.attname] = getattr(value, "pk", value)
        after = {k: to_json(v) for k, v in attnames.items()}
        # rows grouped by their previous values; keyed by those values as JSON text, since a JSON
        # column's value (a dict) cannot be a key itself
        groups: dict[str, tuple[dict, list]] = {}
        for row in qs.values("pk", *attnames):
            before = {k: to_json(row[k]) for k in attnames}
            if before == after:
                continue
            groups.setdefault(json.dumps(before, sort_keys=True), (before, []))[1].append(row["pk"])
        changed = 0
        for before, pks in groups.values():
            self.entries.append({"op": "update", "model": model._meta.label_lower, "pks": to_json(pks),
                                 "before": before, "after": after})
            changed += model.objects.filter(tenant_id=self.tenant_id, pk__in=pks).update(**attnames)
        return changed

    def delete(self, qs: models.QuerySet) -> int:
        """DELETE the rows of `qs`, recording them whole. Whatever still points at them must have
        been moved first (the merge service checks), or it would go without a trace."""
        rows = list(qs)
        if not rows:
            return 0
        model = qs.model
        self.entries.append({"op": "delete", "model": model._meta.label_lower, "rows": [image(r) for r in rows]})
        model.objects.filter(tenant_id=self.tenant_id, pk__in=[r.pk for r in rows]).delete()
        return len(rows)

    def created(self, model, pks) -> None:
        pks = list(pks)
        if pks:
            self.entries.append({"op": "create", "model": model._meta.label_lower, "pks": to_json(pks)})


def replay_backwards(entries: list[dict], *, tenant_id) -> dict:
    """Undo `entries` (newest first). Returns counts of what was restored and what was left as it
    is now because it changed after the merge."""
    restored = 0
    kept = 0
    for entry in reversed(entries):
        model = apps.get_model(entry["model"])
        scoped = model.objects.filter(tenant_id=tenant_id)
        if entry["op"] == "delete":
            rows = entry["rows"]
            existing = set(scoped.filter(pk__in=[r["id"] for r in rows]).values_list("pk", flat=True))
            objs = []
            for row in rows:
                if uuid.UUID(str(row["id"])) in existing:
                    kept += 1
                    continue
                objs.append(model(**{k: from_json(model, k, v) for k, v in row.items()}))
            model.objects.bulk_create(objs)
            # bulk_create stamps updated_at (auto_now); put the recorded time back
            if any(f.attname == "updated_at" for f in model._meta.concrete_fields):
                for row in rows:
                    if uuid.UUID(str(row["id"])) not in existing and row.get("updated_at"):
                        scoped.filter(pk=row["id"]).update(
                            updated_at=from_json(model, "updated_at", row["updated_at"]))
            restored += len(objs)
        elif entry["op"] == "create":
            restored += scoped.filter(pk__in=entry["pks"]).delete()[1].get(model._meta.label, 0)
        else:
            after = {k: from_json(model, k, v) for k, v in entry["after"].items()}
            before = {k: from_json(model, k, v) for k, v in entry["before"].items()}
            n = scoped.filter(pk__in=entry["pks"], **after).update(**before)
            restored += n
            kept += len(entry["pks"]) - n
    return {"restored": restored, "kept": kept}
