import pytest

from crm.tenancy.context import tenant_context


@pytest.fixture
def in_tenant():
    """in_tenant(company) -> the tenant context of that company, for services and selectors."""
    return lambda company: tenant_context(company.tenant)


@pytest.fixture(autouse=True)
def _fresh_cache(fresh_cache):
    """Every test here starts with an empty cache (tests/background.py)."""
