"""The queue, the merge page, undo and the record panels, as people use them."""

from __future__ import annotations

import pytest
from django.utils import timezone

from contacts.models import Activity, Contact
from crm.dedup.models import DuplicateCandidate, MergeRecord
from crm.dedup.tasks import run_scan

from .makers import account, call, contact

pytestmark = pytest.mark.django_db


def merge_url(object_label, *records, master=None):
    ids = "&".join(f"ids={r.pk}" for r in records)
    return f"/duplicates/merge/?object={object_label}&{ids}" + (f"&master={master.pk}" if master else "")


def test_the_queue_lists_pairs_the_rep_can_see_and_never_a_colleagues_private_record(acme, in_tenant, client_as):
    with in_tenant(acme):
        mine = contact(acme.rep, "Lee", "Ann", emails=["ann@initech.example"])
        mine_too = contact(acme.rep, "Lee", "Anne", emails=["ann@initech.example"])
        theirs = contact(acme.rep2, "Ross", "Bob", phones=["+4930123456"])
        contact(acme.rep, "Ross", "Bobby", phones=["+4930123456"])
        run_scan(acme.tenant)
    page = client_as(acme.rep).get("/duplicates/?object=contacts")
    assert page.status_code == 200
    html = page.content.decode()
    assert str(mine.pk) in html and str(mine_too.pk) in html
    assert str(theirs.pk) not in html and "Bob" not in html
    manager_page = client_as(acme.manager).get("/duplicates/?object=contacts").content.decode()
    assert str(theirs.pk) in manager_page  # the manager sees both reps' records


def test_the_queue_filters_by_rule_and_dismissing_remembers(acme, in_tenant, client_as):
    with in_tenant(acme):
        ann = contact(acme.rep, "Lee", "Ann", emails=["ann@initech.example"])
        anne = contact(acme.rep, "Lee", "Anne", emails=["ann@initech.example"])
        bob = contact(acme.rep, "Ross", "Bob", phones=["+4930123456"])
        contact(acme.rep, "Ross", "Bobby", phones=["+4930123456"])
        run_scan(acme.tenant)
    client = client_as(acme.rep)
    by_phone = client.get("/duplicates/?object=contacts&rule=same_phone").content.decode()
    assert str(bob.pk) in by_phone and str(ann.pk) not in by_phone
    response = client.post("/duplicates/dismiss/", {"object": "contacts", "ids": [ann.pk, anne.pk],
                                                    "next": "/duplicates/?object=contacts"})
    assert response.status_code == 302
    assert str(ann.pk) not in client.get("/duplicates/?object=contacts").content.decode()
    with in_tenant(acme):
        run_scan(acme.tenant)
    assert str(ann.pk) not in client.get("/duplicates/?object=contacts").content.decode()


def test_the_queue_runs_a_fixed_number_of_queries(acme, in_tenant, client_as, django_assert_max_num_queries):
    with in_tenant(acme):
        for i in range(30):
            contact(acme.rep, f"Person{i:02d}", "Ann", emails=[f"p{i}@initech.example", "shared@initech.example"]
                    if i < 6 else [f"p{i}@initech.example"], phones=[f"+49301234{i:02d}"])
            contact(acme.rep, f"Person{i:02d}", "Anne", phones=[f"+49301234{i:02d}"])
        run_scan(acme.tenant)
    client = client_as(acme.rep)
    client.get("/duplicates/?object=contacts")
    with django_assert_max_num_queries(20):  # the same with 3 pairs or 50
        response = client.get("/duplicates/?object=contacts")
    assert response.content.decode().count("Not a duplicate</button>") >= 30


def test_a_merge_from_the_page_keeps_the_chosen_phone_and_shows_the_master(acme, in_tenant, client_as):
    with in_tenant(acme):
        master = contact(acme.rep, "Lee", "Ann", phones=["+4930123456"])
        loser = contact(acme.rep, "Lee", "Anne", phones=["+4989765432"])
        call(acme.rep, "Loser call", contact=loser)
    client = client_as(acme.rep)
    page = client.get(merge_url("contacts", master, loser))
    html = page.content.decode()
    assert page.status_code == 200
    assert "+4989765432" in html and "Primary phone" in html and "Activities" in html
    response = client.post("/duplicates/merge/", {"object": "contacts", "ids": [master.pk, loser.pk],
                                                  "master": master.pk, "f:phone": loser.pk,
                                                  "f:first_name": master.pk})
    assert response.status_code == 302 and response["Location"] == f"/contacts/{master.pk}/"
    with in_tenant(acme):
        master.refresh_from_db()
        assert master.phone == "+4989765432"
        assert Activity.objects.for_tenant(acme.tenant).get(subject="Loser call").contact_id == master.pk
    panel = client.get(f"/duplicates/panel/contacts/{master.pk}/?card=1").content.decode()
    assert "Merge history" in panel and "Undo merge" in panel


def test_undo_from_the_page_brings_the_other_record_back(acme, in_tenant, client_as):
    with in_tenant(acme):
        master = contact(acme.rep, "Lee", "Ann")
        loser = contact(acme.rep, "Lee", "Anne")
    client = client_as(acme.rep)
    client.post("/duplicates/merge/", {"object": "contacts", "ids": [master.pk, loser.pk], "master": master.pk})
    with in_tenant(acme):
        merge = MergeRecord.objects.for_tenant(acme.tenant).get()
    response = client.post(f"/duplicates/merges/{merge.pk}/undo/")
    assert response.status_code == 302
    with in_tenant(acme):
        assert Contact.objects.for_tenant(acme.tenant).filter(pk=loser.pk).exists()


def test_the_merge_page_of_a_colleagues_private_record_is_a_404(acme, in_tenant, client_as):
    with in_tenant(acme):
        mine = contact(acme.rep, "Lee", "Ann")
        theirs = contact(acme.rep2, "Lee", "Anne")
    client = client_as(acme.rep)
    assert client.get(merge_url("contacts", mine, theirs)).status_code == 404
    response = client.post("/duplicates/merge/", {"object": "contacts", "ids": [mine.pk, theirs.pk], "master": mine.pk})
    assert response.status_code == 404
    with in_tenant(acme):
        assert Contact.objects.for_tenant(acme.tenant).filter(pk=theirs.pk).exists()


def test_another_companys_records_are_a_404_everywhere(acme, globex, in_tenant, client_as):
    with in_tenant(acme):
        one = contact(acme.rep, "Lee", "Ann")
        two = contact(acme.rep, "Lee", "Anne")
    client = client_as(globex.admin)
    assert client.get(merge_url("contacts", one, two)).status_code == 404
    assert client.get(f"/duplicates/panel/contacts/{one.pk}/").status_code == 404
    assert client.post("/duplicates/dismiss/", {"object": "contacts", "ids": [one.pk, two.pk]}).status_code == 404


def test_the_account_page_shows_possible_duplicates_in_a_bounded_number_of_queries(
        acme, in_tenant, client_as, django_assert_max_num_queries):
    with in_tenant(acme):
        firm = account(acme.rep, "Initech", website="initech.example")
        twin = account(acme.rep, "Initech Ltd", website="initech.example")
        for i in range(10):
            account(acme.rep, f"Initech Branch {i}")
    client = client_as(acme.rep)
    client.get(f"/accounts/{firm.pk}/")  # warm the session and caches
    with django_assert_max_num_queries(45):
        html = client.get(f"/accounts/{firm.pk}/").content.decode()
    assert "Possible duplicates" in html and str(twin.pk) in html and "Same domain" in html


def test_the_contact_page_loads_its_duplicates_panel(acme, in_tenant, client_as):
    with in_tenant(acme):
        ann = contact(acme.rep, "Lee", "Ann", emails=["ann@initech.example"])
        contact(acme.rep, "Lee", "Anne", emails=["ann@initech.example"])
        lonely = contact(acme.rep, "Solo", "Han")
    client = client_as(acme.rep)
    assert f"/duplicates/panel/contacts/{ann.pk}/" in client.get(f"/contacts/{ann.pk}/").content.decode()
    card = client.get(f"/duplicates/panel/contacts/{ann.pk}/?card=1").content.decode()
    assert "Same email" in card and "Compare and merge" in card
    assert client.get(f"/duplicates/panel/contacts/{lonely.pk}/?card=1").content.decode().strip() == ""


def test_only_admins_scan_now(acme, client_as, monkeypatch):
    from crm.dedup import tasks

    queued = []
    monkeypatch.setattr(tasks.scan_tenant, "delay", lambda **kw: queued.append(kw))
    assert client_as(acme.rep).post("/duplicates/scan/").status_code == 404
    response = client_as(acme.admin).post("/duplicates/scan/")
    assert response.status_code == 302
    status = client_as(acme.admin).get("/duplicates/scan/status/").content.decode()
    assert "queued" in status.lower()


def test_an_open_pair_whose_record_was_deleted_is_not_shown(acme, in_tenant, client_as):
    with in_tenant(acme):
        ann = contact(acme.rep, "Lee", "Ann")
        gone = contact(acme.rep, "Lee", "Anne")
        a, b = sorted([ann.pk, gone.pk], key=str)
        DuplicateCandidate.objects.create(tenant=acme.tenant, object="contacts", record_a=a, record_b=b,
                                          rule="similar_name", score=70, found_at=timezone.now())
        Contact.objects.for_tenant(acme.tenant).filter(pk=gone.pk).delete()
    html = client_as(acme.rep).get("/duplicates/?object=contacts").content.decode()
    assert "No likely duplicates" in html and str(ann.pk) not in html
