"""The invitation is readable in the dev mail viewer (what the local SMTP sink caught)."""

import re

import pytest
from django.test import override_settings

from crm.tenancy import services
from crm.tenancy.context import tenant_context
from crm.tenancy.models import Role

pytestmark = pytest.mark.django_db


def test_the_dev_mail_viewer_lists_and_shows_a_caught_invitation(client_as, acme, delivered, tmp_path):
    with tenant_context(acme.tenant):
        services.invitation_create(actor=acme.admin, email="sam@acme.example", role=Role.REP)
    [message] = delivered()
    # what scripts/mailsink.py does with a message it receives
    (tmp_path / "20260101-120000-0001.eml").write_bytes(message.message().as_bytes())
    with override_settings(DEV_MAIL_DIR=str(tmp_path), ROOT_URLCONF="crm.tenancy.tests.urls_devmail"):
        client = client_as(acme.admin)
        listing = client.get("/dev/mail/")
        assert listing.status_code == 200
        assert "invited you to Acme" in listing.content.decode()
        detail = client.get("/dev/mail/20260101-120000-0001/")
        assert detail.status_code == 200
        body = detail.content.decode()
        assert "sam@acme.example" in body
        assert re.search(r"/invite/[0-9a-f-]+/[\w-]+/", body)
        assert client.get("/dev/mail/no-such-mail/").status_code == 404
