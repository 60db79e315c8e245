import pytest

from crm.tenancy.context import tenant_context


@pytest.fixture
def in_tenant():
    """in_tenant(company) -> the tenant context of that company, for services and selectors."""
    return lambda company: tenant_context(company.tenant)


@pytest.fixture(autouse=True)
def _fresh_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def delivered():
    """delivered() -> the mail the outbox worker sends now (django.core.mail.outbox)."""
    from django.core import mail

    from crm.outbox.services import deliver_pending

    def run():
        mail.outbox = []
        deliver_pending()
        return list(mail.outbox)

    return run
