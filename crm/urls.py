from allauth.account.views import SignupView
from django.conf import settings
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from crm.web import health

urlpatterns = [
    path("signup/", SignupView.as_view(), name="signup"),
    path("accounts/", include("allauth.urls")),
    path("accounts/", include("accounts.urls")),
    path("", include("contacts.urls")),  # contacts/… and activities/…
    path("api/v1/", include("crm.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("healthz", health.healthz, name="healthz"),
    path("", include("crm.tenancy.urls")),
    path("", include("crm.web.urls")),
    path("", include("crm.search.urls")),
    path("", include("crm.customfields.urls")),
    path("", include("crm.lists.urls")),
    path("", include("crm.imports.urls")),
    path("", include("crm.dedup.urls")),
    path("", include("crm.access.urls")),
]

if getattr(settings, "DEV_MAIL_DIR", None):
    urlpatterns.append(path("dev/mail/", include("crm.web.devmail_urls")))

handler403 = "crm.web.views.error_403"
handler404 = "crm.web.views.error_404"
handler500 = "crm.web.views.error_500"
