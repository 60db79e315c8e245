"""The security log (per tenant) and, via django-pghistory, the change history of tenant data."""

from django.conf import settings
from django.db import models

from crm.tenancy.models import TenantModel


class SecurityEvent(TenantModel):
    """Sign-ins, failures, lockouts, MFA changes, token creation/revocation, role changes."""

    class Kind(models.TextChoices):
        LOGIN = "login", "Signed in"
        LOGOUT = "logout", "Signed out"
        LOGIN_FAILED = "login.failed", "Failed sign-in"
        LOCKED_OUT = "login.locked", "Locked out"
        PASSWORD_CHANGED = "password.changed", "Password changed"
        PASSWORD_RESET = "password.reset", "Password reset"
        MFA_ENABLED = "mfa.enabled", "Two-factor enabled"
        MFA_DISABLED = "mfa.disabled", "Two-factor disabled"
        MFA_RECOVERY_USED = "mfa.recovery_used", "Recovery code used"
        MFA_REQUIRED = "mfa.required", "Two-factor required for the company"
        TOKEN_CREATED = "token.created", "API token created"
        TOKEN_REVOKED = "token.revoked", "API token revoked"
        ROLE_CHANGED = "role.changed", "Role changed"
        MEMBER_INVITED = "member.invited", "Colleague invited"
        MEMBER_JOINED = "member.joined", "Colleague joined"
        MEMBER_REMOVED = "member.removed", "Member removed"
        CONTACT_EXPORTED = "contact.exported", "Contact data exported (GDPR)"
        CONTACT_ERASED = "contact.erased", "Contact erased (GDPR)"

    kind = models.CharField(max_length=40, choices=Kind.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    email = models.EmailField(blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta(TenantModel.Meta):
        indexes = [models.Index(fields=["tenant", "-created_at", "-id"], name="secevent_tenant_created_idx")]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.email}"
