"""The types this app searches itself. Other apps register theirs from their own ready()."""

from __future__ import annotations

from accounts.models import Account
from contacts.models import Contact

from .registry import SearchType, register


def _account_subtitle(account: Account) -> str:
    parts = [account.domain, account.get_industry_display() if account.industry else "", account.billing_city]
    return " · ".join(p for p in parts if p)


def _contact_subtitle(contact: Contact) -> str:
    return " · ".join(p for p in (contact.title, contact.email) if p)


register(SearchType(
    key="accounts", label="Accounts", icon="building", order=10,
    function="crm_search_accounts", model=Account,
    fields=("id", "tenant_id", "owner_id", "name", "domain", "industry", "billing_city"),
    url_names=("accounts:detail", "account_detail"),
    title=lambda a: a.name, subtitle=_account_subtitle,
    secured="accounts", matches=("domain",),
))

register(SearchType(
    key="contacts", label="Contacts", icon="contact", order=20,
    function="crm_search_contacts", model=Contact,
    fields=("id", "tenant_id", "owner_id", "first_name", "last_name", "title", "email"),
    url_names=("contacts:detail", "contact_detail"),
    title=lambda c: c.full_name, subtitle=_contact_subtitle,
    secured="contacts", matches=("email", "phone", "first_name"),
))
