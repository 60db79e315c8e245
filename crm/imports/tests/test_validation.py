"""Every bad value is reported by line (a spreadsheet's row number) and column, in words a
salesperson understands; nothing is written in all-or-nothing mode."""

import csv
import io

from accounts.models import Account
from contacts.models import Activity, Contact
from crm.customfields import services as customfields
from crm.imports import reading

from .conftest import csv_file


def contacts_in(acme, in_tenant):
    with in_tenant(acme):
        return Contact.objects.for_tenant(acme.tenant).count()


def test_each_kind_of_bad_value_is_reported_with_its_line_and_column(acme, run_import, in_tenant):
    with in_tenant(acme):
        customfields.field_create(actor=acme.admin, object="contacts", label="Segment", type="picklist",
                                  options=["SMB", "Enterprise"])
    text = ("Surname,E-mail,Owner,Segment,Birthday,Salutation\n"
            "Ok,ok@x.example,rep@acme.example,SMB,1990-01-31,Mr\n"         # 2: fine
            "Bad,jane@,,,,\n"                                              # 3: email
            "Who,who@x.example,bob@nowhere.example,,,\n"                   # 4: unknown owner
            "Pick,pick@x.example,,Huge,,\n"                                # 5: custom picklist
            "Born,born@x.example,,,31/31/1990,\n"                          # 6: date
            ",empty@x.example,,,,\n"                                       # 7: missing required
            "Twice,OK@x.example,,,,\n"                                     # 8: duplicate of line 2
            "Sal,sal@x.example,,,,Sir\n")                                  # 9: built-in choice
    job = run_import(acme.rep, "contacts", csv_file(text))
    assert job.status == "failed"
    assert [(e["line"], e["column"]) for e in job.errors] == [
        (3, "E-mail"), (4, "Owner"), (5, "Segment"), (6, "Birthday"), (7, "Surname"), (8, "E-mail"), (9, "Salutation")]
    messages = [e["message"] for e in job.errors]
    assert messages[0] == "“jane@” is not an email address."
    assert messages[1] == "Unknown owner: nobody in your company has the email “bob@nowhere.example”."
    assert messages[2].startswith("“Huge” is not one of the choices (SMB, Enterprise)")
    assert messages[3] == "“31/31/1990” is not a date: use YYYY-MM-DD, e.g. 2026-03-31."
    assert messages[4] == "Last name is required: this cell is empty."
    assert messages[5] == "Duplicate in this file: line 2 has the same email address."
    assert messages[6].startswith("“Sir” is not one of the choices for Salutation (Mr, Ms")
    assert (job.rows, job.valid, job.invalid, job.created) == (8, 1, 7, 0)
    assert "Nothing was imported: 7 rows have errors" in job.message
    assert contacts_in(acme, in_tenant) == 0  # all or nothing: not even the good row


def test_valid_rows_mode_writes_the_good_rows_and_gives_the_rest_back_as_a_csv(acme, run_import, in_tenant):
    text = "Last name,Email,Phone\nEk,ek@x.example,+4722123456\nRy,ry@,\nOm,om@x.example,12\n"
    job = run_import(acme.rep, "contacts", csv_file(text), mode="valid_rows")
    assert job.status == "done"
    assert (job.created, job.invalid) == (1, 2)
    with in_tenant(acme):
        assert list(Contact.objects.for_tenant(acme.tenant).values_list("last_name", flat=True)) == ["Ek"]
    content = (reading.upload_path(job).parent / "errors.csv").read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(content)))
    assert rows[0] == ["Line", "Errors", "Last name", "Email", "Phone"]
    assert rows[1] == ["3", "Email: “ry@” is not an email address.", "Ry", "ry@", ""]
    assert rows[2][0] == "4" and rows[2][1].startswith("Phone: 12: start with + and the country code")
    assert len(rows) == 3


def test_a_dry_run_writes_nothing_and_says_what_would_happen(acme, run_import, in_tenant):
    job = run_import(acme.rep, "contacts", csv_file("Last name,Email\nEk,ek@x.example\n"), mode="dry_run")
    assert job.status == "validated"
    assert (job.rows, job.valid, job.created) == (1, 1, 1)
    assert job.preview[0]["action"] == "create"
    assert contacts_in(acme, in_tenant) == 0


def test_activities_link_to_accounts_and_contacts_the_user_can_see(acme, run_import, in_tenant):
    from contacts.tests.factories import AccountFactory, ContactFactory

    mine = AccountFactory(tenant=acme.tenant, owner=acme.rep, name="Nordwind AG", domain="nordwind.example")
    AccountFactory(tenant=acme.tenant, owner=acme.rep2, name="Secret GmbH")
    person = ContactFactory(tenant=acme.tenant, owner=acme.rep, last_name="Ek", email="ek@x.example", account=mine)
    text = ("Type,Subject,Company,Contact,Date\n"
            "Call,Intro call,Nordwind AG,,2026-03-02 10:30\n"
            "Meeting,Demo,nordwind.example,,2026-03-03\n"
            "Note,Follow-up,,ek@x.example,\n"
            "Call,Secret call,Secret GmbH,,\n"
            "Visit,Nobody,,,\n"
            "Dance,Party,Nordwind AG,,\n")
    job = run_import(acme.rep, "activities", csv_file(text), mode="valid_rows")
    assert [(e["line"], e["column"], e["message"][:16]) for e in job.errors] == [
        (5, "Company", "Unknown account:"), (6, "Company", "Say which accoun"), (7, "Type", "“Dance” is not o")]
    assert job.created == 3
    with in_tenant(acme):
        acts = {a.subject: a for a in Activity.objects.for_tenant(acme.tenant)}
    assert acts["Intro call"].account_id == mine.pk and acts["Intro call"].status == "done"
    assert acts["Intro call"].occurred_at.isoformat().startswith("2026-03-02T10:30")
    assert acts["Demo"].account_id == mine.pk
    assert acts["Follow-up"].contact_id == person.pk and acts["Follow-up"].account_id == mine.pk
    assert acts["Intro call"].owner_id == acme.rep.pk


def test_accounts_get_their_domain_and_e164_phone(acme, run_import, in_tenant):
    text = "Company,Website,Phone,Billing country,Employees,Industry\nNordwind AG,https://www.Nordwind.example/x,030 1234567,DE,1200,Retail\n"
    job = run_import(acme.manager, "accounts", csv_file(text))
    assert job.status == "done", job.errors
    with in_tenant(acme):
        account = Account.objects.for_tenant(acme.tenant).get()
    assert (account.domain, account.phone, account.billing_country.code, account.employees, account.industry) == (
        "nordwind.example", "+49301234567", "DE", 1200, "retail")
    assert account.owner_id == acme.manager.pk and account.created_by_id == acme.manager.pk
