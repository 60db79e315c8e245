"""Views used only by tests/platform/test_tenant_middleware.py (mounted with @pytest.mark.urls)."""

from django.http import Http404, HttpResponse
from django.urls import path

from crm.tenancy.context import current_tenant
from crm.tenancy.models import Membership


def rename_then_fail(request, how):
    Membership.objects.for_tenant(request.tenant).filter(pk=request.membership.pk).update(role="agent")
    if how == "404":
        raise Http404
    if how == "crash":
        raise ValueError("boom")
    return HttpResponse("ok")


def whoami(request):
    tenant = current_tenant()
    count = Membership.objects.count()  # deliberately without for_tenant(): RLS is the second wall
    return HttpResponse(f"{tenant.slug if tenant else '-'}:{count}")


urlpatterns = [
    path("t/rename/<str:how>/", rename_then_fail),
    path("t/whoami/", whoami),
]
