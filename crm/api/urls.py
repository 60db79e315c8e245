from django.urls import path
from rest_framework.routers import DefaultRouter

from . import members, views

router = DefaultRouter(trailing_slash=True)
router.register("auth/tokens", views.ApiTokenViewSet, basename="api-token")
router.register("members", members.MemberViewSet, basename="api-member")

urlpatterns = [
    path("auth/token/", views.ObtainTokenView.as_view(), name="api-obtain-token"),
    path("me/", views.MeView.as_view(), name="api-me"),
    *router.urls,
]
