"""Development only: read the mail the local SMTP sink caught (scripts/mailsink.py)."""

from django.urls import path

from . import devmail

urlpatterns = [
    path("", devmail.mail_list, name="devmail_list"),
    path("<str:name>/", devmail.mail_detail, name="devmail_detail"),
]
