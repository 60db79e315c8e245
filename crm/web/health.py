"""/healthz: database, Redis and worker liveness, as JSON (200 when all are up, else 503)."""

from django.http import JsonResponse


def healthz(request):
    from crm.web.healthchecks import check_all

    checks = check_all()
    ok = all(c["ok"] for c in checks.values())
    return JsonResponse({"status": "ok" if ok else "degraded", "checks": checks}, status=200 if ok else 503)
