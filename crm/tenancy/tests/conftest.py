import pytest


@pytest.fixture(autouse=True)
def _fresh_cache():
    """allauth's rate limits and used-TOTP markers live in the cache (this run's own Redis
    database); a test must not inherit another test's attempts."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def delivered():
    """delivered() -> the mail the outbox worker would send now (django.core.mail.outbox)."""
    from django.core import mail

    from crm.outbox.services import deliver_pending

    def run():
        mail.outbox = []
        deliver_pending()
        return list(mail.outbox)

    return run
