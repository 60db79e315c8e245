"""Mail transports the tests plug in as OUTBOX_TRANSPORT_BACKEND to play a mail server."""

from __future__ import annotations

import smtplib
import threading
import time

from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend


class DownServer(BaseEmailBackend):
    """A mail server that refuses everything for now."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("451 mail server unavailable, try again later")


class WorkerKilled(BaseException):
    """Stands for the worker process dying mid-send (SIGKILL, OOM, power): nothing after it runs."""


class DyingWorker(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise WorkerKilled()


class SlowServer(BaseEmailBackend):
    """Takes its time to accept a message, so two workers sending at once would overlap."""

    accepted: list = []
    lock = threading.Lock()

    def send_messages(self, email_messages):
        time.sleep(0.5)
        with self.lock:
            SlowServer.accepted.extend(email_messages)
        return len(email_messages)


def sent_to(address: str) -> list:
    """Messages the locmem transport accepted for `address`."""
    return [m for m in mail.outbox if address in m.recipients()]
