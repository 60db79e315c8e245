from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from crm.tenancy.middleware import switch_tenant

from .home import home_panels


@login_required
def home(request):
    if request.membership is None:
        return render(request, "web/no_tenant.html", status=200)
    return render(request, "web/home.html", {"panels": home_panels(request.membership)})


@login_required
@require_POST
def tenant_switch(request):
    switch_tenant(request, request.POST.get("tenant", ""))
    nxt = request.POST.get("next") or reverse("home")
    if not url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        nxt = reverse("home")
    return HttpResponseRedirect(nxt)


def error_403(request, exception=None):
    return render(request, "errors/403.html", status=403)


def error_404(request, exception=None):
    return render(request, "errors/404.html", status=404)


def error_500(request):
    # no context processors that touch the database: the request may have failed there
    from django.http import HttpResponseServerError
    from django.template import loader

    return HttpResponseServerError(loader.get_template("errors/500.html").render({}))
