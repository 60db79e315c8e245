"""Liveness checks, each with a short timeout so /healthz answers quickly even when a part hangs.

The worker is checked by a Celery ping (broadcast over the broker) that returns at the first reply.
"""

from __future__ import annotations

import time

TIMEOUT = 1.0  # seconds, per check


def _timed(fn):
    start = time.monotonic()
    try:
        detail = fn()
        return {"ok": True, "ms": round((time.monotonic() - start) * 1000, 1), **(detail or {})}
    except Exception as exc:  # noqa: BLE001  (a health check reports any failure)
        return {"ok": False, "ms": round((time.monotonic() - start) * 1000, 1),
                "error": f"{type(exc).__name__}: {exc}"[:200]}


def check_database():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_redis():
    """A round trip to the Redis the cache (and sessions) use, with its own short timeouts (the
    cache client would wait for the OS's TCP timeout on an unreachable host)."""
    import redis
    from django.conf import settings

    location = settings.CACHES["default"]["LOCATION"]
    client = redis.Redis.from_url(location, socket_connect_timeout=TIMEOUT, socket_timeout=TIMEOUT)
    try:
        client.set("healthz", "1", ex=5)
        if client.get("healthz") != b"1":
            raise RuntimeError("redis round-trip failed")
    finally:
        client.close()


def check_worker():
    from crm.celery import app

    with app.connection_for_write() as conn:
        # fail fast when the broker is unreachable, instead of kombu's retry loop
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=TIMEOUT)
        replies = app.control.ping(timeout=TIMEOUT, limit=1, connection=conn)
    if not replies:
        raise RuntimeError("no Celery worker answered")
    return {"workers": [name for reply in replies for name in reply]}


def check_all() -> dict:
    return {"database": _timed(check_database), "redis": _timed(check_redis), "worker": _timed(check_worker)}
