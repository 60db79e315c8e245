"""Kept for ever: cached tenant data is keyed by tenant, and nothing bypasses that."""

import re
from pathlib import Path

import pytest

from crm.tenancy.cache import tenant_cache
from crm.tenancy.context import NoTenantError, tenant_context

ROOT = Path(__file__).resolve().parent.parent.parent
DIRECT_CACHE = re.compile(r"from django\.core\.cache import .*\bcache(s)?\b|django\.core\.cache\.caches?\b")
# Modules allowed to touch Django's cache directly, and why.
ALLOWED = {
    "crm/tenancy/cache.py": "the tenant-keyed wrapper itself",
    "crm/web/healthchecks.py": "a liveness round-trip with a fixed key and no tenant data",
}


def test_no_module_uses_the_raw_cache_for_tenant_data():
    offenders = []
    for path in sorted((ROOT / "crm").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if "/tests/" in rel or rel in ALLOWED:
            continue
        if DIRECT_CACHE.search(path.read_text()):
            offenders.append(rel)
    assert offenders == [], f"use crm.tenancy.cache.tenant_cache instead of Django's cache in {offenders}"


@pytest.mark.django_db
def test_one_tenants_cached_value_is_invisible_to_another(acme, globex):
    with tenant_context(acme.tenant):
        tenant_cache.set("pipeline-total", 1234)
    with tenant_context(globex.tenant):
        assert tenant_cache.get("pipeline-total") is None
    with tenant_context(acme.tenant):
        assert tenant_cache.get("pipeline-total") == 1234


def test_the_tenant_cache_refuses_to_work_without_a_tenant():
    with pytest.raises(NoTenantError):
        tenant_cache.get("anything")
