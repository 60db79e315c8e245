"""Records for dedup tests, made through the apps' own services (as a user would)."""

from __future__ import annotations

from accounts import services as account_services
from contacts import services as contact_services


def account(actor, name, **fields):
    return account_services.account_create(actor=actor, name=name, **fields)


def contact(actor, last_name, first_name="", **fields):
    return contact_services.contact_create(actor=actor, last_name=last_name, first_name=first_name, **fields)


def call(actor, subject, **links):
    return contact_services.activity_log(actor=actor, kind="call", subject=subject, **links)


def custom_field(company, object_label, name, type="text"):
    from crm.customfields import services as customfields

    return customfields.field_create(actor=company.admin, object=object_label, label=name.capitalize(), type=type,
                                     name=name)
