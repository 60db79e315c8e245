"""contacts_erase_history (0004) also blanks the custom values (0005: Activity.custom) in the history
of the activities that were only about the erased person. Same function, same review
(tests/isolation/test_rls_catalog.py); only that one statement changes."""

import importlib

from django.db import migrations

first = importlib.import_module("contacts.migrations.0004_erase_history_function")

OLD = "UPDATE contacts_activityevent e SET subject = initcap(e.kind), body = '', outcome = '', location = ''"
NEW = ("UPDATE contacts_activityevent e SET subject = initcap(e.kind), body = '', outcome = '', location = '', "
       "custom = '{}'::jsonb")
if OLD not in first.FUNCTION:  # pragma: no cover - a guard for whoever edits 0004
    raise RuntimeError("contacts_erase_history in 0004 changed: update 0006")
FUNCTION = first.FUNCTION.replace(OLD, NEW)


def forwards(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(FUNCTION)  # CREATE OR REPLACE keeps the owner and the grants


def backwards(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(first.FUNCTION)


class Migration(migrations.Migration):
    dependencies = [("contacts", "0005_activity_custom")]

    operations = [migrations.RunPython(forwards, backwards)]
