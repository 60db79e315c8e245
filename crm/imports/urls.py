"""Pages (`urlpatterns`, mounted at the site root) and API routes (`api_urlpatterns`, mounted
under /api/v1/) of this app."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from . import api, views

router = SimpleRouter(trailing_slash=True)
router.register("imports", api.ImportJobViewSet, basename="api-import")

urlpatterns: list = [
    path("imports/", views.import_list, name="import_list"),
    path("imports/new/", views.import_new, name="import_new"),
    path("imports/<uuid:pk>/", views.import_detail, name="import_detail"),
    path("imports/<uuid:pk>/mapping/", views.import_mapping, name="import_mapping"),
    path("imports/<uuid:pk>/progress/", views.import_progress, name="import_progress"),
    path("imports/<uuid:pk>/run/", views.import_run, name="import_run"),
    path("imports/<uuid:pk>/errors.csv", views.import_errors_csv, name="import_errors_csv"),
]
api_urlpatterns: list = [
    path("imports/<uuid:pk>/errors.csv", api.ImportJobViewSet.as_view({"get": "errors_csv"}), name="api-import-errors-csv"),
    *router.urls,
]
