"""The project's URLs plus the dev mail viewer (test settings leave DEV_MAIL_DIR unset)."""

from django.urls import include, path

from crm.urls import urlpatterns as project_urlpatterns

urlpatterns = [*project_urlpatterns, path("dev/mail/", include("crm.web.devmail_urls"))]
