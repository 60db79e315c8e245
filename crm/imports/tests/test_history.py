"""An import writes thousands of records per statement; each still gets its own history entry, made
through the import, by the person who ran it."""

import pytest
from django.db import connection

from contacts.models import Contact
from contacts.tests.factories import ContactFactory
from crm.audit.history import history_for
from crm.imports import writing

from .conftest import csv_file

pytestmark = pytest.mark.django_db

FILE = ("Last name,Email,Phone,Job title\nOld,olga@x.example,,CEO\nAsk,ask@x.example,+49 30 1234567,\n"
        "Berg,berg@x.example,,Buyer\nCho,cho@x.example,,\n")


def test_every_imported_and_updated_contact_has_its_own_entry_by_the_importer(acme, run_import, in_tenant,
                                                                             monkeypatch):
    monkeypatch.setattr(writing, "CHUNK", 2)  # several chunks, each one statement per table
    olga = ContactFactory(tenant=acme.tenant, owner=acme.rep, last_name="Old", email="olga@x.example", title="Buyer")

    job = run_import(acme.rep, "contacts", csv_file(FILE), duplicates="update")

    assert (job.status, job.created, job.updated) == ("done", 3, 1)
    with in_tenant(acme):
        new = list(Contact.objects.for_tenant(acme.tenant).exclude(pk=olga.pk).order_by("last_name"))
        entries = {c.last_name: history_for(c, actor=acme.admin) for c in [olga, *new]}
        with connection.cursor() as cursor:
            cursor.execute("SELECT e.contact_id, e.email, e.pgh_context->>'source' FROM contacts_contactemailevent e "
                           "WHERE e.tenant_id = %s AND e.pgh_label = 'insert'", [acme.tenant.pk])
            email_events = sorted(cursor.fetchall())
    assert {name: [(e.action, e.source, e.who) for e in history] for name, history in entries.items()} == {
        "Old": [("changed", "import", "Acme Rep"), ("created", "system", "The system")],
        "Ask": [("created", "import", "Acme Rep")],
        "Berg": [("created", "import", "Acme Rep")],
        "Cho": [("created", "import", "Acme Rep")],
    }
    assert [(c.label, c.before_display, c.after_display) for c in entries["Old"][0].changes] == [
        ("Title", "Buyer", "CEO"), ("Modified by", "", "Acme Rep")]
    assert email_events == sorted((c.pk, c.email, "import") for c in new)
