"""A finer histogram of name_key for contacts, for the same reason as accounts 0005: name prefixes
are estimated from it, and a prefix estimated at one row turns a rep's search into a walk of the
whole prefix range."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("contacts", "0007_history_statement_level")]

    operations = [
        migrations.RunSQL(
            "ALTER TABLE contacts_contact ALTER COLUMN name_key SET STATISTICS 1000",
            "ALTER TABLE contacts_contact ALTER COLUMN name_key SET STATISTICS -1",
        ),
    ]
