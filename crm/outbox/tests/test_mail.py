"""Mail written through Django's mail API lands in the outbox, in the writer's transaction."""

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives, send_mail
from django.db import transaction

from crm.outbox.models import OutboxMessage, Status, SystemMessage
from crm.outbox.services import deliver_pending, enqueue_email, message_id_for
from crm.tenancy.context import tenant_context

from .transports import sent_to

pytestmark = pytest.mark.django_db


def test_mail_sent_in_a_tenant_waits_in_that_tenants_outbox_until_a_worker_sends_it(acme, globex):
    with tenant_context(acme.tenant):
        send_mail("Your quote", "Attached.", None, ["buyer@customer.example"])
        assert OutboxMessage.objects.for_tenant(acme.tenant).filter(status=Status.PENDING).count() == 1
    assert mail.outbox == []  # nothing leaves the process inside the request
    with tenant_context(globex.tenant):
        assert not OutboxMessage.objects.exists()  # another tenant cannot see it (RLS)

    assert deliver_pending() == 1
    [sent] = sent_to("buyer@customer.example")
    assert sent.subject == "Your quote"


def test_mail_sent_with_no_tenant_is_a_system_message(db):
    send_mail("Reset your password", "Follow the link.", None, ["someone@example.com"])
    [message] = SystemMessage.objects.all()
    assert message.payload["to"] == ["someone@example.com"]
    assert deliver_pending() == 1
    assert sent_to("someone@example.com")[0].subject == "Reset your password"


def test_a_password_reset_asked_for_while_signed_out_is_mailed_through_the_system_outbox(client, acme):
    response = client.post("/accounts/password/reset/", {"email": "rep@acme.example"})
    assert response.status_code == 302
    assert SystemMessage.objects.filter(payload__to=["rep@acme.example"]).exists()
    assert sent_to("rep@acme.example") == []

    deliver_pending()
    [reset] = sent_to("rep@acme.example")
    assert "/accounts/password/reset/key/" in reset.body


def test_the_sent_mail_keeps_its_html_part_copies_reply_to_and_headers(acme):
    with tenant_context(acme.tenant):
        message = EmailMultiAlternatives(
            "Quarterly review", "Plain text", "Sales <sales@acme.example>", ["a@customer.example"],
            cc=["b@customer.example"], bcc=["audit@acme.example"], reply_to=["rep@acme.example"],
            headers={"X-Campaign": "q3"},
        )
        message.attach_alternative("<p>Rich text</p>", "text/html")
        message.attach("terms.txt", "Be nice.", "text/plain")
        message.send()
        [stored] = OutboxMessage.objects.for_tenant(acme.tenant)

    deliver_pending()
    [sent] = mail.outbox
    assert sent.recipients() == ["a@customer.example", "b@customer.example", "audit@acme.example"]
    assert sent.from_email == "Sales <sales@acme.example>"
    assert sent.reply_to == ["rep@acme.example"]
    assert sent.alternatives[0][0] == "<p>Rich text</p>"
    assert sent.attachments[0][:2] == ("terms.txt", "Be nice.")
    rendered = sent.message()
    assert rendered["X-Campaign"] == "q3"
    assert rendered["Message-ID"] == message_id_for(stored.pk)
    assert "audit@acme.example" not in rendered.as_string()  # bcc stays blind


def test_mail_written_in_a_transaction_that_rolls_back_is_never_sent(acme, queued):
    with pytest.raises(RuntimeError), tenant_context(acme.tenant):
        enqueue_email(to="buyer@customer.example", subject="Order confirmed", body="…")
        raise RuntimeError("the order failed to save")

    with tenant_context(acme.tenant):
        assert not OutboxMessage.objects.exists()
    assert deliver_pending() == 0
    assert mail.outbox == [] and queued == []


def test_delivery_is_queued_once_and_only_after_commit(acme, queued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with tenant_context(acme.tenant):
            message = enqueue_email(to="buyer@customer.example", subject="Order confirmed", body="…")
            assert queued == []  # not before commit: a worker would not see the row yet
    assert queued == [("tenant", {"tenant_id": str(acme.tenant.pk), "message_id": str(message.pk)})]


def test_a_system_message_is_queued_for_the_system_deliverer(db, queued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        message = enqueue_email(to="someone@example.com", subject="Reset", body="…")
    assert queued == [("system", {"message_id": str(message.pk)})]


def test_a_broker_outage_on_commit_does_not_break_the_change_and_the_relay_still_sends(acme, monkeypatch,
                                                                                       django_capture_on_commit_callbacks):
    from crm.outbox import tasks

    def broker_down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(tasks.deliver, "apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True), tenant_context(acme.tenant):
        enqueue_email(to="buyer@customer.example", subject="Invoice", body="…")
    assert deliver_pending() == 1
    assert sent_to("buyer@customer.example")[0].subject == "Invoice"


def test_an_email_needs_a_recipient(acme):
    with tenant_context(acme.tenant), pytest.raises(ValueError):
        enqueue_email(to=[], subject="Nobody", body="…")
