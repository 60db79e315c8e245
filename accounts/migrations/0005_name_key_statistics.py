"""A finer histogram of name_key (1,000 buckets instead of 100): PostgreSQL estimates a name prefix
("acme…") from it. With 100 buckets of 1 % each, a prefix held by 0.45 % of a million accounts was
estimated at one row, so a rep's search walked the whole prefix range filtering for their rows
(5.4 ms); estimated right, it takes the rep's own slice of the owner index (0.07 ms).
bench/RESULTS.md, "The access model … second round"."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_history_statement_level")]

    operations = [
        migrations.RunSQL(
            "ALTER TABLE accounts_account ALTER COLUMN name_key SET STATISTICS 1000",
            "ALTER TABLE accounts_account ALTER COLUMN name_key SET STATISTICS -1",
        ),
    ]
