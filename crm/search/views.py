"""The search page (`/search/?q=`) and the top bar's as-you-type suggestions (`/search/suggest/?q=`)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .selectors import MIN_LENGTH, clean_query, global_search

PAGE_PER_TYPE = 25
SUGGEST_PER_TYPE = 5


@login_required
@require_GET
def search(request):
    q = clean_query(request.GET.get("q"))
    groups = global_search(request.membership, q, per_type=PAGE_PER_TYPE)
    return render(request, "search/results.html", {
        "q": q, "groups": groups, "too_short": 0 < len(q) < MIN_LENGTH, "min_length": MIN_LENGTH,
    })


@login_required
@require_GET
def suggest(request):
    q = clean_query(request.GET.get("q"))
    groups = global_search(request.membership, q, per_type=SUGGEST_PER_TYPE)
    return render(request, "search/_suggest.html", {"q": q, "groups": groups, "searched": len(q) >= MIN_LENGTH})
