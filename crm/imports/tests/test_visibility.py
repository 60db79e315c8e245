"""An import tells the user nothing about records they cannot see: a colleague's private contact
with the same email is no duplicate for them (validation.Validator._matches says why)."""

import pytest

from accounts.models import Account
from contacts.models import Contact
from contacts.tests.factories import AccountFactory, ContactFactory

from .conftest import csv_file

FILE = "Last name,Email,Job title\nNew,OLGA@x.example,CEO\n"


def olgas(acme, in_tenant):
    with in_tenant(acme):
        return sorted((c.owner.user.email, c.title) for c in
                      Contact.objects.for_tenant(acme.tenant).filter(email="olga@x.example").select_related("owner__user"))


@pytest.mark.parametrize("duplicates", ["skip", "update"])
def test_a_colleagues_private_contact_is_no_duplicate_for_a_rep(acme, run_import, in_tenant, duplicates):
    ContactFactory(tenant=acme.tenant, owner=acme.rep2, last_name="Old", email="olga@x.example", title="Buyer")
    checked = run_import(acme.rep, "contacts", csv_file(FILE), duplicates=duplicates, mode="dry_run")
    # exactly what the same file says when no such contact exists: one to create, no error
    assert (checked.created, checked.skipped, checked.updated, checked.errors) == (1, 0, 0, [])
    assert checked.preview[0]["action"] == "create"

    job = run_import(acme.rep, "contacts", csv_file(FILE), duplicates=duplicates)
    assert (job.status, job.created, job.skipped, job.updated) == ("done", 1, 0, 0)
    assert olgas(acme, in_tenant) == [("rep2@acme.example", "Buyer"), ("rep@acme.example", "CEO")]


@pytest.mark.parametrize(("duplicates", "titles"), [("skip", ["Buyer"]), ("update", ["CEO"])])
def test_the_manager_who_sees_the_contact_skips_or_updates_it(acme, run_import, in_tenant, duplicates, titles):
    ContactFactory(tenant=acme.tenant, owner=acme.rep2, last_name="Old", email="olga@x.example", title="Buyer")
    job = run_import(acme.manager, "contacts", csv_file(FILE), duplicates=duplicates)
    assert job.status == "done" and job.created == 0
    assert [title for _, title in olgas(acme, in_tenant)] == titles


def test_a_colleagues_private_account_is_no_duplicate_either(acme, run_import, in_tenant):
    AccountFactory(tenant=acme.tenant, owner=acme.rep2, name="Hidden GmbH", website="https://hidden.example",
                   domain="hidden.example")
    job = run_import(acme.rep, "accounts", csv_file("Account name,Website\nHidden GmbH,hidden.example\n"),
                     duplicates="skip")
    assert (job.status, job.created, job.skipped, job.errors) == ("done", 1, 0, [])
    with in_tenant(acme):
        assert Account.objects.for_tenant(acme.tenant).filter(domain="hidden.example").count() == 2


@pytest.mark.parametrize(("level", "titles", "status"), [(2, ["CEO"], "done"), (1, ["Buyer"], "failed")])
def test_a_shared_contact_is_updated_only_with_read_write_access(acme, run_import, in_tenant, level, titles,
                                                                 status):
    """The engine decides, as on every page: a colleague's contact shared with the rep read/write
    is updated by the import; shared read only, the row is refused by line (all or nothing: the
    file fails and nothing is written), never updated and never duplicated."""
    from crm.access import services

    olga = ContactFactory(tenant=acme.tenant, owner=acme.rep2, last_name="Old", email="olga@x.example",
                          title="Buyer")
    with in_tenant(acme):
        services.share_create(actor=acme.rep2, record=olga, grantee=acme.rep, access=level)
    job = run_import(acme.rep, "contacts", csv_file(FILE), duplicates="update")
    assert job.status == status, (job.message, job.errors)
    assert [title for _, title in olgas(acme, in_tenant)] == titles
    if status == "failed":
        assert job.errors[0]["line"] == 2 and "may not change" in job.errors[0]["message"]


def test_a_manager_without_view_all_matches_only_what_the_engine_shows(acme, run_import, in_tenant):
    """Managing users is not seeing every record: a contact outside the manager's reach is no
    duplicate for them, whatever their app permissions."""
    outsider = ContactFactory(tenant=acme.tenant, owner=acme.admin, last_name="Old", email="olga@x.example",
                              title="Buyer")
    job = run_import(acme.manager, "contacts", csv_file(FILE), duplicates="update")
    assert (job.status, job.created, job.updated) == ("done", 1, 0)
    with in_tenant(acme):
        outsider.refresh_from_db()
    assert outsider.title == "Buyer"
