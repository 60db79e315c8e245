"""`/api/v1/members/`: the company's people, read-only, with each one's change history.

Kept apart from views.py (tokens, sign-in) so the two grow without stepping on each other.
"""

from __future__ import annotations

import django_filters
from rest_framework import mixins, serializers, viewsets

from crm.audit.api import HistoryMixin
from crm.tenancy.models import Membership, Role
from crm.tenancy.selectors import team_members


class MemberSerializer(serializers.ModelSerializer):
    email = serializers.EmailField(source="user.email", read_only=True)
    full_name = serializers.CharField(source="user.full_name", read_only=True)
    role_display = serializers.CharField(source="get_role_display", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "email", "full_name", "role", "role_display", "reports_to", "is_active", "created_at"]
        read_only_fields = fields


class MemberFilter(django_filters.FilterSet):
    role = django_filters.ChoiceFilter(choices=Role.choices)
    is_active = django_filters.BooleanFilter()

    class Meta:
        model = Membership
        fields = ["role", "is_active"]


class MemberViewSet(HistoryMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The people of this company and their roles. `GET /members/<id>/history/`: who changed
    their role, reporting line or access, when, and through what."""

    queryset = Membership.objects.none()  # for the schema only; requests use get_queryset()
    serializer_class = MemberSerializer
    filterset_class = MemberFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return team_members(actor=self.request._request.membership)
