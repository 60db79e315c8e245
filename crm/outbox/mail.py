"""EMAIL_BACKEND of the project: "sending" a mail writes it to the outbox, in the caller's transaction.

Everything that calls Django's mail API (send_mail, EmailMessage.send, allauth's notices) lands
here. Nothing talks to a mail server inside a request: a worker sends the message once the
transaction that wrote it has committed, and a rolled-back transaction sends nothing.
"""

from __future__ import annotations

from django.core.mail.backends.base import BaseEmailBackend


class OutboxEmailBackend(BaseEmailBackend):
    """Writes each message to OutboxMessage (a tenant is entered) or SystemMessage (none is).

    Returns the number of messages written, as Django's backends return the number sent. The
    transport that really sends is settings.OUTBOX_TRANSPORT_BACKEND, used by the worker.
    """

    def send_messages(self, email_messages) -> int:
        from .services import store_emails

        if not email_messages:
            return 0
        try:
            return len(store_emails(list(email_messages)))
        except Exception:
            if not self.fail_silently:
                raise
            return 0
