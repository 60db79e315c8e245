"""The only way application code caches tenant data: every key carries the tenant.

A shared cache key without the tenant is one of the quiet ways RLS is bypassed (tenant A's cached
dashboard served to tenant B). `tenant_cache` builds keys as `t:<tenant id>:<key>` from the
current tenant context and refuses to work without one. tests/isolation/test_cache_keys.py fails
when code elsewhere imports Django's cache directly.
"""

from __future__ import annotations

from typing import Any

from django.core.cache import cache as _cache

from .context import require_tenant


def tenant_key(key: str, tenant=None) -> str:
    tenant = tenant or require_tenant()
    return f"t:{tenant.pk}:{key}"


class TenantCache:
    def get(self, key: str, default: Any = None) -> Any:
        return _cache.get(tenant_key(key), default)

    def set(self, key: str, value: Any, timeout: int | None = 300, *, tenant=None) -> None:
        """`tenant`: for a write after the tenant context ended (a transaction's on_commit)."""
        _cache.set(tenant_key(key, tenant), value, timeout)

    def delete(self, key: str) -> None:
        _cache.delete(tenant_key(key))

    def get_or_set(self, key: str, default, timeout: int | None = 300) -> Any:
        return _cache.get_or_set(tenant_key(key), default, timeout)


tenant_cache = TenantCache()
