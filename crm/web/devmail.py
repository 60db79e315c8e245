"""Development mail viewer: lists the .eml files the SMTP sink wrote to DEV_MAIL_DIR."""

from __future__ import annotations

import email
from email import policy
from email.utils import parsedate_to_datetime
from pathlib import Path

from django.conf import settings
from django.http import Http404
from django.shortcuts import render


def _dir() -> Path:
    return Path(settings.DEV_MAIL_DIR)


def _date(value):
    try:
        return parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError):
        return None


def _read(path: Path) -> dict:
    msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    body = msg.get_body(preferencelist=("plain", "html"))
    text = body.get_content() if body else ""
    return {
        "name": path.stem, "subject": msg["subject"], "from": msg["from"], "to": msg["to"],
        "date": msg["date"], "sent_at": _date(msg["date"]), "body": text,
        "preview": " ".join(text.split())[:140],
    }


def mail_list(request):
    folder = _dir()
    files = sorted(folder.glob("*.eml"), reverse=True)[:200] if folder.exists() else []
    return render(request, "web/devmail_list.html", {"messages_caught": [_read(p) for p in files]})


def mail_detail(request, name: str):
    path = _dir() / f"{name}.eml"
    if "/" in name or not path.exists():
        raise Http404
    return render(request, "web/devmail_detail.html", {"mail": _read(path)})
