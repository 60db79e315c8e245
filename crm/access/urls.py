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

# --- task A ---: profiles, permission sets, a member's access, public groups, sharing rules -----
from . import views_admin  # noqa: E402

urlpatterns += [
    path("settings/access/profiles/", views_admin.profiles, name="access_profiles"),
    path("settings/access/profiles/new/", views_admin.profile_create, name="access_profile_create"),
    path("settings/access/profiles/<uuid:pk>/", views_admin.profile_edit, name="access_profile_edit"),
    path("settings/access/profiles/<uuid:pk>/delete/", views_admin.profile_delete, name="access_profile_delete"),
    path("settings/access/permission-sets/", views_admin.permission_sets, name="access_permission_sets"),
    path("settings/access/permission-sets/new/", views_admin.permission_set_create,
         name="access_permission_set_create"),
    path("settings/access/permission-sets/<uuid:pk>/", views_admin.permission_set_edit,
         name="access_permission_set_edit"),
    path("settings/access/permission-sets/<uuid:pk>/delete/", views_admin.permission_set_delete,
         name="access_permission_set_delete"),
    path("settings/access/members/<uuid:pk>/", views_admin.member_access, name="access_member"),
    path("settings/access/groups/", views_admin.groups, name="access_groups"),
    path("settings/access/groups/new/", views_admin.group_edit, name="access_group_create"),
    path("settings/access/groups/<uuid:pk>/", views_admin.group_edit, name="access_group_edit"),
    path("settings/access/groups/<uuid:pk>/delete/", views_admin.group_delete, name="access_group_delete"),
    path("settings/access/sharing-rules/", views_admin.rules, name="access_rules"),
    path("settings/access/sharing-rules/new/", views_admin.rule_edit, name="access_rule_create"),
    path("settings/access/sharing-rules/<uuid:pk>/", views_admin.rule_edit, name="access_rule_edit"),
    path("settings/access/sharing-rules/<uuid:pk>/delete/", views_admin.rule_delete, name="access_rule_delete"),
]
# --- end task A ----------------------------------------------------------------------------------
