"""Demo duplicates for seed_demo (DEMO_SEEDERS): a few records entered twice, the way they are in
every real book (a contact typed in again with another spelling, a company created by two reps),
then one scan, so the queue and the record panels have something to show on a fresh machine.
Idempotent: runs only when the company has no candidate pairs yet."""

from __future__ import annotations

from .models import DuplicateCandidate


def seed(tenant, people: dict) -> None:
    from accounts.models import Account
    from contacts.models import Contact, ContactEmail, ContactPhone

    from .tasks import run_scan

    if DuplicateCandidate.objects.for_tenant(tenant).exists():
        return
    contacts = list(Contact.objects.for_tenant(tenant).exclude(email="").exclude(phone="")
                    .select_related("account").order_by("name_key", "id")[:40:10])
    for original in contacts:
        # the same person again: a nickname and the phone number, without the email
        copy = Contact(tenant=tenant, first_name=(original.first_name or "")[:3] or original.first_name,
                       last_name=original.last_name, title=original.title, account=original.account,
                       phone=original.phone, owner=original.owner, created_by=original.owner,
                       modified_by=original.owner)
        copy.save()
        ContactPhone.objects.create(tenant=tenant, contact=copy, number=original.phone, is_primary=True)
        if original.email:
            local, _, domain = original.email.partition("@")
            ContactEmail.objects.create(tenant=tenant, contact=copy, email=f"{local}.work@{domain}",
                                        is_primary=True)
            copy.email = f"{local}.work@{domain}"
            copy.save(update_fields=["email"])
    for original in Account.objects.for_tenant(tenant).exclude(domain="").order_by("name_key", "id")[5:25:10]:
        Account.objects.create(tenant=tenant, name=original.name.rsplit(" ", 1)[0], domain=original.domain,
                               website=original.website, industry=original.industry, type="prospect",
                               billing_country=original.billing_country, currency=original.currency,
                               owner=people["rep2"], created_by=people["rep2"], modified_by=people["rep2"])
    run_scan(tenant)
