"""Fixtures for background work, shared by the whole suite (registered in the root conftest.py).

- Mail goes through the outbox in tests, as in production. Django's test setup swaps
  EMAIL_BACKEND for locmem; that would let a test see mail that production would only send after
  commit, so the outbox backend is put back. A test lets "the worker" run with
  `crm.outbox.services.deliver_pending()` and then reads `django.core.mail.outbox`.
- `celery_worker`: a REAL `celery -A crm worker` process on the test broker (TEST_REDIS_DB) and the
  test database, for tests marked `@pytest.mark.worker`; it brings `transactional_db` (the worker
  only sees committed rows). The process lives for the session but takes tasks only during the
  tests that ask for it. It sends mail with Django's file backend into `celery_worker.mail_dir`;
  read it with `celery_worker.wait_for_mail(subject=…)`.
"""

from __future__ import annotations

import email
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from email import policy
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FILE_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
SEPARATOR = b"\n" + b"-" * 79 + b"\n"  # what Django's file backend writes after each message


@pytest.fixture(autouse=True, scope="session")
def _mail_goes_through_the_outbox(django_test_environment):
    from django.conf import settings

    settings.EMAIL_BACKEND = "crm.outbox.mail.OutboxEmailBackend"


@dataclass
class WorkerProcess:
    process: subprocess.Popen
    name: str
    mail_dir: Path
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def sent_mail(self) -> list[email.message.EmailMessage]:
        found = []
        for path in sorted(self.mail_dir.glob("*.log")):
            for chunk in path.read_bytes().split(SEPARATOR):
                if chunk.strip():
                    found.append(email.message_from_bytes(chunk, policy=policy.default))
        return found

    def wait_for_mail(self, *, subject: str | None = None, count: int = 1,
                      timeout: float = 30.0) -> list[email.message.EmailMessage]:
        """The mail the worker sent (with this subject), once there are `count`; fails with the
        worker's log after `timeout` or as soon as the worker has died."""
        deadline = time.monotonic() + timeout
        while True:
            mail = [m for m in self.sent_mail() if subject is None or m["Subject"] == subject]
            if len(mail) >= count:
                return mail
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(
                    f"the worker sent {len(mail)} of {count} messages {subject!r} in {timeout}s "
                    f"(exit code {self.process.poll()}); its log:\n{self.log()[-4000:]}"
                )
            time.sleep(0.1)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)  # its own session: the worker and nothing else
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


@pytest.fixture(scope="session")
def _celery_worker_process(django_db_setup, tmp_path_factory):
    """One worker process for the session. It starts parked on a queue of its own, so it takes no
    task while other tests run (an e2e test expects its mail to wait in the outbox)."""
    from django.db import connections

    from crm.celery import app

    folder = tmp_path_factory.mktemp("celery-worker")
    mail_dir = folder / "mail"
    mail_dir.mkdir()
    log_path = folder / "worker.log"
    name = f"test-{uuid.uuid4().hex[:8]}@{socket.gethostname()}"
    env = dict(os.environ)
    env.pop("CRM_DB_ROLE", None)  # the worker runs as the application role, RLS on
    env.update(
        DJANGO_SETTINGS_MODULE="crm.settings.test",
        CRM_DB_NAME=connections["default"].settings_dict["NAME"],  # the test database
        CRM_TEST_MAIL_TRANSPORT=FILE_BACKEND,
        CRM_TEST_MAIL_DIR=str(mail_dir),
        PYTHONUNBUFFERED="1",
    )
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "crm", "worker", "--pool", "solo", "--concurrency", "1",
             "-n", name, "-Q", f"parked-{name}", "--without-gossip", "--without-mingle", "--without-heartbeat",
             "-l", "info"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    worker = WorkerProcess(process, name, mail_dir, log_path)
    try:
        deadline = time.monotonic() + 60
        while not app.control.ping(destination=[name], timeout=0.5):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the Celery worker did not start; its log:\n{worker.log()[-4000:]}")
        yield worker
    finally:
        _stop(process)


@pytest.fixture
def celery_worker(_celery_worker_process, transactional_db):
    """A real worker taking tasks from the default queue for the length of one test."""
    from crm.celery import app

    worker = _celery_worker_process
    queue = app.conf.task_default_queue
    # tasks queued by earlier tests that had no worker point at rows flushed since
    app.control.purge()
    if not app.control.add_consumer(queue, destination=[worker.name], reply=True, timeout=5):
        raise RuntimeError(f"the worker did not start consuming; its log:\n{worker.log()[-4000:]}")
    yield worker
    app.control.cancel_consumer(queue, destination=[worker.name], reply=True, timeout=5)


@pytest.fixture
def fresh_cache():
    """An empty cache (this run's own Redis database) before and after the test: sessions,
    allauth's rate limits and used-TOTP markers live there, and a test must not inherit another
    test's attempts."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def delivered():
    """delivered() -> the mail the outbox worker would send now (django.core.mail.outbox)."""
    from django.core import mail

    from crm.outbox.services import deliver_pending

    def run():
        mail.outbox = []
        deliver_pending()
        return list(mail.outbox)

    return run
