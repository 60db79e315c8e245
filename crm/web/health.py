"""/healthz: database, Redis and worker liveness, as JSON (200 when all are up, else 503).

Answered by HealthzMiddleware, first in MIDDLEWARE, before sessions, the tenant middleware's
request transaction and the HTTPS redirect: a health check must need no sign-in, must answer a
load balancer's plain-HTTP probe, and must report a database that is down as 503 JSON instead of
failing in the middleware that opens the request's transaction. No tenant data is read.
"""

from django.http import JsonResponse

PATH = "/healthz"


def healthz(request):
    from crm.web.healthchecks import check_all

    checks = check_all()
    ok = all(c["ok"] for c in checks.values())
    response = JsonResponse({"status": "ok" if ok else "degraded", "checks": checks}, status=200 if ok else 503)
    response["Cache-Control"] = "no-store"
    return response


class HealthzMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path in (PATH, PATH + "/") and request.method in ("GET", "HEAD"):
            return healthz(request)
        return self.get_response(request)
