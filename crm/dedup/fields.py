"""The fields a person chooses between when merging, per object, and how a record's value of each
is read and shown. Custom field values (`custom`, JSONB) are chosen key by key: "custom.<key>".

A field the user does not choose keeps the master's value, or, where the master has none, takes
the first value another record has (a merge should fill gaps, never blank a field). Some things
are not choices: do-not-contact is kept if any record says so (a safety flag must not be lost);
tags, emails, phones and relations are unions (moved by crm/dedup/relations.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from .models import ObjectType

CUSTOM_PREFIX = "custom."


@dataclass(frozen=True)
class MergeField:
    name: str
    label: str
    kind: str = "text"  # text | fk | choice | country | date


CONTACT_FIELDS = [
    MergeField("salutation", "Salutation", "choice"),
    MergeField("first_name", "First name"),
    MergeField("last_name", "Last name"),
    MergeField("title", "Title"),
    MergeField("department", "Department"),
    MergeField("account", "Account", "fk"),
    MergeField("reports_to", "Reports to", "fk"),
    MergeField("email", "Primary email"),
    MergeField("phone", "Primary phone"),
    MergeField("mailing_street", "Street"),
    MergeField("mailing_city", "City"),
    MergeField("mailing_postal_code", "Postal code"),
    MergeField("mailing_region", "Region"),
    MergeField("mailing_country", "Country", "country"),
    MergeField("preferred_channel", "Preferred channel", "choice"),
    MergeField("language", "Language"),
    MergeField("birthday", "Birthday", "date"),
    MergeField("owner", "Owner", "fk"),
]

ACCOUNT_FIELDS = [
    MergeField("name", "Name"),
    MergeField("kind", "Kind", "choice"),
    MergeField("type", "Type", "choice"),
    MergeField("industry", "Industry", "choice"),
    MergeField("website", "Website"),
    MergeField("phone", "Phone"),
    MergeField("billing_street", "Billing street"),
    MergeField("billing_city", "Billing city"),
    MergeField("billing_postal_code", "Billing postal code"),
    MergeField("billing_region", "Billing region"),
    MergeField("billing_country", "Billing country", "country"),
    MergeField("shipping_street", "Shipping street"),
    MergeField("shipping_city", "Shipping city"),
    MergeField("shipping_postal_code", "Shipping postal code"),
    MergeField("shipping_region", "Shipping region"),
    MergeField("shipping_country", "Shipping country", "country"),
    MergeField("employees", "Employees"),
    MergeField("annual_revenue", "Annual revenue"),
    MergeField("currency", "Currency"),
    MergeField("owner", "Owner", "fk"),
    MergeField("parent", "Parent account", "fk"),
    MergeField("source", "Source", "choice"),
    MergeField("rating", "Rating", "choice"),
    MergeField("status", "Status", "choice"),
    MergeField("description", "Description"),
]

FIELDS = {ObjectType.CONTACTS: CONTACT_FIELDS, ObjectType.ACCOUNTS: ACCOUNT_FIELDS}


def raw_value(record, field: MergeField):
    """The stored value used for comparing and applying (ids for foreign keys)."""
    if field.kind == "fk":
        return getattr(record, f"{field.name}_id")
    value = getattr(record, field.name)
    if field.kind == "country":
        return str(value.code if value else "")
    return value


def display_value(record, field: MergeField) -> str:
    if field.kind == "fk":
        related = getattr(record, field.name)
        if related is None:
            return ""
        if field.name == "owner":
            return related.user.full_name or related.user.email
        return str(related)
    if field.kind == "choice":
        return getattr(record, f"get_{field.name}_display")() if getattr(record, field.name) else ""
    if field.kind == "country":
        value = getattr(record, field.name)
        return value.name if value else ""
    value = getattr(record, field.name)
    if value is None:
        return ""
    if field.kind == "date":
        return value.strftime("%-d %b %Y")
    return str(value)


def custom_specs(tenant_id, object_label: str) -> list:
    """The company's active custom fields of the object (crm/customfields), in display order.
    Values of archived fields are not offered: the master keeps its own."""
    from crm.customfields import services as customfields

    return customfields.specs(tenant_id, object_label)


def custom_keys(records, specs) -> list[str]:
    """Names of active custom fields any of the records has a value for, in display order."""
    held = set()
    for record in records:
        if isinstance(record.custom, dict):
            held.update(k for k, v in record.custom.items() if not is_empty(v))
    return [s.name for s in specs if s.name in held]


def is_empty(value) -> bool:
    return value is None or value == "" or value == {} or value == []


def all_field_names(object_label: str, records, specs) -> list[str]:
    return [f.name for f in FIELDS[object_label]] + [CUSTOM_PREFIX + s.name for s in specs]


# --- field-level security (crm.access.fields) ------------------------------------------------------
# A merge field a person may not see is not shown on the merge page and cannot be chosen; one that
# is read only for them is shown but not offered: the master keeps its value (no gap is filled
# from another record either, which would change it just the same).

def fls_name(name: str) -> str:
    """The crm.access.fields name of a merge field: custom.<key> -> cf_<key>."""
    from crm.access import fields as fls

    return fls.custom_key(name[len(CUSTOM_PREFIX):]) if name.startswith(CUSTOM_PREFIX) else name


def restricted(actor, object_label: str) -> tuple[frozenset, frozenset]:
    """(hidden, read only) merge field names (custom ones as custom.<key>) for the actor."""
    from crm.access import fields as fls

    def merge_names(names):
        custom = fls.custom_names(names)
        return frozenset({n for n in names if not n.startswith(fls.CUSTOM)} | {CUSTOM_PREFIX + n for n in custom})

    return merge_names(fls.hidden(actor, object_label)), merge_names(fls.read_only(actor, object_label))


# Which field a duplicate rule matched on, per object: its detail shows that field's value.
RULE_FIELDS = {
    ObjectType.CONTACTS: {"same_email": "email", "same_phone": "phone"},
    ObjectType.ACCOUNTS: {"same_domain": "domain", "same_phone": "phone"},
}


def shown_detail(hidden: frozenset, object_label: str, rule: str, detail: str) -> str:
    """A pair's "what matched" as the person may read it: without a value hidden from them (the
    rule's badge still says "Same email"). A similar-name pair's detail names the people and their
    email domain ("@acme.example") or "same country", which follow the email / billing country."""
    if not detail:
        return ""
    field = RULE_FIELDS.get(object_label, {}).get(rule)
    if field is not None:
        return "" if field in hidden else detail
    if object_label == ObjectType.CONTACTS:
        if "first_name" in hidden:
            return ""
        if "email" in hidden and ", @" in detail:
            return detail.rsplit(", @", 1)[0]
    if object_label == ObjectType.ACCOUNTS and "billing_country" in hidden:
        return detail.removesuffix(", same country")
    return detail
