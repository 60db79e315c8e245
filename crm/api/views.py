from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.tenancy import services
from crm.tenancy.context import tenant_context
from crm.tenancy.middleware import memberships_of
from crm.tenancy.models import ApiToken
from crm.tenancy.security import token_mfa_problem

from .auth import TenantTokenAuthentication
from .serializers import ApiTokenSerializer, MeSerializer, TokenRequestSerializer, TokenResponseSerializer
from .throttles import AuthRateThrottle


class ObtainTokenView(APIView):
    """Exchange email + password for a token in one tenant (default, or `tenant` slug)."""

    authentication_classes = [TenantTokenAuthentication]  # none needed; gives 401 its header
    permission_classes = [AllowAny]
    throttle_classes = [AuthRateThrottle]

    @extend_schema(request=TokenRequestSerializer, responses={201: TokenResponseSerializer})
    def post(self, request):
        data = TokenRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(
            request._request, email=data.validated_data["email"], password=data.validated_data["password"]
        )
        if user is None or not user.is_active:
            raise exceptions.AuthenticationFailed("Wrong email or password.")
        memberships = memberships_of(user)
        slug = data.validated_data.get("tenant")
        membership = (memberships.filter(tenant__slug=slug) if slug else memberships).first()
        if membership is None:
            raise exceptions.ValidationError({"tenant": ["You are not a member of this tenant."]})
        problem = token_mfa_problem(user, membership.tenant, data.validated_data.get("otp"), request._request)
        if problem:
            raise exceptions.AuthenticationFailed(problem)
        with tenant_context(membership.tenant):
            # the service writes token.created to the security log
            token, key = services.api_token_create(
                actor=membership, name=data.validated_data.get("name", ""), request=request._request
            )
        return Response({"token": key, "tenant": membership.tenant.slug}, status=status.HTTP_201_CREATED)


class ApiTokenViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin,
                      viewsets.GenericViewSet):
    """Your own API tokens in this tenant. DELETE revokes one."""

    queryset = ApiToken.objects.none()  # tells the schema the model; get_queryset() is what serves
    serializer_class = ApiTokenSerializer

    def get_queryset(self):
        membership = self.request._request.membership
        return ApiToken.objects.for_tenant(membership.tenant).filter(membership=membership)

    def perform_destroy(self, instance):
        membership = self.request._request.membership
        services.api_token_revoke(actor=membership, token=instance, request=self.request._request)


class MeView(APIView):
    """Who the caller is, in which tenant."""

    @extend_schema(responses=MeSerializer)
    def get(self, request):
        return Response(MeSerializer(request._request.membership).data)
