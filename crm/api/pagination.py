"""Keyset (cursor) pagination: deep pages cost the same as the first, under RLS too.

Lists order by a stored key plus `id` (unique), e.g. ("name_key", "id") or ("-created_at", "-id");
the cursor is opaque and encodes the last row's position, never an offset.
"""

from rest_framework.pagination import CursorPagination


class KeysetPagination(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = ("-created_at", "-id")
