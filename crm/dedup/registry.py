"""What a merge moves: a registry of relations per object, so later apps (opportunities, quotes,
tickets, campaign memberships) move their rows to the master without editing this app.

    # sales/admin_setup.py, called from SalesConfig.ready()
    from crm.dedup.registry import ForeignKeyMover, register_relation

    register_relation("accounts", ForeignKeyMover("sales.Opportunity", "account", "Opportunities"))
    register_relation("contacts", ForeignKeyMover("sales.OpportunityContact", "contact", "Opportunity roles",
                                                  unique_with=("opportunity",)))

A mover has a `key`, a `label` (shown in the merge summary: "12 Activities"), `count(tenant_id=, actor=,
loser_ids=)` and `move(ctx)`. It must write through `ctx.journal` (crm/dedup/journal.py), so that
undo can put every row back; `ForeignKeyMover` and `GenericMover` do. Rows whose move would break a
unique constraint (the same tag on both accounts) are deleted through the journal instead: the
master already has an equal row.

A relation nobody registered is still safe: before the losers are deleted the merge service moves
whatever still points at them (any foreign key whose on_delete would cascade, protect or set null)
through the journal, and counts it under the model's name. Registering gives the label, the
duplicate handling and the count before the merge.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.apps import apps
from django.db import models

from .journal import Journal


@dataclass
class MoveContext:
    actor: object
    tenant_id: object
    object: str
    master: models.Model
    losers: list
    journal: Journal
    choices: dict = field(default_factory=dict)

    @property
    def loser_ids(self) -> list:
        return [r.pk for r in self.losers]


def _model(model):
    return apps.get_model(model) if isinstance(model, str) else model


def as_seen(qs: models.QuerySet, actor) -> models.QuerySet:
    """The rows as `actor` sees them where their model is under the access engine (activities,
    contacts…): a merge preview counts what moves, and a count of records one cannot see would tell
    that they exist. The merge itself moves every row; what the actor cannot see follows the
    surviving record unseen. Rows of the merged records themselves (emails, tags, consents) are
    counted whole."""
    from crm.access import policy, registry

    if actor is None or registry.for_model(qs.model) is None:
        return qs
    return policy.visible(qs, actor)


class ForeignKeyMover:
    """Rows whose foreign key `field` points at a loser point at the master instead.

    `unique_with`: the other columns of a unique constraint with `field`; a row whose key the
    master already has (or that an earlier loser's row just brought) is deleted, not moved.
    `defaults`: extra values set on the moved rows (e.g. is_primary=False)."""

    def __init__(self, model, field_name: str, label: str, *, unique_with: Iterable[str] = (), key: str = "",
                 defaults: dict | None = None):
        self._model = model
        self.field = field_name
        self.label = label
        self.unique_with = tuple(unique_with)
        self.defaults = defaults or {}
        self._key = key

    @property
    def model(self):
        return _model(self._model)

    @property
    def key(self) -> str:
        return self._key or f"{self.model._meta.label_lower}.{self.field}"

    def rows(self, *, tenant_id, loser_ids, master_id=None) -> models.QuerySet:
        qs = self.model.objects.filter(tenant_id=tenant_id, **{f"{self.field}_id__in": list(loser_ids)})
        if master_id is not None and self.model._meta.label_lower == self.model_of_field_target():
            qs = qs.exclude(pk=master_id)  # the master itself (a child of a loser) does not move under itself
        return qs

    def model_of_field_target(self) -> str:
        return self.model._meta.get_field(self.field).related_model._meta.label_lower

    def count(self, *, tenant_id, loser_ids, master_id=None, actor=None) -> int:
        return as_seen(self.rows(tenant_id=tenant_id, loser_ids=loser_ids, master_id=master_id), actor).count()

    def move(self, ctx: MoveContext) -> int:
        qs = self.rows(tenant_id=ctx.tenant_id, loser_ids=ctx.loser_ids, master_id=ctx.master.pk)
        if self.unique_with:
            have = set(self.model.objects.filter(tenant_id=ctx.tenant_id, **{f"{self.field}_id": ctx.master.pk})
                       .values_list(*self.unique_with))
            clash = []
            for row in qs.values("pk", *self.unique_with).order_by("created_at", "pk"):
                key = tuple(row[k] for k in self.unique_with)
                if key in have:
                    clash.append(row["pk"])
                else:
                    have.add(key)
            if clash:
                ctx.journal.delete(self.model.objects.filter(tenant_id=ctx.tenant_id, pk__in=clash))
                qs = qs.exclude(pk__in=clash)
        return ctx.journal.update(qs, **{self.field: ctx.master.pk}, **self.defaults) if qs.exists() else 0


class GenericMover:
    """Rows attached through a generic link (`related_type`, `related_id`), e.g. activities that a
    later app attached to an account or contact."""

    def __init__(self, model, type_field: str, id_field: str, type_value: str, label: str, *, key: str = ""):
        self._model = model
        self.type_field = type_field
        self.id_field = id_field
        self.type_value = type_value
        self.label = label
        self._key = key

    @property
    def model(self):
        return _model(self._model)

    @property
    def key(self) -> str:
        return self._key or f"{self.model._meta.label_lower}.{self.id_field}:{self.type_value}"

    def rows(self, *, tenant_id, loser_ids) -> models.QuerySet:
        return self.model.objects.filter(tenant_id=tenant_id, **{self.type_field: self.type_value,
                                                                 f"{self.id_field}__in": list(loser_ids)})

    def count(self, *, tenant_id, loser_ids, master_id=None, actor=None) -> int:
        return as_seen(self.rows(tenant_id=tenant_id, loser_ids=loser_ids), actor).count()

    def move(self, ctx: MoveContext) -> int:
        return ctx.journal.update(self.rows(tenant_id=ctx.tenant_id, loser_ids=ctx.loser_ids),
                                  **{self.id_field: ctx.master.pk})


_RELATIONS: dict[str, dict[str, object]] = {}


def register_relation(object_label: str, mover) -> None:
    """Register `mover` for merges of `object_label` ("accounts" or "contacts"). Idempotent by key."""
    _RELATIONS.setdefault(object_label, {})[mover.key] = mover


def relations_for(object_label: str) -> list:
    return list(_RELATIONS.get(object_label, {}).values())


def handled_foreign_keys(object_label: str) -> set[tuple[str, str]]:
    """(model label, field name) pairs a registered mover takes care of."""
    return {(m.model._meta.label_lower, m.field) for m in relations_for(object_label) if hasattr(m, "field")}
