"""GET /api/v1/search/?q= : the global search, grouped by type, for the caller's tenant and visibility."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from .registry import search_types
from .selectors import MAX_LENGTH, MIN_LENGTH, clean_query, global_search

API_PER_TYPE = 10


class SearchQuerySerializer(serializers.Serializer):
    q = serializers.CharField(min_length=MIN_LENGTH, max_length=MAX_LENGTH, trim_whitespace=True)
    limit = serializers.IntegerField(min_value=1, max_value=50, default=API_PER_TYPE)


class SearchHitSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    title = serializers.CharField()
    subtitle = serializers.CharField()
    url = serializers.CharField(allow_null=True)
    score = serializers.FloatField()


class SearchResponseSerializer(serializers.Serializer):
    results = serializers.DictField(child=SearchHitSerializer(many=True))


class SearchView(APIView):
    """Search accounts, contacts (and every registered type) by name, email, domain, with typos.

    `results` has one list per type (always every registered type), best match first, only records
    the caller may see. `q`: at least 2 characters.
    """

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, required=True, description="the search text, 2 to 200 characters"),
            OpenApiParameter("limit", int, required=False, description="hits per type, 1 to 50 (10)"),
        ],
        responses=SearchResponseSerializer,
    )
    def get(self, request):
        params = SearchQuerySerializer(data={k: v for k, v in request.query_params.items() if k in ("q", "limit")})
        params.is_valid(raise_exception=True)
        q = clean_query(params.validated_data["q"])
        if len(q) < MIN_LENGTH:
            raise serializers.ValidationError({"q": [f"Ensure this field has at least {MIN_LENGTH} characters."]})
        groups = {g.key: g for g in global_search(request._request.membership, q, per_type=params.validated_data["limit"])}
        results = {}
        for search_type in search_types():
            group = groups.get(search_type.key)
            hits = group.hits if group else []
            results[search_type.key] = [
                search_type.serialize(h.obj) if search_type.serialize else
                {"id": h.id, "title": h.title, "subtitle": h.subtitle, "url": h.url, "score": round(h.score, 3)}
                for h in hits
            ]
        return Response({"results": results})
