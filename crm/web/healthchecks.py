"""Liveness checks; the worker is checked by a Celery ping with a short timeout."""

from __future__ import annotations

import time


def _timed(fn):
    start = time.monotonic()
    try:
        detail = fn()
        return {"ok": True, "ms": round((time.monotonic() - start) * 1000, 1), **(detail or {})}
    except Exception as exc:  # noqa: BLE001  (a health check reports any failure)
        return {"ok": False, "ms": round((time.monotonic() - start) * 1000, 1), "error": str(exc)[:200]}


def check_database():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_redis():
    from django.core.cache import cache

    cache.set("healthz", "1", 5)
    if cache.get("healthz") != "1":
        raise RuntimeError("redis round-trip failed")


def check_worker():
    from crm.celery import app

    replies = app.control.ping(timeout=1.0)
    if not replies:
        raise RuntimeError("no Celery worker answered")
    return {"workers": len(replies)}


def check_all() -> dict:
    return {"database": _timed(check_database), "redis": _timed(check_redis), "worker": _timed(check_worker)}
