"""`POST /api/v1/access/transfer/`: hand a leaving rep's book over (crm.access.transfer).

`{"from_member": id, "to_members": [id, …], "keep_shares": true, "keep_teams": true}`; with
`"preview": true` the answer is the counts that would move (200, nothing changes); otherwise the job
is queued (202, `{"job": id}`; its progress at the page /settings/access/transfer/<job>/).
Without `transfer_records`: 403. Unknown or other-company members: 400 with field errors."""

from __future__ import annotations

import uuid

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.tenancy.cache import tenant_cache
from crm.tenancy.models import Membership

from . import policy, tasks, transfer


class TransferSerializer(serializers.Serializer):
    from_member = serializers.PrimaryKeyRelatedField(queryset=Membership.objects.none())
    to_members = serializers.PrimaryKeyRelatedField(queryset=Membership.objects.none(), many=True)
    keep_shares = serializers.BooleanField(default=True)
    keep_teams = serializers.BooleanField(default=True)
    preview = serializers.BooleanField(default=False)

    def __init__(self, *args, tenant_id=None, **kwargs):  # None: the schema generator's instance
        super().__init__(*args, **kwargs)
        members = Membership.objects.filter(tenant_id=tenant_id) if tenant_id else Membership.objects.none()
        self.fields["from_member"].queryset = members
        self.fields["to_members"].child_relation.queryset = members


class TransferView(APIView):
    @extend_schema(
        summary="Hand a member's book over (or preview what would move)",
        request=TransferSerializer,
        responses={200: OpenApiResponse(description="preview: {counts}"),
                   202: OpenApiResponse(description="queued: {job, counts}"),
                   400: OpenApiResponse(description="field errors"),
                   403: OpenApiResponse(description="no transfer_records permission")},
    )
    def post(self, request):
        actor = request._request.membership
        policy.require(actor, "transfer_records")
        data = TransferSerializer(data=request.data, tenant_id=actor.tenant_id)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        counts = transfer.transfer_preview(actor, v["from_member"], v["to_members"])
        if v["preview"]:
            return Response({"counts": counts})
        job_id = str(uuid.uuid4())
        tenant_cache.set(transfer.progress_key(job_id), {"state": "queued", "percent": 0}, 3600)
        tasks.transfer_book.apply_async(kwargs={
            "tenant_id": str(actor.tenant_id), "actor_id": str(actor.pk), "from_id": str(v["from_member"].pk),
            "to_ids": [str(m.pk) for m in v["to_members"]], "keep_shares": v["keep_shares"],
            "keep_teams": v["keep_teams"]}, task_id=job_id)
        return Response({"job": job_id, "counts": counts}, status=202)
