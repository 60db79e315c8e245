"""Pages of the access app, at the site root under /settings/access/…"""

from django.urls import path

from . import views, views_sharing

urlpatterns: list = [
    # --- task E: the admin's access configuration ----------------------------------------------
    path("settings/access/roles/", views.roles, name="access_roles"),
    path("settings/access/roles/new/", views.role_create, name="access_role_create"),
    path("settings/access/roles/assign/", views.role_assign, name="access_role_assign"),
    path("settings/access/roles/<uuid:pk>/", views.role_edit, name="access_role_edit"),
    path("settings/access/roles/<uuid:pk>/delete/", views.role_delete, name="access_role_delete"),
    path("settings/access/defaults/", views.defaults, name="access_defaults"),
    # --- end task E ---------------------------------------------------------------------------
]

# --- task F: sharing of one record (panel, shares, team, collaboration groups, why / who) --------
RECORD = "records/<str:object_key>/<uuid:pk>/"
urlpatterns += [
    path(RECORD + "sharing/", views_sharing.sharing_panel, name="record_sharing"),
    path(RECORD + "sharing/shares/", views_sharing.share_add, name="record_share_add"),
    path(RECORD + "sharing/shares/<uuid:share_id>/remove/", views_sharing.share_remove, name="record_share_remove"),
    path(RECORD + "sharing/team/", views_sharing.team_add, name="record_team_add"),
    path(RECORD + "sharing/team/<uuid:member_id>/remove/", views_sharing.team_remove, name="record_team_remove"),
    path(RECORD + "sharing/collaboration/", views_sharing.collaboration_add, name="record_collab_add"),
    path(RECORD + "sharing/collaboration/<uuid:group_id>/dissolve/", views_sharing.collaboration_dissolve,
         name="record_collab_dissolve"),
    path(RECORD + "why/", views_sharing.why_dialog, name="record_why"),
    path(RECORD + "who/", views_sharing.who_dialog, name="record_who"),
]
# --- end task F ----------------------------------------------------------------------------------

# --- task G: hand a leaving rep's book over ------------------------------------------------------
from . import views_transfer  # noqa: E402

urlpatterns += [
    path("settings/access/transfer/", views_transfer.transfer_page, name="access_transfer"),
    path("settings/access/transfer/<uuid:job_id>/", views_transfer.transfer_job, name="access_transfer_job"),
]
# --- end task G ----------------------------------------------------------------------------------
