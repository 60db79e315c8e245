"""Pages (`urlpatterns`, mounted at the site root) and API routes (`api_urlpatterns`, mounted
under /api/v1/) of this app."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from . import api, views

urlpatterns = [
    path("duplicates/", views.queue, name="dedup_queue"),
    path("duplicates/scan/", views.scan_now, name="dedup_scan"),
    path("duplicates/scan/status/", views.scan_status, name="dedup_scan_status"),
    path("duplicates/dismiss/", views.dismiss, name="dedup_dismiss"),
    path("duplicates/merge/", views.merge, name="dedup_merge"),
    path("duplicates/merges/<uuid:pk>/undo/", views.undo, name="dedup_undo"),
    path("duplicates/panel/<str:object_label>/<uuid:pk>/", views.record_panel, name="dedup_record_panel"),
]

router = SimpleRouter()
router.register("duplicates", api.DuplicateViewSet, basename="api-duplicate")
router.register("merges", api.MergeViewSet, basename="api-merge")
api_urlpatterns = router.urls
