"""Pages (`urlpatterns`, mounted at the site root) and API routes (`api_urlpatterns`, mounted
under /api/v1/) of this app. The list pages themselves stay at each app's own URL (/accounts/,
/contacts/, /activities/); these are their actions."""

from django.urls import path

from . import api, views

urlpatterns = [
    path("lists/<str:key>/columns/", views.columns_save, name="list_columns"),
    path("lists/<str:key>/views/", views.view_create, name="list_view_create"),
    path("lists/<str:key>/bulk/", views.bulk, name="list_bulk"),
    path("lists/<str:key>/bulk/actions/", views.bulk_actions, name="list_bulk_actions"),
    path("lists/<str:key>/pick/<str:filter_key>/", views.pick, name="list_pick"),
    path("lists/<str:key>/export/", views.export, name="list_export"),
    path("lists/views/<uuid:pk>/update/", views.view_update, name="list_view_update"),
    path("lists/views/<uuid:pk>/delete/", views.view_delete, name="list_view_delete"),
    path("lists/undo/<uuid:pk>/", views.undo, name="list_undo"),
    path("exports/<uuid:pk>/", views.export_job, name="export_job"),
    path("exports/<uuid:pk>/download/", views.export_download, name="export_download"),
]

api_urlpatterns = api.urlpatterns
