import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts import services
from accounts.models import Account, Tag
from accounts.tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def test_a_new_account_is_owned_by_its_creator_with_domain_and_e164_phone(acme, in_tenant):
    with in_tenant(acme):
        account = services.account_create(actor=acme.rep, name="Müller GmbH", website="https://WWW.Mueller.DE/about",
                                          phone="030 1234567", billing_country="DE")
    assert account.owner == acme.rep
    assert account.created_by == acme.rep and account.modified_by == acme.rep
    assert account.domain == "mueller.de"
    assert account.phone == "+49301234567"


def test_a_website_without_scheme_gets_one(acme, in_tenant):
    with in_tenant(acme):
        account = services.account_create(actor=acme.rep, name="Acme", website="acme.example.com")
    assert account.website == "https://acme.example.com"
    assert account.domain == "acme.example.com"


def test_a_phone_without_country_code_is_refused_without_a_billing_country(acme, in_tenant):
    with in_tenant(acme), pytest.raises(ValidationError) as exc:
        services.account_create(actor=acme.rep, name="Acme", phone="030 1234567")
    assert "phone" in exc.value.error_dict


def test_a_phone_with_country_code_needs_no_billing_country(acme, in_tenant):
    with in_tenant(acme):
        account = services.account_create(actor=acme.rep, name="Acme", phone="+1 212 555 0100")
    assert account.phone == "+12125550100"


@pytest.mark.parametrize(("field", "value"), [
    ("phone", "+49 12"), ("website", "not a site"), ("type", "nonsense"), ("billing_country", "XX"),
    ("custom", ["not", "a", "dict"]),
])
def test_bad_input_is_a_validation_error_on_its_field(acme, in_tenant, field, value):
    with in_tenant(acme), pytest.raises(ValidationError) as exc:
        services.account_create(actor=acme.rep, name="Acme", **{field: value})
    assert field in exc.value.error_dict


def test_a_parent_below_the_account_is_refused(acme, in_tenant):
    top = AccountFactory(tenant=acme.tenant, owner=acme.rep)
    middle = AccountFactory(tenant=acme.tenant, owner=acme.rep, parent=top)
    bottom = AccountFactory(tenant=acme.tenant, owner=acme.rep, parent=middle)
    with in_tenant(acme), pytest.raises(ValidationError) as exc:
        services.account_update(actor=acme.rep, account=top, parent=bottom)
    assert "parent" in exc.value.error_dict
    with in_tenant(acme), pytest.raises(ValidationError):
        services.account_update(actor=acme.rep, account=top, parent=top)


def test_a_parent_the_actor_cannot_see_is_refused(acme, in_tenant):
    theirs = AccountFactory(tenant=acme.tenant, owner=acme.rep2)
    with in_tenant(acme), pytest.raises(ValidationError) as exc:
        services.account_create(actor=acme.rep, name="Sub", parent=theirs)
    assert "parent" in exc.value.error_dict


def test_a_rep_cannot_give_an_account_to_a_colleague_but_a_manager_can(acme, in_tenant):
    with in_tenant(acme):
        with pytest.raises(ValidationError) as exc:
            services.account_create(actor=acme.rep, name="Acme", owner=acme.rep2)
        assert "owner" in exc.value.error_dict
        account = services.account_create(actor=acme.manager, name="Acme", owner=acme.rep2)
    assert account.owner == acme.rep2


def test_a_rep_cannot_edit_a_colleagues_account(acme, in_tenant):
    theirs = AccountFactory(tenant=acme.tenant, owner=acme.rep2)
    with in_tenant(acme), pytest.raises(PermissionDenied):
        services.account_update(actor=acme.rep, account=theirs, name="Mine now")


def test_an_update_stamps_who_changed_it(acme, in_tenant):
    account = AccountFactory(tenant=acme.tenant, owner=acme.rep, created_by=acme.rep)
    with in_tenant(acme):
        services.account_update(actor=acme.manager, account=account, rating="hot")
        account.refresh_from_db()
    assert account.rating == "hot" and account.modified_by_id == acme.manager.pk and account.created_by_id == acme.rep.pk


def test_tags_are_matched_case_blind_and_replaced(acme, in_tenant):
    account = AccountFactory(tenant=acme.tenant, owner=acme.rep)
    with in_tenant(acme):
        services.account_set_tags(actor=acme.rep, account=account, names=["VIP", "Berlin"])
        services.account_set_tags(actor=acme.rep, account=account, names=["vip", "Fintech"])
        assert sorted(t.name for t in account.tags.all()) == ["Fintech", "VIP"]
        assert Tag.objects.for_tenant(acme.tenant).count() == 3


def test_a_manager_hands_accounts_over_in_bulk(acme, in_tenant):
    mine = AccountFactory.create_batch(3, tenant=acme.tenant, owner=acme.rep)
    with in_tenant(acme):
        changed = services.accounts_change_owner(actor=acme.manager, ids=[a.pk for a in mine], owner=acme.rep2)
        assert changed == 3
        assert set(Account.objects.for_tenant(acme.tenant).values_list("owner", flat=True)) == {acme.rep2.pk}


def test_a_rep_cannot_change_owners_in_bulk(acme, in_tenant):
    mine = AccountFactory(tenant=acme.tenant, owner=acme.rep)
    with in_tenant(acme), pytest.raises(ValidationError):
        services.accounts_change_owner(actor=acme.rep, ids=[mine.pk], owner=acme.rep2)


def test_deleting_a_parent_keeps_its_children(acme, in_tenant):
    top = AccountFactory(tenant=acme.tenant, owner=acme.rep)
    child = AccountFactory(tenant=acme.tenant, owner=acme.rep, parent=top)
    with in_tenant(acme):
        services.account_delete(actor=acme.rep, account=top)
        child.refresh_from_db()
    assert child.parent is None
