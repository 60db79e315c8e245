"""Pages (`urlpatterns`, at the site root) and API routes (`api_urlpatterns`, under /api/v1/)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from . import api, views

router = SimpleRouter(trailing_slash=True)
router.register("custom-fields", api.CustomFieldViewSet, basename="api-custom-field")

urlpatterns: list = [
    path("settings/fields/", views.field_list, name="customfield_list"),
    path("settings/fields/new/", views.field_create, name="customfield_create"),
    path("settings/fields/<uuid:pk>/", views.field_edit, name="customfield_edit"),
    path("settings/fields/<uuid:pk>/archive/", views.field_archive, name="customfield_archive"),
]
api_urlpatterns: list = [*router.urls]
