"""Writes of customer accounts: one function per use case, keyword-only, one transaction.

Business rules live here: the website's domain, phone numbers in E.164, a parent in the same
company that the actor may see and that is not below the account (no cycles), who may own an
account, and the audit fields. History is recorded by the audit triggers.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

import phonenumbers
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from crm.access import fields as field_security
from crm.access import policy
from crm.customfields import services as customfields
from crm.tenancy.models import Membership
from crm.tenancy.search import normalise_text

from .models import Account, AccountTag, Tag

# What a caller may set on an account (the rest is derived or audit data).
EDITABLE_FIELDS = frozenset({
    "name", "kind", "type", "industry", "website", "phone",
    "billing_street", "billing_city", "billing_postal_code", "billing_region", "billing_country",
    "shipping_street", "shipping_city", "shipping_postal_code", "shipping_region", "shipping_country",
    "employees", "annual_revenue", "currency", "owner", "parent", "source", "rating", "status",
    "description", "custom",
})
# A hierarchy deeper than this is refused; it also bounds every walk of the tree.
MAX_DEPTH = 50
MAX_TAG_LENGTH = 50


# --- normalisation --------------------------------------------------------------------------


def normalise_website(website: str) -> tuple[str, str]:
    """(website, domain): a scheme is added when missing; the domain is the host, lower case,
    without "www."."""
    website = (website or "").strip()
    if not website:
        return "", ""
    if "://" not in website:
        website = f"https://{website}"
    try:
        host = (urlsplit(website).hostname or "").lower().rstrip(".")
    except ValueError:
        raise ValidationError({"website": "Enter a web address such as https://example.com."}) from None
    if not host or "." not in host:
        raise ValidationError({"website": "Enter a web address such as https://example.com."})
    if host.startswith("www."):
        host = host[4:]
    return website, host


def normalise_phone(phone: str, *, country: str = "") -> str:
    """E.164 ("+4930123456"). Without a billing country the number must start with +<country code>."""
    phone = (phone or "").strip()
    if not phone:
        return ""
    region = (country or "").upper() or None
    if region is None and not phone.startswith(("+", "00")):
        raise ValidationError({"phone": "Start the number with + and the country code (e.g. +49 30 123456), "
                                        "or set the billing country."})
    if phone.startswith("00"):
        phone = "+" + phone[2:]
    try:
        number = phonenumbers.parse(phone, region)
    except phonenumbers.NumberParseException:
        raise ValidationError({"phone": "This is not a phone number."}) from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError({"phone": "This phone number is not valid for its country."})
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# --- hierarchy ------------------------------------------------------------------------------


def ancestor_ids(account_id, *, tenant_id, limit: int = MAX_DEPTH) -> list:
    """Ids from the account's parent up to the root, nearest first (one recursive query; the
    tenant is named in every step, so each step is an index lookup under RLS)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH RECURSIVE up(id, parent_id, depth) AS (
                SELECT id, parent_id, 0 FROM accounts_account WHERE tenant_id = %s AND id = %s
                UNION ALL
                SELECT a.id, a.parent_id, up.depth + 1
                FROM accounts_account a JOIN up ON a.id = up.parent_id
                WHERE a.tenant_id = %s AND up.depth < %s
            )
            SELECT id FROM up WHERE depth > 0 ORDER BY depth
            """,
            [tenant_id, account_id, tenant_id, limit],
        )
        return [row[0] for row in cursor.fetchall()]


def _check_parent(*, actor: Membership, account: Account | None, parent: Account | None) -> None:
    if parent is None:
        return
    if parent.tenant_id != actor.tenant_id or not policy.can(actor, "read", parent):
        raise ValidationError({"parent": "Choose a parent account you can see."})
    if account is None or account.pk is None:
        return
    if parent.pk == account.pk:
        raise ValidationError({"parent": "An account cannot be its own parent."})
    above = ancestor_ids(parent.pk, tenant_id=actor.tenant_id, limit=MAX_DEPTH + 1)
    if account.pk in above:
        raise ValidationError({"parent": f"{parent} is below {account} in the hierarchy: that would make a loop."})
    if len(above) >= MAX_DEPTH:
        raise ValidationError({"parent": f"The hierarchy may be at most {MAX_DEPTH} levels deep."})


def _check_owner(*, actor: Membership, owner: Membership) -> None:
    if not isinstance(owner, Membership) or owner.tenant_id != actor.tenant_id or not owner.is_active:
        raise ValidationError({"owner": "Choose an active member of your company."})
    if owner.pk in policy.subordinate_ids(actor):
        return
    if not policy.can(actor, "transfer_records"):  # managers' and admins' right by default
        raise ValidationError({"owner": "Only someone who may hand records over (a manager or an admin) can give an "
                                        "account to someone outside their team."})


# --- use cases ------------------------------------------------------------------------------


def _apply(account: Account, fields: dict) -> None:
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise TypeError(f"Not editable on an account: {', '.join(sorted(unknown))}")
    for name, value in fields.items():
        if value is None and name not in {"employees", "annual_revenue", "parent"}:
            value = {} if name == "custom" else ""
        setattr(account, name, value)
    if not isinstance(account.custom, dict):
        raise ValidationError({"custom": "Custom fields are a set of names and values."})
    account.website, account.domain = normalise_website(account.website)
    account.phone = normalise_phone(account.phone, country=str(account.billing_country or ""))
    account.currency = (account.currency or "").upper()


@transaction.atomic
def account_create(*, actor: Membership, name: str, owner: Membership | None = None,
                   tags: Iterable[str] | None = None, **fields) -> Account:
    """A new account, owned by the actor unless another owner is named."""
    policy.require(actor, "create", "accounts")
    # field-level security: a hidden or read-only field cannot be set, by any path
    field_security.guard(actor, "accounts", {**fields, "name": name,
                                             **({"tags": list(tags)} if tags is not None else {})})
    owner = owner or actor
    _check_owner(actor=actor, owner=owner)
    account = Account(tenant_id=actor.tenant_id, created_by=actor, modified_by=actor)
    custom = fields.pop("custom", None)
    _apply(account, {"name": name, "owner": owner, **fields})
    _check_parent(actor=actor, account=account, parent=account.parent)
    customfields.stage(account, "accounts", custom, creating=True)
    account.full_clean(exclude=["tenant"], validate_constraints=False)
    account.save()
    customfields.sync(account, "accounts")
    if tags is not None:
        account_set_tags(actor=actor, account=account, names=tags)
    return account


@transaction.atomic
def account_update(*, actor: Membership, account: Account, tags: Iterable[str] | None = None, **fields) -> Account:
    """Change the given fields; the rest stay as they are."""
    policy.require(actor, "edit", account)
    # field-level security, before anything changes: a hidden or read-only field keeps its value
    field_security.guard(actor, "accounts", {**fields, **({"tags": list(tags)} if tags is not None else {})},
                         record=account)
    if "owner" in fields and fields["owner"] is None:
        raise ValidationError({"owner": "An account needs an owner."})
    if "owner" in fields and fields["owner"].pk != account.owner_id:
        _check_owner(actor=actor, owner=fields["owner"])
    if "parent" in fields and fields["parent"] is not None and fields["parent"].pk != account.parent_id:
        _check_parent(actor=actor, account=account, parent=fields["parent"])
    custom_changed = customfields.stage(account, "accounts", fields.pop("custom", None), creating=False)
    _apply(account, fields)
    account.modified_by = actor
    account.full_clean(exclude=["tenant"], validate_constraints=False)
    account.save()
    if custom_changed:
        customfields.sync(account, "accounts")
    if tags is not None:
        account_set_tags(actor=actor, account=account, names=tags)
    return account


@transaction.atomic
def account_set_tags(*, actor: Membership, account: Account, names: Iterable[str]) -> list[Tag]:
    """The account's tags become exactly `names` (case-blind; new tags are created)."""
    policy.require(actor, "edit", account)
    names = list(names)
    field_security.guard(actor, "accounts", {"tags": names}, record=account)
    wanted: dict[str, str] = {}
    for raw in names:
        name = " ".join(str(raw).split())
        if not name:
            continue
        if len(name) > MAX_TAG_LENGTH:
            raise ValidationError({"tags": f"A tag has at most {MAX_TAG_LENGTH} characters."})
        wanted.setdefault(normalise_text(name), name)
    existing = {t.name_key: t for t in Tag.objects.for_tenant(actor.tenant).filter(name_key__in=list(wanted))}
    tags = []
    for key, name in wanted.items():
        tag = existing.get(key)
        if tag is None:
            tag = Tag.objects.create(tenant_id=actor.tenant_id, name=name)
        tags.append(tag)
    links = AccountTag.objects.for_tenant(actor.tenant).filter(account=account)
    links.exclude(tag_id__in=[t.pk for t in tags]).delete()
    have = set(links.values_list("tag_id", flat=True))
    AccountTag.objects.bulk_create([
        AccountTag(tenant_id=actor.tenant_id, account=account, tag=t) for t in tags if t.pk not in have
    ])
    return tags


@transaction.atomic
def accounts_change_owner(*, actor: Membership, ids: Iterable, owner: Membership) -> int:
    """Hand the accounts the actor may edit among `ids` to `owner`; returns how many changed."""
    if not policy.can(actor, "transfer_records"):
        raise ValidationError({"owner": "Only someone who may hand records over (a manager or an admin) can change "
                                        "owners in bulk."})
    _check_owner(actor=actor, owner=owner)
    qs = policy.visible(Account.objects.for_tenant(actor.tenant), actor, "edit").filter(id__in=list(ids))
    return qs.exclude(owner=owner).update(owner=owner, modified_by=actor, updated_at=timezone.now())


@transaction.atomic
def account_delete(*, actor: Membership, account: Account) -> None:
    """Delete an account; its children and contacts stay, without it."""
    policy.require(actor, "delete", account)
    customfields.forget_records(account.tenant_id, [account.pk])
    account.delete()
