"""Custom fields: their definitions (admins) and the writing of values (every app's services).

Apps call, inside their own transaction:

    changed = customfields.services.stage(account, "accounts", data.get("custom"), creating=False)
    account.save()
    if changed:
        customfields.services.sync(account, "accounts")

`sync` (write_values, write_many for bulk paths) keeps the filterable copy (CustomValue) equal to
the record's `custom` column.
"""

from __future__ import annotations

import re
import unicodedata

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max

from crm.access import policy
from crm.tenancy.models import Membership

from . import registry, values
from .models import CustomField, CustomValue, FieldType

MAX_FIELDS_PER_OBJECT = 200
MAX_OPTIONS = 500
NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
PICKLISTS = (FieldType.PICKLIST, FieldType.MULTI_PICKLIST)


# --- reading definitions --------------------------------------------------------------------


def fields_of(tenant, object_key: str, *, archived: bool = False):
    qs = CustomField.objects.for_tenant(tenant).filter(object=object_key)
    if not archived:
        qs = qs.filter(archived=False)
    return qs.order_by("position", "label", "id")


def specs(tenant, object_key: str) -> list[values.Spec]:
    """The active fields of an object, in display order (one query)."""
    return [values.Spec.of(f) for f in fields_of(tenant, object_key)]


def clean_for(tenant, object_key: str, data: dict | None, *, existing: dict | None = None,
              creating: bool = False, field_specs: list | None = None) -> dict:
    """The `custom` dict to store after applying `data`; ValidationError({"custom.<name>": …})."""
    if data is not None and not isinstance(data, dict):
        raise ValidationError({"custom": "Custom fields are an object of values by field name."})
    return values.clean(field_specs if field_specs is not None else specs(tenant, object_key), data,
                        existing=existing, creating=creating)


def write_values(record, object_key: str, custom: dict, *, field_specs: list | None = None) -> None:
    """Make the record's CustomValue rows match `custom` (call after saving the record)."""
    write_many(record.tenant_id, object_key, [(record.pk, custom)], field_specs=field_specs,
               replace=True)


def write_many(tenant_id, object_key: str, rows, *, field_specs: list | None = None, replace: bool = True,
               batch_size: int = 5000) -> int:
    """The CustomValue rows of many records at once (imports, merges): `rows` = [(record_id,
    custom dict)]. With replace, existing rows of these records are removed first. Returns the
    number of rows written."""
    field_specs = field_specs if field_specs is not None else [
        values.Spec.of(f) for f in CustomField.objects.filter(tenant_id=tenant_id, object=object_key, archived=False)
    ]
    rows = list(rows)
    if not rows:
        return 0
    record_ids = [pk for pk, _ in rows]
    if replace:
        CustomValue.objects.filter(tenant_id=tenant_id, record_id__in=record_ids,
                                   field_id__in=[s.id for s in field_specs]).delete()
    new = []
    for pk, custom in rows:
        for spec in field_specs:
            for columns in values.index_rows(spec, (custom or {}).get(spec.name)):
                new.append(CustomValue(tenant_id=tenant_id, field_id=spec.id, record_id=pk, **columns))
    CustomValue.objects.bulk_create(new, batch_size=batch_size)
    return len(new)


def forget_records(tenant_id, record_ids) -> None:
    """Remove the filterable copies of deleted records (their `custom` went with the row)."""
    CustomValue.objects.filter(tenant_id=tenant_id, record_id__in=list(record_ids)).delete()


# --- definitions (admins) -------------------------------------------------------------------


def _require_admin(actor: Membership) -> None:
    if not policy.can(actor, "customize"):
        raise PermissionDenied("Your profile does not allow defining custom fields.")


def name_from_label(label: str) -> str:
    text = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode().lower()
    name = re.sub(r"[^a-z0-9]+", "_", text).strip("_")[:40] or "field"
    return name if name[0].isalpha() else f"f_{name}"[:40]


def _clean_options(kind: str, options) -> list[str]:
    if kind not in PICKLISTS:
        return []
    if isinstance(options, str):
        options = options.splitlines()
    cleaned, seen = [], set()
    for option in options or []:
        option = str(option).strip()
        if not option:
            continue
        if ";" in option:
            raise ValidationError({"options": f"“{option}”: a choice cannot contain “;” (it separates "
                                              "the choices of a multi-select in imports)."})
        if len(option) > 100:
            raise ValidationError({"options": f"“{option[:30]}…”: a choice has at most 100 characters."})
        if option.casefold() in seen:
            raise ValidationError({"options": f"“{option}” is listed twice."})
        seen.add(option.casefold())
        cleaned.append(option)
    if not cleaned:
        raise ValidationError({"options": "A picklist needs at least one choice, one per line."})
    if len(cleaned) > MAX_OPTIONS:
        raise ValidationError({"options": f"At most {MAX_OPTIONS} choices."})
    return cleaned


def _clean_default(field: CustomField, default):
    if values.is_empty(default):
        return None
    try:
        return values.coerce(values.Spec.of(field), default)
    except ValueError as exc:
        raise ValidationError({"default": str(exc)}) from None


@transaction.atomic
def field_create(*, actor: Membership, object: str, label: str, type: str, name: str = "",
                 help_text: str = "", required: bool = False, default=None, options=None) -> CustomField:
    _require_admin(actor)
    try:
        registry.get_object(object)
    except KeyError:
        raise ValidationError({"object": f"“{object}” has no custom fields."}) from None
    label = (label or "").strip()
    if not label:
        raise ValidationError({"label": "Give the field a label."})
    if type not in FieldType.values:
        raise ValidationError({"type": "Choose a field type."})
    name = (name or "").strip() or name_from_label(label)
    if not NAME_RE.match(name):
        raise ValidationError({"name": "Lower-case letters, digits and _, starting with a letter (at most 40)."})
    existing = CustomField.objects.for_tenant(actor.tenant).filter(object=object)
    if existing.filter(name=name).exists():
        raise ValidationError({"name": f"There is already a field “{name}” on {object}."})
    if existing.count() >= MAX_FIELDS_PER_OBJECT:
        raise ValidationError({"label": f"At most {MAX_FIELDS_PER_OBJECT} custom fields per object."})
    position = (existing.aggregate(m=Max("position"))["m"] or 0) + 1
    field = CustomField(tenant=actor.tenant, object=object, name=name, label=label[:80], type=type,
                        help_text=(help_text or "").strip()[:300], required=bool(required),
                        options=_clean_options(type, options), position=position)
    field.default = _clean_default(field, default)
    field.save()
    return field


@transaction.atomic
def field_update(*, actor: Membership, field: CustomField, **changes) -> CustomField:
    """Label, help text, required, default, options and position may change; name and type not."""
    _require_admin(actor)
    for fixed in ("name", "type", "object"):
        if fixed in changes and changes[fixed] != getattr(field, fixed):
            raise ValidationError({fixed: f"The {fixed} of a field cannot change once it exists."})
    if "label" in changes:
        label = (changes["label"] or "").strip()
        if not label:
            raise ValidationError({"label": "Give the field a label."})
        field.label = label[:80]
    if "help_text" in changes:
        field.help_text = (changes["help_text"] or "").strip()[:300]
    if "required" in changes:
        field.required = bool(changes["required"])
    if "options" in changes:
        field.options = _clean_options(field.type, changes["options"])
    if "position" in changes and changes["position"] is not None:
        field.position = int(changes["position"])
    if "default" in changes:
        field.default = _clean_default(field, changes["default"])
    field.save()
    return field


@transaction.atomic
def field_archive(*, actor: Membership, field: CustomField, archived: bool = True) -> CustomField:
    _require_admin(actor)
    field.archived = archived
    field.save(update_fields=["archived", "updated_at"])
    return field


# --- what the apps' services call -----------------------------------------------------------


def stage(record, object_key: str, data, *, creating: bool) -> bool:
    """Check `data` (custom values by name; None = not being changed) and put the resulting
    values on `record.custom`, before the record is saved. On create, defaults fill in and required
    fields are enforced even when `data` is None. Returns True when `sync` must run after saving.
    Raises ValidationError({"custom.<name>": …}) and changes nothing when a value is bad."""
    if data is None and not creating:
        return False
    record.custom = clean_for(record.tenant_id, object_key, data or {},
                              existing=None if creating else (record.custom or {}), creating=creating)
    return True


def sync(record, object_key: str) -> None:
    """After saving a record whose custom values were staged: its filterable copy."""
    write_values(record, object_key, record.custom or {})
