"""The project's URLs plus the dev mail viewer, which crm/urls.py adds only when DEV_MAIL_DIR is set
at start-up (tests run without it)."""

from django.urls import include, path

from crm.urls import handler403, handler404, handler500  # noqa: F401
from crm.urls import urlpatterns as project_urls

urlpatterns = [*project_urls, path("dev/mail/", include("crm.web.devmail_urls"))]
