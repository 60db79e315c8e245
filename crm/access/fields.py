"""Field-level security: which fields of a registered object an actor may see and change.

The rights come from the actor's profile and permission sets (FieldPermission rows, loaded with the
rest of the access context in one query: crm.access.engine). A field the profile does not restrict
is editable; a profile restriction (hidden / read only) stands unless a permission set lifts it.

What can be restricted (`securable`): the object's own editable fields except those that make the
record what it is (`Secured.required`: an account's name, a contact's last name, an activity's
kind and subject) and those that decide access (owner, and the parent links a child's access
follows), plus every custom field of the tenant (`cf_<name>`). A restricted field carries the
fields derived from it (`Secured.linked`: hiding a contact's email hides their other addresses
too; hiding an account's website hides its domain).

Every path asks this module and nothing re-implements it:
- pages: `restrict_form(form, …)` drops hidden fields and disables read-only ones;
  templates ask `{{ fls.<field> }}` (a `Visibility`, true when the field shows);
- the API: `SecuredSerializerMixin` drops hidden fields from responses and refuses writes;
- services: `guard(…)` refuses a change of a field the actor may not change — the one check
  behind forms, the API, imports and bulk actions;
- lists, exports, search, import mapping: `hidden(actor, key)` / `unwritable(actor, key)`.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError

from . import engine, registry
from .models import FieldAccess

CUSTOM = "cf_"
# never restrictable: what identifies the row, who owns it, the audit trail
SYSTEM = {"id", "tenant", "owner", "created_by", "modified_by", "created_at", "updated_at", "custom"}


def custom_key(name: str) -> str:
    return f"{CUSTOM}{name}"


def custom_names(names) -> frozenset:
    """The custom fields among field-security names, by their own name (cf_segment -> segment)."""
    return frozenset(n[len(CUSTOM):] for n in names if n.startswith(CUSTOM))


def securable(key: str, tenant_id=None) -> list[tuple[str, str]]:
    """(field name, label) of every field of object `key` an admin may hide or make read only,
    in the model's order, then the tenant's custom fields (`cf_<name>`)."""
    entry = registry.get(key)
    model = entry.model
    keep_out = SYSTEM | set(entry.required) | {fk for _parent, fk in entry.parents}
    derived = {d for names in entry.linked.values() for d in names}
    out = []
    for f in model._meta.get_fields():
        if not getattr(f, "concrete", False) or not getattr(f, "editable", False) or f.auto_created \
                or f.many_to_many:
            continue
        if f.name in keep_out or f.name in derived or getattr(f, "generated", False):
            continue
        out.append((f.name, str(f.verbose_name[:1].upper() + f.verbose_name[1:])))
    out += [(m2m.name, str(m2m.verbose_name).capitalize()) for m2m in model._meta.many_to_many
            if m2m.name not in keep_out]
    if tenant_id is not None:
        from crm.customfields import services as customfields

        out += [(custom_key(s.name), s.label) for s in customfields.specs(tenant_id, key)]
    return out


def access(actor, key: str, name: str) -> str:
    """FieldAccess of one field ("hidden", "read_only", "edit"); derived fields follow their source."""
    if actor is None:
        return FieldAccess.HIDDEN
    ctx = engine.context(actor)
    source = _source(key, name)
    return ctx.field_access(key, source)


def _source(key: str, name: str) -> str:
    for source, derived in registry.get(key).linked.items():
        if name in derived:
            return source
    return name


def _restricted(actor, key: str, level: set) -> frozenset:
    """An object outside the sharing model (no registry entry) restricts nothing."""
    entry = registry.find(key)
    if actor is None or entry is None:
        return frozenset()
    ctx = engine.context(actor)
    names = {name for (obj, name), value in ctx.fields.items() if obj == key and value in level}
    linked = entry.linked
    for name in list(names):
        names.update(linked.get(name, ()))
    return frozenset(names)


def hidden(actor, key: str) -> frozenset:
    """Names the actor may not see (with the fields derived from them; custom ones as cf_<name>)."""
    return _restricted(actor, key, {FieldAccess.HIDDEN})


def read_only(actor, key: str) -> frozenset:
    """Names the actor sees but may not change."""
    return _restricted(actor, key, {FieldAccess.READ_ONLY})


def unwritable(actor, key: str) -> frozenset:
    """Names the actor may not set: hidden or read only."""
    return _restricted(actor, key, {FieldAccess.HIDDEN, FieldAccess.READ_ONLY})


class Visibility:
    """For templates: `{% if fls.annual_revenue %}` is true when the field shows;
    `fls.editable.phone` when it may be changed; `fls.custom_hidden` the hidden custom names."""

    def __init__(self, actor, key: str):
        self._hidden = hidden(actor, key)
        self._read_only = read_only(actor, key)

    def __getattr__(self, name: str) -> bool:
        if name.startswith("_"):
            raise AttributeError(name)
        return name not in self._hidden

    def __getitem__(self, name: str) -> bool:
        return name not in self._hidden

    @property
    def editable(self) -> dict:
        return _Editable(self._hidden | self._read_only)

    @property
    def custom_hidden(self) -> set:
        return set(custom_names(self._hidden))


class _Editable:
    def __init__(self, blocked):
        self._blocked = blocked

    def __getattr__(self, name):
        return name not in self._blocked

    __getitem__ = __getattr__


def label(key: str, name: str, tenant_id=None) -> str:
    for field_name, text in securable(key, tenant_id):
        if field_name == name:
            return text
    return name.replace("_", " ").capitalize()


def message(key: str, name: str, level: str | None = None) -> str:
    if level == FieldAccess.HIDDEN:
        return "You cannot set this field."
    return "This field is read only for you."


def _empty(value) -> bool:
    return value is None or value == "" or value == [] or value == {} or value is False


def guard(actor, key: str, data: dict, *, record=None, custom_field: str = "custom") -> dict:
    """Refuse a change of a field the actor may not change. `data` are the values about to be
    written (by name; custom values under `custom`). A value equal to what the record holds (or,
    on create, an empty value or the field's default: what the record gets anyway) is no change
    and passes; anything else raises
    ValidationError({field: message}) and nothing is written. Returns `data` unchanged."""
    blocked = unwritable(actor, key)
    if not blocked:
        return data
    levels = {name: access(actor, key, name) for name in blocked}
    errors = {}
    for name, value in data.items():
        if name == custom_field and isinstance(value, dict):
            current = (getattr(record, custom_field, None) or {}) if record is not None else {}
            for cname, cvalue in value.items():
                ck = custom_key(cname)
                if ck in blocked and not _same(current.get(cname), cvalue, record is None):
                    errors[f"{custom_field}.{cname}"] = message(key, ck, levels[ck])
            continue
        if name not in blocked:
            continue
        if record is None:
            if _same(_default(key, name), value, False):
                continue
            current = None
        else:
            current = _current(record, name)
        if not _same(current, value, record is None):
            errors[name] = message(key, name, levels[name])
    if errors:
        raise ValidationError(errors)
    return data


def _default(key: str, name: str):
    try:
        field = registry.get(key).model._meta.get_field(name)
    except Exception:  # not a model field (a reverse relation such as a contact's emails)
        return None
    return field.get_default() if field.has_default() else None


def _current(record, name):
    field = record._meta.get_field(name)
    if field.many_to_many:
        return sorted(str(t) for t in getattr(record, name).all()) if record.pk else []
    if field.is_relation:
        return getattr(record, field.attname)
    return getattr(record, name)


def _same(current, value, creating: bool) -> bool:
    if creating:
        return _empty(value)
    if _empty(current) and _empty(value):
        return True
    if hasattr(value, "pk"):
        value = value.pk
    if isinstance(value, (list, tuple)) and isinstance(current, list):
        return sorted(str(v) for v in value) == current
    return current == value or str(current) == str(value)


def strip(actor, key: str, data: dict, *, custom_field: str = "custom") -> dict:
    """A copy of a representation (dict by field name) without the fields the actor may not see."""
    gone = hidden(actor, key)
    if not gone:
        return data
    out = {k: v for k, v in data.items() if k not in gone}
    if isinstance(out.get(custom_field), dict):
        out[custom_field] = {n: v for n, v in out[custom_field].items() if custom_key(n) not in gone}
    return out


def restrict_form(form, actor, key: str, *, custom_prefix: str = "custom_") -> None:
    """Drop the hidden fields of a Django form and disable the read-only ones (a disabled field
    keeps its initial value whatever is posted; the service's guard() is the second line)."""
    gone, fixed = hidden(actor, key), read_only(actor, key)
    if not gone and not fixed:
        return
    for name in list(form.fields):
        field_key = custom_key(name[len(custom_prefix):]) if name.startswith(custom_prefix) else name
        if field_key in gone:
            del form.fields[name]
        elif field_key in fixed:
            form.fields[name].disabled = True
            form.fields[name].required = False
            form.fields[name].help_text = "Read only for you."


class SecuredSerializerMixin:
    """For a ModelSerializer of a registered object (`secured_object = "accounts"`): responses
    leave out hidden fields (custom ones inside `custom` too); a write naming a hidden or read-only
    field with a new value is a 400 with that field's error."""

    secured_object: str = ""

    def _fls_actor(self):
        request = self.context.get("request")
        return getattr(getattr(request, "_request", request), "membership", None)

    def get_fields(self):
        fields = super().get_fields()
        gone = hidden(self._fls_actor(), self.secured_object)
        return {name: f for name, f in fields.items() if name not in gone}

    def to_representation(self, instance):
        data = super().to_representation(instance)
        return strip(self._fls_actor(), self.secured_object, data)

    def to_internal_value(self, data):
        actor = self._fls_actor()
        blocked = unwritable(actor, self.secured_object)
        if blocked and hasattr(data, "keys"):
            # a hidden field was dropped from the serializer: naming it is still an error
            errors = {name: message(self.secured_object, name, access(actor, self.secured_object, name))
                      for name in data.keys() if name in blocked and name in hidden(actor, self.secured_object)}
            if errors:
                from rest_framework.exceptions import ValidationError as APIError

                raise APIError(errors)
        return super().to_internal_value(data)
