from django.contrib import messages
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
    from crm.tenancy.security import has_totp

    user = request.user
    return render(request, "web/home.html", {
        "panels": home_panels(request.membership),
        "first_name": (user.full_name.split() or [user.display_name])[0],
        "suggest_mfa": not has_totp(user),
    })


@login_required
@require_POST
def tenant_switch(request):
    membership = switch_tenant(request, request.POST.get("tenant", ""))
    if membership is None:
        messages.error(request, "You are not a member of that company.")
    elif membership.tenant_id != getattr(request.tenant, "pk", None):
        messages.success(request, f"Switched to {membership.tenant.name}.")
    nxt = request.POST.get("next") or reverse("home")
    if not url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        nxt = reverse("home")
    return HttpResponseRedirect(nxt)


def error_403(request, exception=None):
    # a PermissionDenied raised with a message says why (CONVENTIONS: "403 with a reason")
    reason = str(exception) if exception is not None and getattr(exception, "args", None) else ""
    return render(request, "errors/403.html", {"exception_reason": reason}, status=403)


def error_404(request, exception=None):
    return render(request, "errors/404.html", status=404)


def error_500(request):
    # no context processors that touch the database: the request may have failed there
    from django.http import HttpResponseServerError
    from django.template import loader

    return HttpResponseServerError(loader.get_template("errors/500.html").render({}))
