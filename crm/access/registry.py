"""Which objects the access model secures. An app registers each of its models from
AppConfig.ready():

    from crm.access.registry import register
    register("contacts", "contacts.Contact", "Contacts", parents=[("accounts", "account")])

`parents` lists (parent object, foreign key field) pairs: a child record is reachable through its
parent when the child's organisation-wide default is "controlled by parent", and always through
the parent's team and collaboration group (a team's access covers the record and its children).
`default` is the organisation-wide default until an admin sets one. `required` names the fields
field-level security may not restrict (what names the record, what keeps people safe such as a
contact's do-not-contact flag, what the system maintains); `linked` maps a field to the fields
derived from it, which follow its restriction (crm.access.fields).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.apps import apps


@dataclass(frozen=True)
class Secured:
    key: str
    model_label: str
    label: str
    owner_field: str = "owner"
    parents: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    default: str = "private"
    # field-level security (crm.access.fields): fields that cannot be restricted (what names the
    # record), and fields derived from another that follow its restriction
    required: tuple[str, ...] = ()
    linked: dict = field(default_factory=dict)

    @property
    def model(self):
        return apps.get_model(self.model_label)

    @property
    def table(self) -> str:
        return self.model._meta.db_table

    def column(self, name: str) -> str:
        return self.model._meta.get_field(name).column

    @property
    def owner_column(self) -> str:
        return self.column(self.owner_field)


_OBJECTS: dict[str, Secured] = {}


def register(key: str, model_label: str, label: str, *, owner_field: str = "owner",
             parents=(), default: str = "private", required=(), linked=None) -> Secured:
    entry = Secured(key, model_label, label, owner_field, tuple(tuple(p) for p in parents), default,
                    tuple(required), dict(linked or {}))
    _OBJECTS[key] = entry
    return entry


def objects() -> list[Secured]:
    return list(_OBJECTS.values())


def get(key: str) -> Secured:
    return _OBJECTS[key]


def find(key: str) -> Secured | None:
    """The object `key`, or None for one outside the sharing model (no access, no field security)."""
    return _OBJECTS.get(key)


def for_model(model) -> Secured | None:
    label = model._meta.concrete_model._meta.label
    return next((o for o in _OBJECTS.values() if o.model_label == label), None)


def children_of(key: str) -> list[tuple[Secured, str]]:
    """(child object, fk field) for every registered object whose parent is `key`."""
    return [(o, fk) for o in _OBJECTS.values() for parent, fk in o.parents if parent == key]
