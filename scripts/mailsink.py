"""Development SMTP sink on 127.0.0.1:1025: every message is written to .data/mail/ as an .eml
file, which the dev mail viewer (/dev/mail/) shows. A real SMTP server (aiosmtpd), not a fake."""

from __future__ import annotations

import os
import signal
import time
import uuid
from pathlib import Path

from aiosmtpd.controller import Controller

MAIL_DIR = Path(os.environ.get("DEV_MAIL_DIR", Path(__file__).resolve().parent.parent / ".data" / "mail"))


class SaveToDir:
    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        MAIL_DIR.mkdir(parents=True, exist_ok=True)
        name = f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}.eml"
        (MAIL_DIR / name).write_bytes(envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"


def main(port: int = int(os.environ.get("EMAIL_PORT", "1025"))) -> None:
    # 127.0.0.1 locally; docker-compose.yml sets 0.0.0.0 so the other containers reach it
    host = os.environ.get("MAILSINK_HOST", "127.0.0.1")
    controller = Controller(SaveToDir(), hostname=host, port=port)
    controller.start()
    print(f"mail sink on {host}:{port}, writing to {MAIL_DIR}", flush=True)
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    try:
        while not stop:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
