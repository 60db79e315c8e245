"""THE customer model of the product: accounts (companies, or households/consumers for B2C).

Everything later (opportunities, quotes, orders, invoices, tickets, campaign memberships, value
scores) points at an Account. Sort and search keys are generated `*_key` columns compared with
leakproof operators only (crm/tenancy/search.py), so every list keeps its index under RLS.
"""

from __future__ import annotations

from django.db import models
from django_countries.fields import CountryField

from crm.audit.history import track
from crm.tenancy.models import Membership, TenantModel
from crm.tenancy.search import key_field


def address_fields(prefix: str) -> dict:
    """Postal address fields, twice on an account (billing, shipping). Countries are ISO codes."""
    return {
        f"{prefix}_street": models.CharField(max_length=200, blank=True),
        f"{prefix}_city": models.CharField(max_length=100, blank=True),
        f"{prefix}_postal_code": models.CharField(max_length=20, blank=True),
        f"{prefix}_region": models.CharField(max_length=100, blank=True),
        f"{prefix}_country": CountryField(blank=True),
    }


@track()
class Account(TenantModel):
    class Kind(models.TextChoices):
        COMPANY = "company", "Company"
        PERSON = "person", "Person / household"

    class Type(models.TextChoices):
        PROSPECT = "prospect", "Prospect"
        CUSTOMER = "customer", "Customer"
        PARTNER = "partner", "Partner"
        COMPETITOR = "competitor", "Competitor"
        OTHER = "other", "Other"

    class Rating(models.TextChoices):
        HOT = "hot", "Hot"
        WARM = "warm", "Warm"
        COLD = "cold", "Cold"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        INACTIVE = "inactive", "Inactive"

    class Industry(models.TextChoices):
        AGRICULTURE = "agriculture", "Agriculture"
        CONSTRUCTION = "construction", "Construction"
        CONSUMER_GOODS = "consumer_goods", "Consumer goods"
        EDUCATION = "education", "Education"
        ENERGY = "energy", "Energy"
        FINANCE = "finance", "Financial services"
        GOVERNMENT = "government", "Government"
        HEALTHCARE = "healthcare", "Healthcare"
        HOSPITALITY = "hospitality", "Hospitality"
        MANUFACTURING = "manufacturing", "Manufacturing"
        MEDIA = "media", "Media"
        PROFESSIONAL = "professional_services", "Professional services"
        REAL_ESTATE = "real_estate", "Real estate"
        RETAIL = "retail", "Retail"
        TECHNOLOGY = "technology", "Technology"
        TELECOM = "telecom", "Telecommunications"
        TRANSPORT = "transport", "Transport and logistics"
        OTHER = "other", "Other"

    class Source(models.TextChoices):
        WEB = "web", "Website"
        REFERRAL = "referral", "Referral"
        EVENT = "event", "Event"
        PARTNER = "partner", "Partner"
        OUTBOUND = "outbound", "Outbound"
        ADVERTISING = "advertising", "Advertising"
        IMPORT = "import", "Import"
        OTHER = "other", "Other"

    name = models.CharField(max_length=200)
    name_key = key_field("name")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.COMPANY)
    type = models.CharField(max_length=12, choices=Type.choices, default=Type.PROSPECT)
    industry = models.CharField(max_length=30, choices=Industry.choices, blank=True)
    website = models.URLField(max_length=300, blank=True)
    # the website's host without "www.", lower case: matching and dedup key (services set it)
    domain = models.CharField(max_length=253, blank=True)
    phone = models.CharField(max_length=32, blank=True, help_text="E.164, e.g. +4930123456")
    locals().update(address_fields("billing"))
    locals().update(address_fields("shipping"))
    employees = models.PositiveIntegerField(null=True, blank=True)
    # whole units of `currency`: an integer, because numeric comparisons are not leakproof (bench/)
    annual_revenue = models.BigIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3, default="EUR")
    owner = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="owned_accounts")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children")
    source = models.CharField(max_length=12, choices=Source.choices, blank=True)
    rating = models.CharField(max_length=5, choices=Rating.choices, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    modified_by = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # admin-defined fields (the custom-fields part of the customers issue)
    custom = models.JSONField(default=dict, blank=True)
    tags = models.ManyToManyField("accounts.Tag", through="accounts.AccountTag", related_name="accounts", blank=True)

    class Meta(TenantModel.Meta):
        indexes = [
            models.Index(fields=["tenant", "name_key", "id"], name="account_name_key_idx"),
            models.Index(fields=["tenant", "owner", "name_key", "id"], name="account_owner_name_idx"),
            models.Index(fields=["tenant", "-updated_at", "-id"], name="account_updated_idx"),
            models.Index(fields=["tenant", "domain"], name="account_domain_idx"),
            models.Index(fields=["tenant", "type", "name_key", "id"], name="account_type_name_idx"),
        ]

    def __str__(self) -> str:
        return self.name


@track()
class Tag(TenantModel):
    """A label on accounts. A table (not an array column): tag filters stay leakproof under RLS."""

    name = models.CharField(max_length=50)
    name_key = key_field("name")

    class Meta(TenantModel.Meta):
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(fields=["tenant", "name_key"], name="tag_tenant_name_uniq"),
        ]

    def __str__(self) -> str:
        return self.name


# the copied sort key is bookkeeping, not news: it follows the account's name (history has that)
@track(exclude=["account_name_key"])
class AccountTag(TenantModel):
    # `tag_links` lets an account list join the links of one tag and walk them in name order
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="tag_links")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="+")
    # A copy of the account's name_key, so the accounts of one tag page in name order straight from
    # accounttag_tag_name_idx (one index range, however many accounts carry the tag). Whatever
    # Python writes here is overwritten: a BEFORE INSERT/UPDATE trigger reads it from the account,
    # and a trigger on the account copies a rename to its links (migrations/0003). Every write path
    # (ORM, .update(), merge movers, undo, imports, raw SQL) goes through them; only a load with
    # triggers disabled (bench/generate.py) must fill it itself.
    account_name_key = models.TextField(db_collation="C", default="", editable=False)

    class Meta(TenantModel.Meta):
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(fields=["tenant", "account", "tag"], name="accounttag_uniq"),
        ]
        indexes = [
            models.Index(fields=["tenant", "tag", "account"], name="accounttag_tag_idx"),
            models.Index(fields=["tenant", "tag", "account_name_key", "account"], name="accounttag_tag_name_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id}:{self.tag_id}"
