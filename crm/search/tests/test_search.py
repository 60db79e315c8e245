"""Global search: what it finds, for whom, and in which tenant (crm/search/selectors.py)."""

from __future__ import annotations

import pytest
from django.db import connection

from crm.search.registry import search_types
from crm.search.selectors import global_search
from crm.tenancy.context import no_tenant, tenant_context

pytestmark = pytest.mark.django_db


def titles(groups, key):
    return [h.title for g in groups if g.key == key for h in g.hits]


def search(actor, q, **kwargs):
    with tenant_context(actor.tenant):
        return global_search(actor, q, **kwargs)


def test_accounts_and_contacts_are_registered():
    assert [t.key for t in search_types()][:2] == ["accounts", "contacts"]


def test_prefix_finds_the_account(acme, book):
    assert titles(search(acme.admin, "Acm"), "accounts") == ["Acme Corporation", "Acme Logistics"]


def test_word_prefix_inside_the_name(acme, book):
    assert titles(search(acme.admin, "logist"), "accounts") == ["Acme Logistics"]


def test_a_typo_finds_the_account(acme, book):
    assert titles(search(acme.admin, "Acme Corportion"), "accounts")[0] == "Acme Corporation"
    assert "Zenith Holdings" in titles(search(acme.admin, "Zenit Holdngs"), "accounts")


def test_case_and_unicode_folding(acme, book):
    # the prefix match first; a weaker fuzzy match ("Acme Logistics") may follow it
    assert titles(search(acme.admin, "ACME CORP"), "accounts")[0] == "Acme Corporation"
    assert titles(search(acme.admin, "aCmE cOrPoRaTiOn"), "accounts")[0] == "Acme Corporation"


def test_exact_email_finds_the_contact_first(acme, book):
    groups = search(acme.admin, "jane.doe@acme-corp.example")
    hits = [h for g in groups if g.key == "contacts" for h in g.hits]
    assert hits[0].title == "Jane Doe"
    assert hits[0].score == pytest.approx(1.0)


def test_phone_and_domain_find_their_records(acme, book):
    assert titles(search(acme.admin, "+49 30 123456"), "contacts") == ["Jane Doe"]
    assert titles(search(acme.admin, "acme-corp.example"), "accounts") == ["Acme Corporation"]


def test_contact_by_first_name_prefix_and_last_name(acme, book):
    assert titles(search(acme.admin, "jan"), "contacts") == ["Jane Doe"]
    assert titles(search(acme.admin, "Doe"), "contacts") == ["Jane Doe"]


def test_a_rep_does_not_find_another_reps_private_records(acme, book):
    assert search(acme.rep, "Kalomi") == []
    assert titles(search(acme.rep2, "Kalomi"), "accounts") == ["Kalomi Private Bank"]
    assert titles(search(acme.rep2, "Kalomi"), "contacts") == ["Kurt Kalomi"]
    # the manager sees both reps' records, an admin everything
    assert titles(search(acme.manager, "Kalomi"), "accounts") == ["Kalomi Private Bank"]
    assert titles(search(acme.admin, "Kalomi"), "contacts") == ["Kurt Kalomi"]


def test_another_tenants_records_are_never_found(acme, globex, book):
    for q in ("Acme Corporation", "Acme Corportion", "jane.doe@acme-corp.example", "Globex", "kalomi"):
        groups = search(globex.admin, q)
        ids = {h.id for g in groups for h in g.hits}
        assert ids <= {str(book["theirs"].pk), str(book["their_contact"].pk)}, q
    mine = {h.id for g in search(acme.admin, "Acme Corporation") for h in g.hits}
    assert str(book["theirs"].pk) not in mine


def test_an_acme_member_searching_in_globex_context_gets_nothing(acme, globex, book):
    with tenant_context(globex.tenant):  # a tenant mismatch: visible() filters on the actor's tenant
        assert global_search(acme.admin, "Acme") == []


def test_no_tenant_context_finds_nothing_without_error(acme, book):
    with no_tenant():
        assert global_search(acme.admin, "Acme") == []


def test_the_function_returns_nothing_when_the_tenant_setting_is_unset(acme, book):
    with no_tenant(), connection.cursor() as cursor:
        for function in ("crm_search_accounts", "crm_search_contacts"):
            cursor.execute(f"SELECT * FROM {function}(%s, %s)", ["Acme", 50])
            assert cursor.fetchall() == []
            cursor.execute("SELECT set_config('app.tenant_id', '', true)")
            cursor.execute(f"SELECT * FROM {function}(%s, %s)", ["Jane", 50])
            assert cursor.fetchall() == []


def test_the_function_ignores_junk_and_caps_its_result(acme, book):
    with tenant_context(acme.tenant), connection.cursor() as cursor:
        for q, n in [("", 10), ("a", 10), (None, 10), ("Acme", None), ("Acme", -5), ("Acme", 0)]:
            cursor.execute("SELECT * FROM crm_search_accounts(%s, %s)", [q, n])
            assert cursor.fetchall() == [], (q, n)
        for q in ["it's o'neil & | ! <-> a\\b :*", "%_\\", "(((", "'''", "ÉCOLE Straße", "東京"]:
            cursor.execute("SELECT * FROM crm_search_accounts(%s, %s)", [q, 10])
            cursor.execute("SELECT * FROM crm_search_contacts(%s, %s)", [q, 10])
        cursor.execute("SELECT count(*) FROM crm_search_accounts(%s, %s)", ["Acme", 1])
        assert cursor.fetchone()[0] == 1


def test_short_or_empty_queries_and_no_actor_find_nothing(acme, book):
    assert search(acme.admin, "") == []
    assert search(acme.admin, "a") == []
    assert search(acme.admin, "   ") == []
    with tenant_context(acme.tenant):
        assert global_search(None, "Acme") == []


def test_per_type_limit_and_more_flag(acme, book):
    [accounts] = [g for g in search(acme.admin, "Acme", per_type=1) if g.key == "accounts"]
    assert len(accounts.hits) == 1 and accounts.more


def test_the_number_of_queries_is_fixed(acme, book, django_assert_max_num_queries):
    from accounts.models import Account

    with tenant_context(acme.tenant):
        Account.objects.bulk_create(
            [Account(tenant=acme.tenant, name=f"Acme Subsidiary {i}", owner=acme.rep) for i in range(30)]
        )
        acme.rep.__dict__.pop("_visible_owner_ids", None)
        # subordinates once, then per type: candidates + rows
        with django_assert_max_num_queries(1 + 2 * len(search_types())):
            groups = global_search(acme.rep, "Acme", per_type=25)
        assert len(titles(groups, "accounts")) == 25
