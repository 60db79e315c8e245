"""AccountTag.account_name_key: the account's sort key on each tag link, kept current by triggers.

A tag filter in name order then pages from (tenant_id, tag_id, account_name_key, account_id) in
index order instead of fetching and sorting every account with the tag (bench/RESULTS.md).

Why triggers and not the ORM: every write path must keep the copy right, including `.update()`
of names, merge movers and undo (which move links with plain UPDATEs), imports (INSERT … SELECT)
and raw SQL. Two plain (not SECURITY DEFINER, not pgtrigger-managed, so `pgtrigger.ignore` cannot
switch them off) triggers:

- BEFORE INSERT, and UPDATE of the link's account, tenant or key, on accounts_accounttag: the key
  is read from the account, whatever the writer put there (a NULL, i.e. an account the writer
  cannot see, fails the NOT NULL like the foreign key would).
- AFTER UPDATE OF name on accounts_account, when the generated name_key changed: the account's
  links get the new key (through the first trigger, so the value has one source).

Both run as the writer, under RLS: the account and its links are in the writer's tenant.
The backfill is one UPDATE … FROM, as the owner with FORCE lifted on the two tables for its
duration (crm/tenancy/rls.py restores FORCE after every migrate anyway; here too, explicitly).
"""

import django.db.models.deletion
from django.db import migrations, models

BACKFILL = """
ALTER TABLE accounts_accounttag NO FORCE ROW LEVEL SECURITY;
ALTER TABLE accounts_account NO FORCE ROW LEVEL SECURITY;
UPDATE accounts_accounttag l SET account_name_key = a.name_key
  FROM accounts_account a
 WHERE a.tenant_id = l.tenant_id AND a.id = l.account_id
   AND l.account_name_key IS DISTINCT FROM a.name_key;
ALTER TABLE accounts_account FORCE ROW LEVEL SECURITY;
ALTER TABLE accounts_accounttag FORCE ROW LEVEL SECURITY;
"""

TRIGGERS = """
CREATE FUNCTION accounts_accounttag_name_key() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
    NEW.account_name_key := (SELECT a.name_key FROM accounts_account a
                              WHERE a.tenant_id = NEW.tenant_id AND a.id = NEW.account_id);
    RETURN NEW;
END
$$;

CREATE TRIGGER accounttag_name_key
BEFORE INSERT OR UPDATE OF account_id, tenant_id, account_name_key ON accounts_accounttag
FOR EACH ROW EXECUTE FUNCTION accounts_accounttag_name_key();

CREATE FUNCTION accounts_account_name_key_to_tags() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
    UPDATE accounts_accounttag SET account_name_key = NEW.name_key
     WHERE tenant_id = NEW.tenant_id AND account_id = NEW.id;
    RETURN NULL;
END
$$;

CREATE TRIGGER account_name_key_to_tags
AFTER UPDATE OF name ON accounts_account
FOR EACH ROW WHEN (OLD.name_key IS DISTINCT FROM NEW.name_key)
EXECUTE FUNCTION accounts_account_name_key_to_tags();
"""

DROP_TRIGGERS = """
DROP TRIGGER IF EXISTS account_name_key_to_tags ON accounts_account;
DROP FUNCTION IF EXISTS accounts_account_name_key_to_tags();
DROP TRIGGER IF EXISTS accounttag_name_key ON accounts_accounttag;
DROP FUNCTION IF EXISTS accounts_accounttag_name_key();
"""


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0002_remove_account_update_update_and_more'),
        ('tenancy', '0002_history_events'),
    ]

    operations = [
        migrations.AddField(
            model_name='accounttag',
            name='account_name_key',
            field=models.TextField(db_collation='C', default='', editable=False),
        ),
        migrations.AlterField(
            model_name='accounttag',
            name='account',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='tag_links',
                                    to='accounts.account'),
        ),
        migrations.RunSQL(BACKFILL, migrations.RunSQL.noop),
        migrations.RunSQL(TRIGGERS, DROP_TRIGGERS),
        migrations.AddIndex(
            model_name='accounttag',
            index=models.Index(fields=['tenant', 'tag', 'account_name_key', 'account'], name='accounttag_tag_name_idx'),
        ),
    ]
