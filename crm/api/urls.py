from django.urls import path
from rest_framework.routers import DefaultRouter

from accounts.api import AccountViewSet
from contacts import api as contacts_api
from crm.access.api import TransferView
from crm.customfields import urls as customfields_urls
from crm.dedup import urls as dedup_urls
from crm.imports import urls as imports_urls
from crm.lists import urls as lists_urls
from crm.search.api import SearchView

from . import members, views

router = DefaultRouter(trailing_slash=True)
router.register("auth/tokens", views.ApiTokenViewSet, basename="api-token")
router.register("members", members.MemberViewSet, basename="api-member")
router.register("contacts", contacts_api.ContactViewSet, basename="api-contact")
router.register("activities", contacts_api.ActivityViewSet, basename="api-activity")
router.register("accounts", AccountViewSet, basename="api-account")

urlpatterns = [
    path("auth/token/", views.ObtainTokenView.as_view(), name="api-obtain-token"),
    path("me/", views.MeView.as_view(), name="api-me"),
    path("search/", SearchView.as_view(), name="api-search"),
    path("access/transfer/", TransferView.as_view(), name="api-access-transfer"),  # task G
    *router.urls,
    *customfields_urls.api_urlpatterns,
    *lists_urls.api_urlpatterns,
    *imports_urls.api_urlpatterns,
    *dedup_urls.api_urlpatterns,
]
