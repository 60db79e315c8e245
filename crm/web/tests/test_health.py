"""/healthz: what a load balancer or `docker compose ps` sees of the stack."""

import time

import pytest

pytestmark = pytest.mark.django_db

NO_SERVER = "redis://127.0.0.1:1/0"  # nothing listens on port 1: connection refused at once


def test_healthz_reports_each_part_as_json_without_signing_in(client):
    response = client.get("/healthz")
    body = response.json()
    assert set(body["checks"]) == {"database", "redis", "worker"}
    assert body["checks"]["database"]["ok"] and body["checks"]["redis"]["ok"]
    all_ok = all(check["ok"] for check in body["checks"].values())
    assert response.status_code == (200 if all_ok else 503)
    assert body["status"] == ("ok" if all_ok else "degraded")


def test_healthz_is_503_when_redis_is_down(client, settings):
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": NO_SERVER}}
    response = client.get("/healthz")
    assert response.status_code == 503
    redis = response.json()["checks"]["redis"]
    assert not redis["ok"] and "Connection" in redis["error"]
    assert response.json()["checks"]["database"]["ok"]


def test_healthz_reports_no_worker_quickly_when_the_broker_is_unreachable(client, monkeypatch):
    from crm.celery import app

    connect = app.connection_for_write
    monkeypatch.setattr(app, "connection_for_write", lambda *args, **kwargs: connect(url=NO_SERVER))
    started = time.monotonic()
    response = client.get("/healthz")
    assert time.monotonic() - started < 5
    assert response.status_code == 503
    assert not response.json()["checks"]["worker"]["ok"]


def test_healthz_answers_plain_http_probes_when_https_is_enforced(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/accounts/login/").status_code == 301  # every page goes to https…
    response = client.get("/healthz")
    assert response.status_code in (200, 503)  # …but a load balancer's probe is answered
    assert "checks" in response.json()
