"""With a real Celery worker process: committed mail is delivered, and /healthz sees the worker."""

import time
import uuid

import pytest

from crm.outbox import services, tasks
from crm.outbox.models import OutboxMessage, Status
from crm.outbox.services import enqueue_email
from crm.tenancy.context import tenant_context

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def status_of(company, message, want, timeout=10):
    deadline = time.monotonic() + timeout
    while True:
        with tenant_context(company.tenant):
            status = OutboxMessage.objects.for_tenant(company.tenant).get(pk=message.pk).status
        if status == want or time.monotonic() > deadline:
            return status
        time.sleep(0.1)


def test_a_worker_delivers_mail_committed_in_a_tenant(celery_worker, acme):
    subject = f"Welcome to Acme {uuid.uuid4().hex[:6]}"
    with tenant_context(acme.tenant):  # commits on exit; the delivery is queued on commit
        message = enqueue_email(to="new.customer@example.com", subject=subject, body="Glad to have you.")

    [sent] = celery_worker.wait_for_mail(subject=subject)
    assert sent["To"] == "new.customer@example.com"
    assert sent["Message-ID"] == services.message_id_for(message.pk)
    assert status_of(acme, message, Status.SENT) == Status.SENT


def test_the_relay_on_a_worker_sends_mail_whose_queued_delivery_was_lost(celery_worker, acme, monkeypatch):
    monkeypatch.setattr(services, "_queue_delivery", lambda row: None)  # the publish after commit was lost
    subject = f"Invoice {uuid.uuid4().hex[:6]}"
    with tenant_context(acme.tenant):
        message = enqueue_email(to="accounts@customer.example", subject=subject, body="Due in 30 days.")

    tasks.relay.delay()  # what beat sends every 15 s
    celery_worker.wait_for_mail(subject=subject)
    assert status_of(acme, message, Status.SENT) == Status.SENT


def test_healthz_reports_the_worker_alive(celery_worker, client):
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert celery_worker.name in body["checks"]["worker"]["workers"]
