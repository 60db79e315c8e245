"""Indexes for the list pages' filters and sorts (crm/lists), on tables of other apps.

Every list filter must stay one index range under RLS at a million rows: a filter on a column
compared with `=` inside a `(tenant_id, <column>, <sort key>, id)` index gives the filtered page in
sort order without reading the rows that do not match; a date range gets `(tenant_id, <column>,
id)`. RunSQL (not Meta.indexes) because the models belong to accounts and contacts; the names
start with `lists_` so a later move into the models' Meta is a rename, not a duplicate.
On a large live database run these as CREATE INDEX CONCURRENTLY by hand before deploying.
"""

from django.db import migrations

INDEXES = [
    ("lists_account_industry_idx", "accounts_account", "tenant_id, industry, name_key, id"),
    ("lists_account_status_idx", "accounts_account", "tenant_id, status, name_key, id"),
    ("lists_account_rating_idx", "accounts_account", "tenant_id, rating, name_key, id"),
    ("lists_account_country_idx", "accounts_account", "tenant_id, billing_country, name_key, id"),
    ("lists_account_created_idx", "accounts_account", "tenant_id, created_at, id"),
    ("lists_contact_country_idx", "contacts_contact", "tenant_id, mailing_country, name_key, id"),
    ("lists_contact_language_idx", "contacts_contact", "tenant_id, language, name_key, id"),
    ("lists_contact_dnc_idx", "contacts_contact", "tenant_id, do_not_contact, name_key, id"),
    ("lists_contact_created_idx", "contacts_contact", "tenant_id, created_at, id"),
    ("lists_activity_time_idx", "contacts_activity", "tenant_id, occurred_at DESC, id DESC"),
    ("lists_activity_kind_idx", "contacts_activity", "tenant_id, kind, occurred_at DESC, id DESC"),
    ("lists_activity_status_idx", "contacts_activity", "tenant_id, status, occurred_at DESC, id DESC"),
    ("lists_activity_due_idx", "contacts_activity", "tenant_id, due_at, id"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("lists", "0001_initial"),
        ("accounts", "0002_remove_account_update_update_and_more"),
        ("contacts", "0003_remove_contact_update_update_and_more"),
    ]

    operations = [
        migrations.RunSQL(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({columns})",
            f"DROP INDEX IF EXISTS {name}",
        )
        for name, table, columns in INDEXES
    ]
