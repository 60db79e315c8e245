"""History of writes that change many accounts in one statement (bulk owner change, raw INSERT …
SELECT, bulk delete): the history triggers fire once per statement, and each record still gets its
own entry, with who and through what, exactly as a one-record change does."""

import pytest
from django.db import connection
from django.utils import timezone

from accounts import services
from accounts.models import Account
from crm.audit.history import history_for, history_source
from crm.tenancy.context import tenant_context

from .factories import AccountFactory

pytestmark = pytest.mark.django_db


def history(record, actor):
    with tenant_context(actor.tenant):
        return history_for(record, actor=actor)


def events(company, label=None):
    """(account id, owner id, source, actor email) of the account history rows, oldest first."""
    sql = ("SELECT pgh_obj_id, owner_id, pgh_context->>'source', pgh_context->>'email' FROM accounts_accountevent "
           "WHERE tenant_id = %s" + (" AND pgh_label = %s" if label else "") + " ORDER BY pgh_created_at, pgh_id")
    with tenant_context(company.tenant), connection.cursor() as cursor:
        cursor.execute(sql, [company.tenant.pk] + ([label] if label else []))
        return cursor.fetchall()


def test_a_bulk_owner_change_records_one_change_per_account_with_who_did_it(acme):
    accounts = [AccountFactory(tenant=acme.tenant, owner=acme.rep) for _ in range(3)]
    already = AccountFactory(tenant=acme.tenant, owner=acme.rep2)

    with tenant_context(acme.tenant), history_source("page", actor=acme.manager):
        changed = services.accounts_change_owner(actor=acme.manager, ids=[a.pk for a in [*accounts, already]],
                                                 owner=acme.rep2)

    assert changed == 3
    assert sorted(events(acme, "update")) == sorted(
        (a.pk, acme.rep2.pk, "page", "manager@acme.example") for a in accounts)
    latest = history(accounts[0], acme.manager)[0]
    assert (latest.action, latest.who) == ("changed", "Acme Manager")
    assert [(c.label, c.before_display, c.after_display) for c in latest.changes if c.field == "owner"] == [
        ("Owner", "Acme Rep", "Acme Rep Two")]


def test_one_update_statement_records_only_the_rows_it_really_changed(acme):
    hot = AccountFactory(tenant=acme.tenant, owner=acme.rep, rating="hot")
    cold = AccountFactory(tenant=acme.tenant, owner=acme.rep, rating="cold")

    with tenant_context(acme.tenant), history_source("command", command="rate"):
        Account.objects.for_tenant(acme.tenant).update(rating="hot", updated_at=timezone.now())

    assert [(obj, source) for obj, _, source, _ in events(acme, "update")] == [(cold.pk, "command")]
    assert len(history(hot, acme.admin)) == 1  # still only "created"


def test_an_update_statement_that_changes_nothing_tracked_records_nothing(acme):
    AccountFactory.create_batch(3, tenant=acme.tenant, owner=acme.rep)

    with tenant_context(acme.tenant):
        touched = Account.objects.for_tenant(acme.tenant).update(updated_at=timezone.now())

    assert touched == 3
    assert events(acme, "update") == []


def test_many_rows_inserted_by_one_insert_select_each_get_their_created_entry(acme):
    with tenant_context(acme.tenant), history_source("import", actor=acme.rep, file="a.csv"), \
            connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO accounts_account (id, tenant_id, created_at, updated_at, name, kind, type, industry, "
            "website, domain, phone, billing_street, billing_city, billing_postal_code, billing_region, "
            "billing_country, shipping_street, shipping_city, shipping_postal_code, shipping_region, "
            "shipping_country, currency, owner_id, source, rating, status, description, custom) "
            "SELECT uuidv7(), %s, now(), now(), 'Imported ' || g, 'company', 'prospect', '', '', '', '', '', '', "
            "'', '', '', '', '', '', '', '', 'EUR', %s, '', '', 'active', '', '{}' FROM generate_series(1, 250) g",
            [acme.tenant.pk, acme.rep.pk])
        ids = set(Account.objects.for_tenant(acme.tenant).values_list("id", flat=True))

    created = events(acme, "insert")
    assert len(ids) == 250
    assert {obj for obj, *_ in created} == ids  # one entry per record, each naming its own record
    assert {(owner, source, email) for _, owner, source, email in created} == {
        (acme.rep.pk, "import", "rep@acme.example")}


def test_a_bulk_delete_records_each_account_as_it_was(acme):
    accounts = AccountFactory.create_batch(4, tenant=acme.tenant, owner=acme.rep)

    with tenant_context(acme.tenant), history_source("page", actor=acme.admin):
        Account.objects.for_tenant(acme.tenant).filter(pk__in=[a.pk for a in accounts[:3]]).delete()

    assert sorted(events(acme, "delete")) == sorted(
        (a.pk, acme.rep.pk, "page", "admin@acme.example") for a in accounts[:3])


def test_changes_in_one_transaction_keep_their_order(acme):
    account = AccountFactory(tenant=acme.tenant, owner=acme.rep, rating="")

    with tenant_context(acme.tenant):
        for rating in ("cold", "warm", "hot"):
            Account.objects.for_tenant(acme.tenant).filter(pk=account.pk).update(rating=rating)
        entries = history_for(account, actor=acme.admin)

    assert [[(c.before_display, c.after_display) for c in e.changes] for e in entries[:3]] == [
        [("Warm", "Hot")], [("Cold", "Warm")], [("", "Cold")]]
