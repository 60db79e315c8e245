from rest_framework import serializers

from crm.tenancy.models import ApiToken, Membership


class TokenRequestSerializer(serializers.Serializer):
    email = serializers.EmailField()
    password = serializers.CharField(trim_whitespace=False, style={"input_type": "password"})
    tenant = serializers.SlugField(required=False, help_text="Slug of the tenant; default: your default tenant.")
    name = serializers.CharField(required=False, max_length=80)
    otp = serializers.CharField(required=False, max_length=10,
                                help_text="Current two-factor code; required when two-factor is on for the account.")


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField()
    tenant = serializers.CharField()


class ApiTokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
        read_only_fields = fields


class MeSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="user.id")
    email = serializers.EmailField(source="user.email")
    full_name = serializers.CharField(source="user.full_name")
    role = serializers.CharField()
    tenant = serializers.SerializerMethodField()

    def get_tenant(self, membership: Membership) -> dict:
        return {"id": str(membership.tenant.id), "name": membership.tenant.name, "slug": membership.tenant.slug}
