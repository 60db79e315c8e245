import pytest

from crm.tenancy.context import tenant_context


@pytest.fixture
def in_tenant():
    return lambda company: tenant_context(company.tenant)


@pytest.fixture
def custom_fields(acme):
    """A picklist "Region", a number "Budget" and a text "Code" on Acme's accounts."""
    from crm.customfields import services

    with tenant_context(acme.tenant):
        region = services.field_create(actor=acme.admin, object="accounts", label="Region", type="picklist",
                                       options=["EMEA", "APAC", "Americas"])
        budget = services.field_create(actor=acme.admin, object="accounts", label="Budget", type="number")
        code = services.field_create(actor=acme.admin, object="accounts", label="Code", type="text")
    return {"region": region, "budget": budget, "code": code}


@pytest.fixture
def make_account(acme):
    """make_account(name=…, owner=…, custom={…}, **fields): an account with its custom values
    written the way the services write them (record + filterable copy)."""
    from accounts.tests.factories import AccountFactory
    from crm.customfields import services

    def make(company=None, custom=None, **fields):
        company = company or acme
        fields.setdefault("owner", company.rep)
        account = AccountFactory(tenant=company.tenant, custom=custom or {}, **fields)
        if custom:
            with tenant_context(company.tenant):
                services.write_values(account, "accounts", custom)
        return account

    return make
