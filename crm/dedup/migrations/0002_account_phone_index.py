"""The "same phone" rule for accounts is an equality lookup, and under RLS an equality condition
needs an index to be fast (ARCHITECTURE.md, "Speed under RLS"). accounts_account has none on phone;
this adds `(tenant_id, phone)` without touching the accounts app's models. Whoever next changes
accounts.Account's Meta may move it there (same name, `models.Index(fields=["tenant", "phone"])`)
and turn this into a no-op."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("dedup", "0001_initial"), ("accounts", "0001_initial")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS account_phone_idx ON accounts_account (tenant_id, phone)",
            "DROP INDEX IF EXISTS account_phone_idx",
        ),
    ]
