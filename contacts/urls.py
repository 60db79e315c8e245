from django.urls import path

from . import views, views_edit, views_removal

urlpatterns = [
    path("contacts/", views.contact_list, name="contact_list"),
    path("contacts/new/", views.contact_create, name="contact_create"),
    path("contacts/<uuid:pk>/", views.contact_detail, name="contact_detail"),
    path("contacts/<uuid:pk>/edit/", views.contact_edit, name="contact_edit"),
    path("contacts/<uuid:pk>/consent/", views.contact_consent, name="contact_consent"),
    path("contacts/<uuid:pk>/delete/", views_removal.contact_delete, name="contact_delete"),
    path("contacts/<uuid:pk>/gdpr-export/", views_removal.contact_export, name="contact_gdpr_export"),
    path("contacts/<uuid:pk>/erase/", views_removal.contact_erase, name="contact_erase"),
    path("contacts/<uuid:contact_id>/timeline/", views.contact_timeline, name="contact_timeline"),
    path("contacts/<uuid:contact_id>/timeline/log/", views.contact_quick_log, name="contact_quick_log"),
    path("activities/", views.activity_list, name="activity_list"),
    path("activities/new/", views.activity_create, name="activity_create"),
    path("activities/week/", views.activity_week, name="activity_week"),
    path("activities/comments/read/", views.comments_mark_read, name="activity_comments_read"),
    path("activities/<uuid:pk>/edit/", views_edit.activity_edit, name="activity_edit"),
    path("activities/<uuid:pk>/complete/", views.task_complete, name="task_complete"),
    path("activities/<uuid:pk>/comments/", views.activity_comment, name="activity_comment"),
    path("activities/account/<uuid:account_id>/", views.account_timeline, name="account_timeline"),
    path("activities/account/<uuid:account_id>/log/", views.account_quick_log, name="account_quick_log"),
]
