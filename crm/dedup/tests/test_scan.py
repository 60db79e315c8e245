"""The rules find the right pairs and not others; the scan keeps "not a duplicate"; the record
check uses indexes only."""

from __future__ import annotations

import pytest
from django.utils import timezone

from crm.dedup import scan, services
from crm.dedup.models import DuplicateCandidate
from crm.dedup.tasks import run_scan
from crm.tenancy.testing import assert_uses_index

from .makers import account, contact

pytestmark = pytest.mark.django_db


def pairs_of(tenant, object_label):
    return {
        (frozenset((c.record_a, c.record_b)), c.rule)
        for c in DuplicateCandidate.objects.for_tenant(tenant).filter(object=object_label, status="open")
    }


def test_pg_trgm_similarity_is_reproduced():
    assert scan.similarity(scan.trigrams("John Smith"), scan.trigrams("Jon Smith")) == pytest.approx(8 / 13)
    assert scan.core_name("The ACME Company GmbH") == "acme"


def test_contact_rules_find_same_email_same_phone_and_similar_names_at_one_company(acme, in_tenant):
    with in_tenant(acme):
        firm = account(acme.rep, "Initech")
        ann = contact(acme.rep, "Lee", "Ann", emails=["ann@initech.example"])
        ann_home = contact(acme.rep, "Li", "Ann", emails=["other@home.example", "ann@initech.example"])
        bob = contact(acme.rep, "Ross", "Bob", phones=["+4930123456"])
        bobby = contact(acme.rep, "Ross-Smith", "Bobby", phones=["+49 30 123456"])
        jon = contact(acme.rep, "Smith", "Jon", account=firm)
        john = contact(acme.rep, "Smith", "John", account=firm)
        jane = contact(acme.rep, "Smith", "Jane")  # a similar name, but not at the same company
        mia = contact(acme.rep, "Meyer", "Mia", emails=["mia@globex.example"])
        mya = contact(acme.rep, "Meyer", "Mya", emails=["mya@globex.example"])  # same email domain
        contact(acme.rep, "Unrelated", "Zoe", account=firm)
        run_scan(acme.tenant)
        found = pairs_of(acme.tenant, "contacts")
    assert found == {
        (frozenset((ann.pk, ann_home.pk)), "same_email"),
        (frozenset((bob.pk, bobby.pk)), "same_phone"),
        (frozenset((jon.pk, john.pk)), "similar_name"),
        (frozenset((mia.pk, mya.pk)), "similar_name"),
    }
    assert not any(jane.pk in p for p, _ in found)


@pytest.mark.parametrize(("a", "b", "same"), [
    (("Jon", "Smith"), ("John", "Smith"), True),
    (("Mia", "Meyer"), ("Mya", "Meyer"), True),
    (("Flo", "Bauer"), ("Florian", "Bauer"), True),
    (("Katharina", "Schmidt"), ("Katharina", "Schmitt"), True),
    (("", "Lee"), ("Ann", "Lee"), True),
    (("Mia", "Martinez"), ("Noah", "Martinez"), False),
    (("Sem", "van den Berg"), ("Daan", "van den Berg"), False),
    (("Katharina", "Steiner"), ("Katharina", "Wagner"), False),
    (("Anna", "Schneider"), ("Hannah", "Schneider"), False),
])
def test_a_similar_name_needs_both_the_first_and_the_last_name_close(a, b, same):
    assert scan.same_person(*a, *b) is same


def test_colleagues_who_share_their_companys_main_line_are_not_duplicates(acme, in_tenant):
    with in_tenant(acme):
        firm = account(acme.rep, "Initech", phone="+4930999000")
        ann = contact(acme.rep, "Lee", "Ann", account=firm, phones=["+4915112345678", "+4930999000"])
        bob = contact(acme.rep, "Ross", "Bob", account=firm, phones=["+4915187654321", "+4930999000"])
        ann_again = contact(acme.rep, "Lee-Parker", "Annie", phones=["+4915112345678"])
        run_scan(acme.tenant)
        found = pairs_of(acme.tenant, "contacts")
        live = {frozenset((p.a, p.b)) for p in scan.find_for_record(ann, "contacts") if p.rule == "same_phone"}
    assert found == {(frozenset((ann.pk, ann_again.pk)), "same_phone")}
    assert not any(bob.pk in pair for pair, _ in found)
    assert live == {frozenset((ann.pk, ann_again.pk))}


def test_account_rules_find_same_domain_same_phone_and_similar_names(acme, in_tenant):
    with in_tenant(acme):
        a1 = account(acme.rep, "Acme Corp", website="https://www.acme.example")
        a2 = account(acme.rep, "Roadrunner Supplies", website="acme.example/shop")
        b1 = account(acme.rep, "Globex", phone="+4930123456")
        b2 = account(acme.rep, "Hank Scorpio Enterprises", phone="+49 30 123456")
        c1 = account(acme.rep, "Initech GmbH", billing_country="DE")
        c2 = account(acme.rep, "INITECH", billing_country="DE")
        account(acme.rep, "Umbrella")
        account(acme.rep, "Initrode")  # starts alike, different name
        run_scan(acme.tenant)
        found = pairs_of(acme.tenant, "accounts")
    assert found == {
        (frozenset((a1.pk, a2.pk)), "same_domain"),
        (frozenset((b1.pk, b2.pk)), "same_phone"),
        (frozenset((c1.pk, c2.pk)), "similar_name"),
    }


def test_a_pair_found_by_several_rules_keeps_the_strongest(acme, in_tenant):
    with in_tenant(acme):
        firm = account(acme.rep, "Initech")
        contact(acme.rep, "Lee", "Ann", account=firm, emails=["ann@initech.example"])
        contact(acme.rep, "Lee", "Anne", account=firm, emails=["ann@initech.example"])
        run_scan(acme.tenant)
        rules = [c.rule for c in DuplicateCandidate.objects.for_tenant(acme.tenant)]
    assert rules == ["same_email"]


def test_a_dismissed_pair_stays_dismissed_after_the_next_scan_and_gone_pairs_are_removed(acme, in_tenant):
    with in_tenant(acme):
        ann = contact(acme.rep, "Lee", "Ann", emails=["ann@initech.example"])
        anne = contact(acme.rep, "Lee", "Anne", emails=["ann@initech.example"])
        bob = contact(acme.rep, "Ross", "Bob", phones=["+4930123456"])
        bobby = contact(acme.rep, "Ross", "Bobby", phones=["+4930123456"])
        run_scan(acme.tenant)
        services.pair_dismiss(actor=acme.rep, object_label="contacts", record_ids=[ann.pk, anne.pk])
        from contacts import services as contact_services

        contact_services.contact_update(actor=acme.rep, contact=bobby, phones=["+4989765432"],
                                        last_name="Different", first_name="Person")
        run_scan(acme.tenant)
        rows = {frozenset((c.record_a, c.record_b)): c.status for c in DuplicateCandidate.objects.for_tenant(acme.tenant)}
    assert rows == {frozenset((ann.pk, anne.pk)): "dismissed"}
    assert frozenset((bob.pk, bobby.pk)) not in rows


def test_a_scan_of_one_company_never_sees_another(acme, globex, in_tenant):
    with in_tenant(globex):
        contact(globex.rep, "Lee", "Ann", emails=["ann@initech.example"])
    with in_tenant(acme):
        contact(acme.rep, "Lee", "Ann", emails=["ann@initech.example"])
        run_scan(acme.tenant)
        assert DuplicateCandidate.objects.for_tenant(acme.tenant).count() == 0


def test_a_record_is_checked_live_with_indexed_reads(acme, in_tenant, django_assert_max_num_queries):
    with in_tenant(acme):
        firm = account(acme.rep, "Initech", website="initech.example")
        account(acme.rep, "Initech Ltd", website="initech.example")
        ann = contact(acme.rep, "Lee", "Ann", account=firm, emails=["ann@initech.example"], phones=["+4930123456"])
        contact(acme.rep, "Lee", "Anne", emails=["ann@initech.example"])
        contact(acme.rep, "Lee", "Annie", account=firm)
        with django_assert_max_num_queries(7):  # + the main-line check
            found = scan.find_for_record(ann, "contacts")
        assert {p.rule for p in found} == {"same_email", "similar_name"}
        with django_assert_max_num_queries(4):
            assert {p.rule for p in scan.find_for_record(firm, "accounts")} == {"same_domain"}


def test_the_equality_lookups_use_their_indexes_under_rls(acme, in_tenant):
    from accounts.models import Account

    with in_tenant(acme):
        Account.objects.bulk_create([
            Account(tenant=acme.tenant, owner=acme.rep, name=f"Filler {n:04d}", phone=f"+4930{n:06d}",
                    domain=f"filler{n}.example") for n in range(3000)
        ])
        assert_uses_index(Account.objects.for_tenant(acme.tenant).filter(phone="+4930000001"), "account_phone_idx",
                          tenant=acme.tenant)
        assert_uses_index(Account.objects.for_tenant(acme.tenant).filter(domain="filler1.example"),
                          "account_domain_idx", tenant=acme.tenant)


def test_the_queue_reads_its_index_under_rls(acme, in_tenant):
    import uuid

    with in_tenant(acme):
        DuplicateCandidate.objects.bulk_create([
            DuplicateCandidate(tenant=acme.tenant, object=("contacts", "accounts")[n % 2],
                               record_a=uuid.UUID(int=2 * n), record_b=uuid.UUID(int=2 * n + 1),
                               rule=("same_phone", "same_email", "similar_name", "same_domain")[n % 4],
                               score=n % 100, found_at=timezone.now(),
                               status=("open", "dismissed")[n % 3 == 0]) for n in range(3000)
        ])
        qs = DuplicateCandidate.objects.for_tenant(acme.tenant).filter(
            object="contacts", status="open").order_by("-score", "-id")[:51]
        assert_uses_index(qs, "dupcandidate_queue_idx", tenant=acme.tenant)
        by_rule = DuplicateCandidate.objects.for_tenant(acme.tenant).filter(
            object="contacts", status="open", rule="same_phone").order_by("-score", "-id")[:51]
        assert_uses_index(by_rule, "dupcandidate_rule_idx", tenant=acme.tenant)
