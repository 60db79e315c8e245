"""Which objects have custom fields. An app registers its model from its AppConfig.ready():

    from crm.customfields.registry import register_object
    register_object("accounts", "accounts.Account", "Accounts")

The model must be a TenantModel with a `custom` JSONField (the values by field name). Later apps
(opportunities, tickets, …) register theirs the same way; nothing here changes.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps


@dataclass(frozen=True)
class CustomObject:
    key: str  # "accounts": the `object` of CustomField, and of URLs and the API
    model_label: str  # "accounts.Account"
    label: str  # "Accounts"
    singular: str  # "account"

    @property
    def model(self):
        return apps.get_model(self.model_label)


_OBJECTS: dict[str, CustomObject] = {}


def register_object(key: str, model_label: str, label: str, singular: str | None = None) -> None:
    _OBJECTS[key] = CustomObject(key, model_label, label, singular or label.rstrip("s").lower())


def objects() -> list[CustomObject]:
    return list(_OBJECTS.values())


def get_object(key: str) -> CustomObject:
    """The registered object, or KeyError."""
    return _OBJECTS[key]


def object_for_model(model) -> CustomObject | None:
    label = model._meta.label
    return next((o for o in _OBJECTS.values() if o.model_label == label), None)
