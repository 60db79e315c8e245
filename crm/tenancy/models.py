"""Users, tenants and memberships, and the base every tenant-owned model inherits.

Global tables (no tenant): User, Tenant. Everything a tenant owns inherits TenantModel and is
put under row-level security automatically (see rls.py).
"""

from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models.signals import class_prepared
from django.dispatch import receiver
from django.utils import timezone

from crm.audit.history import track

from .context import require_tenant
from .ids import new_id


class CrmUserManager(UserManager):
    """Email is the login; there are no usernames."""

    def _create_user(self, email, password, **extra):
        email = self.normalize_email(email).lower()
        user = self.model(email=email, **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email=None, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email=None, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """A person who can sign in. Belongs to tenants through Memberships; holds no tenant data."""

    id = models.UUIDField(primary_key=True, default=new_id, editable=False)
    username = None
    first_name = None
    last_name = None
    email = models.EmailField("email", unique=True)
    full_name = models.CharField(max_length=150, blank=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []
    objects = CrmUserManager()

    def __str__(self) -> str:
        return self.full_name or self.email

    @property
    def display_name(self) -> str:
        return self.full_name or self.email.split("@")[0]

    @property
    def initials(self) -> str:
        parts = (self.full_name or self.email).replace("@", " ").replace(".", " ").split()
        return "".join(p[0] for p in parts[:2]).upper()


class Tenant(models.Model):
    """A company that signed up."""

    class Plan(models.TextChoices):
        FREE = "free", "Free"
        TEAM = "team", "Team"
        BUSINESS = "business", "Business"
        ENTERPRISE = "enterprise", "Enterprise"

    id = models.UUIDField(primary_key=True, default=new_id, editable=False)
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)
    plan = models.CharField(max_length=20, choices=Plan.choices, default=Plan.TEAM)
    require_mfa = models.BooleanField(
        default=False, help_text="Everyone in this company must use two-factor authentication."
    )
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name


class TenantQuerySet(models.QuerySet):
    def for_tenant(self, tenant) -> TenantQuerySet:
        """The explicit tenant filter every query of tenant data carries (RLS is the second wall)."""
        return self.filter(tenant_id=getattr(tenant, "pk", tenant))


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):
    pass


class TenantModel(models.Model):
    """Base of every tenant-owned table: UUIDv7 key, non-null tenant, timestamps.

    `(tenant, id)` is unique so that references between tenant tables can be composite foreign
    keys that include the tenant (rls.apply_all adds them): a row can never point at another
    tenant's row, even by a guessed id.
    """

    id = models.UUIDField(primary_key=True, default=new_id, editable=False)
    # no index of its own: (tenant, id) below leads with it
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", editable=False, db_index=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantManager()

    class Meta:
        abstract = True
        constraints = [
            models.UniqueConstraint(fields=["tenant", "id"], name="%(app_label)s_%(class)s_tenant_id_uniq"),
        ]

    def save(self, *args, **kwargs):
        if self.tenant_id is None:
            self.tenant = require_tenant()
        super().save(*args, **kwargs)


@receiver(class_prepared)
def _tenant_leading_fk_indexes(sender, **kwargs):
    """Foreign keys of tenant tables get no single-column index from Django; rls.apply_all gives
    each a `(tenant_id, column)` index instead (it also backs the composite foreign key), so
    every index of a tenant table leads with tenant_id, as the Citus-ready layout needs."""
    if issubclass(sender, TenantModel) and not sender._meta.abstract:
        for field in sender._meta.local_fields:
            if field.is_relation and field.name != "tenant":
                field.db_index = False


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    MANAGER = "manager", "Sales manager"
    REP = "rep", "Sales rep"
    AGENT = "agent", "Service agent"


@track()  # role changes, reporting line, deactivation: crm/audit/history.py
class Membership(TenantModel):
    """One person in one tenant, with their role there. Services take a Membership as `actor`."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.REP)
    reports_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="direct_reports"
    )
    is_active = models.BooleanField(default=True)
    is_default = models.BooleanField(default=False, help_text="The tenant a sign-in lands in.")

    class Meta(TenantModel.Meta):
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(fields=["tenant", "user"], name="membership_tenant_user_uniq"),
        ]
        indexes = [
            models.Index(fields=["tenant", "role"], name="membership_tenant_role_idx"),
            # The one lookup across tenants: a user's own memberships (own_memberships policy).
            # The only index of a tenant table that does not lead with tenant_id (catalog test).
            models.Index(fields=["user", "tenant"], name="membership_user_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.tenant_id} ({self.role})"

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


@track()  # token_hash never enters history (secret fields are left out)
class Invitation(TenantModel):
    """An admin's invitation of a colleague, by email, with a role. Accepted once, expires."""

    email = models.EmailField()
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.REP)
    invited_by = models.ForeignKey(Membership, null=True, on_delete=models.SET_NULL, related_name="+")
    token_hash = models.CharField(max_length=64)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(fields=["tenant", "token_hash"], name="invitation_tenant_token_uniq"),
        ]
        indexes = [models.Index(fields=["tenant", "email"], name="invitation_tenant_email_idx")]

    def __str__(self) -> str:
        return f"Invitation of {self.email} as {self.role}"

    @staticmethod
    def hash_token(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > timezone.now()


@track(exclude=["last_used_at"])  # key_hash never enters history; last use is not a change
class ApiToken(TenantModel):
    """A personal API token, valid in one tenant. Only its hash is stored.

    The key reads `crm_<tenant id hex>_<secret>`: the tenant part lets the middleware enter the
    tenant before it looks the token up, so the lookup itself runs under row-level security.
    """

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=80, default="API token")
    key_hash = models.CharField(max_length=64)
    prefix = models.CharField(max_length=16, help_text="First characters of the secret, to tell tokens apart.")
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(fields=["tenant", "key_hash"], name="apitoken_tenant_hash_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash_key(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()

    @classmethod
    def make_key(cls, tenant) -> tuple[str, str]:
        secret = secrets.token_urlsafe(32)
        return f"crm_{tenant.pk.hex}_{secret}", secret
