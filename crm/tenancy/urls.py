from django.urls import path

from . import views

urlpatterns = [
    path("team/", views.team, name="team"),
    path("team/invite/", views.team_invite, name="team_invite"),
    path("team/invitations/<uuid:pk>/revoke/", views.team_invitation_revoke, name="team_invitation_revoke"),
    path("team/members/<uuid:pk>/role/", views.team_member_role, name="team_member_role"),
    path("team/members/<uuid:pk>/deactivate/", views.team_member_deactivate, name="team_member_deactivate"),
    path("invite/<uuid:tenant_id>/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("settings/security/", views.company_security, name="company_security"),
    path("settings/security-log/", views.security_log, name="security_log"),
    path("settings/api-tokens/", views.api_tokens, name="api_tokens"),
    path("settings/api-tokens/<uuid:pk>/revoke/", views.api_token_revoke, name="api_token_revoke"),
]
