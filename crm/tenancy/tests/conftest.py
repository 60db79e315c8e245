import pytest


@pytest.fixture(autouse=True)
def _fresh_cache(fresh_cache):
    """Every sign-in test starts with an empty cache (tests/background.py)."""

