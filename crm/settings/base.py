"""Settings shared by every environment. 12-factor: anything that differs per deploy is an env var."""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    return env(name, str(default)).lower() in {"1", "true", "yes", "on"}


SECRET_KEY = env("SECRET_KEY", "dev-only-not-secret-0123456789abcdefghijklmnopqrstuvwxyz")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = [h for h in env("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from our own static files, not a CDN (CSP, offline)
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "axes",
    "csp",
    "pgtrigger",
    "pghistory",
    "django_htmx",
    "crm.tenancy",
    "crm.access",
    "crm.audit",
    "crm.outbox",
    "crm.api",
    "crm.web",
    "django_countries",
    "crm.customfields",  # admin-defined fields: before the apps that register their objects
    "accounts",
    "contacts",
    "crm.lists",  # saved views, column choice, bulk actions and exports of every list
    "crm.imports",
    "crm.dedup",
    "crm.search",  # global search: after the apps whose records it searches
]

MIDDLEWARE = [
    # /healthz answers before anything that needs a session, a tenant or HTTPS (see crm/web/health.py)
    "crm.web.health.HealthzMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # The tenant context: one transaction per request, tenant set inside it (SET LOCAL).
    "crm.tenancy.middleware.TenantMiddleware",
    # Right inside the tenant transaction, before anything that may write: who and through what
    # (page/api) for the change history of everything the request changes (crm/audit/history.py).
    "crm.audit.middleware.HistoryContextMiddleware",
    # A company that requires two-factor sends members without it to set it up (crm/tenancy/mfa.py).
    "crm.tenancy.mfa.RequireMFAMiddleware",
    # axes last, as its docs ask: it turns a lockout into the lockout page
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "crm.urls"
WSGI_APPLICATION = "crm.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "crm.web.context_processors.shell",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# DATABASE_URL is the application's role (NOSUPERUSER, NOBYPASSRLS, owns nothing).
# DATABASE_OWNER_URL is the schema owner; `manage.py migrate` runs as it (CRM_DB_ROLE=owner).
_APP_URL = env("DATABASE_URL", "postgres://crm_app:crm_app@127.0.0.1:54329/crm")
_OWNER_URL = env("DATABASE_OWNER_URL", _APP_URL)
DB_ROLE = env("CRM_DB_ROLE", "app")
DATABASES = {
    "default": dj_database_url.parse(_OWNER_URL if DB_ROLE == "owner" else _APP_URL, conn_max_age=60),
}
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# The role the application connects as; migrations grant it DML (never ownership) on every table.
DATABASE_APP_ROLE = dj_database_url.parse(_APP_URL)["USER"]
DATABASE_APP_PASSWORD = dj_database_url.parse(_APP_URL)["PASSWORD"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", "redis://127.0.0.1:56379/0")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        # Every key of tenant data is built with crm.tenancy.cache.tenant_key(); the prefix only
        # separates deployments sharing one Redis.
        "KEY_PREFIX": env("CACHE_PREFIX", "crm"),
    }
}

# --- Auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "tenancy.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "account_login"

# allauth: email is the login; no usernames anywhere.
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
# "optional": sign-up lands in the product at once, and the address gets a confirmation link.
# allauth lets only confirmed addresses set up two-factor (else a squatter could lock the real
# owner out for good); invited colleagues are confirmed by opening their invitation.
ACCOUNT_EMAIL_VERIFICATION = "optional"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
ACCOUNT_ADAPTER = "crm.tenancy.adapters.AccountAdapter"
ACCOUNT_FORMS = {"signup": "crm.tenancy.forms.CompanySignupForm"}
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[CRM] "
# django-axes owns the password lockout (5 per account or per IP, see below). allauth's own
# login_failed limit is kept looser so it never pre-empts the lockout page, because allauth also
# uses it to stop guessing of two-factor codes (per user).
ACCOUNT_RATE_LIMITS = {"login_failed": "20/m/ip,10/900s/key"}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "CRM"
MFA_ADAPTER = "allauth.mfa.adapter.DefaultMFAAdapter"

# django-axes: lock out after repeated failures, per account and, separately, per IP.
AXES_FAILURE_LIMIT = int(env("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(env("AXES_COOLOFF_HOURS", "0.25"))  # hours: 15 minutes
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_USERNAME_FORM_FIELD = "login"
AXES_USERNAME_CALLABLE = "crm.tenancy.security.axes_username"
AXES_LOCKOUT_TEMPLATE = "errors/lockout.html"
AXES_LOCKOUT_CALLABLE = "crm.tenancy.security.lockout_response"  # 429: the page, or JSON for /api/
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_IPWARE_PROXY_COUNT = int(env("PROXY_COUNT", "0")) or None
# Behind PROXY_COUNT trusted proxies the client is in X-Forwarded-For; without one, only the socket's
# address counts (a client could otherwise pick any address per attempt and never be locked out).
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR") if AXES_IPWARE_PROXY_COUNT else ("REMOTE_ADDR",)
)
AXES_VERBOSE = False

# --- Sessions, cookies, security headers ----------------------------------------------------
SESSION_ENGINE = "django.contrib.sessions.backends.cache"
SESSION_CACHE_ALIAS = "default"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the meta tag instead; see base.html
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

from csp.constants import NONE, SELF  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],  # no unsafe-inline: every script is a static file
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [SELF],
        "object-src": [NONE],
    },
}

# --- I18N / static --------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / ".data" / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Mail -----------------------------------------------------------------------------------
# All mail leaves through the outbox (crm.outbox); this is the transport the worker uses.
EMAIL_HOST = env("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = int(env("EMAIL_PORT", "1025"))
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "CRM <no-reply@crm.localhost>")
# Links in mail sent outside a request (a page's mail uses the request's host).
SITE_URL = env("SITE_URL", "http://127.0.0.1:8000")
EMAIL_BACKEND = "crm.outbox.mail.OutboxEmailBackend"
# what the outbox worker hands the message to once it is claimed
OUTBOX_TRANSPORT_BACKEND = env("OUTBOX_TRANSPORT_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
# the outbox's delivery rules (crm/outbox/services.py): a claim's lease must far exceed the send timeout
OUTBOX_SEND_TIMEOUT_SECONDS = int(env("OUTBOX_SEND_TIMEOUT_SECONDS", "30"))
OUTBOX_LEASE_SECONDS = int(env("OUTBOX_LEASE_SECONDS", "300"))
OUTBOX_MAX_ATTEMPTS = int(env("OUTBOX_MAX_ATTEMPTS", "8"))
OUTBOX_RETRY_BASE_SECONDS = int(env("OUTBOX_RETRY_BASE_SECONDS", "30"))

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "crm.api.auth.TenantTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["crm.api.permissions.IsTenantMember"],
    "DEFAULT_PAGINATION_CLASS": "crm.api.pagination.KeysetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "crm.api.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["crm.api.throttles.TokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"token": env("API_RATE", "600/min"), "auth": "20/min"},
    "NON_FIELD_ERRORS_KEY": "non_field_errors",
}
# Private files: uploaded imports and finished exports, per tenant and job (never under static or
# media URLs; pages stream them after checking who asks). Web and worker must share the directory.
IMPORTS_ROOT = env("CRM_IMPORT_DIR", str(BASE_DIR / ".data" / "imports"))
CRM_EXPORT_DIR = env("CRM_EXPORT_DIR", str(BASE_DIR / ".data" / "exports"))

SPECTACULAR_SETTINGS = {
    "TITLE": "CRM API",
    "DESCRIPTION": "Every call runs in exactly one tenant: the one the token was issued for.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # one name for a choice set several serializers share
    "ENUM_NAME_OVERRIDES": {
        "CountryEnum": "django_countries.countries",
        "AccountStatusEnum": "accounts.models.Account.Status",
        "ConsentStatusEnum": "contacts.models.Consent.Status",
        "ActivityStatusEnum": "contacts.models.Activity.Status",
        "ChannelEnum": "contacts.models.Channel",
        # records with custom fields, imports and list views (the registries' objects)
        "RecordObjectEnum": [("accounts", "Accounts"), ("contacts", "Contacts"), ("activities", "Activities")],
        "MergeObjectEnum": "crm.dedup.models.ObjectType",
    },
}

# --- Change history (django-pghistory); see crm/audit/history.py for the why --------------------
import pghistory  # noqa: E402

PGHISTORY_DEFAULT_TRACKERS = None  # nothing is tracked by default: crm.audit.history.track() says what
PGHISTORY_BASE_MODEL = "crm.audit.history.TenantEvent"  # UUIDv7 keys, tenant-scoped manager
# Context (who, through what) on the event row, under its tenant's RLS, never in the global table.
PGHISTORY_CONTEXT_FIELD = pghistory.ContextJSONField()
# No single-column indexes: crm/tenancy/rls.py gives every foreign key a (tenant_id, fk) index.
PGHISTORY_FOREIGN_KEY_FIELD = pghistory.ForeignKey(db_index=False)
PGHISTORY_OBJ_FIELD = pghistory.ObjForeignKey(db_index=False, related_name="+", related_query_name="+")
PGHISTORY_APPEND_ONLY = True  # the application cannot rewrite history
PGHISTORY_CREATED_AT_FUNCTION = "CLOCK_TIMESTAMP()"  # when the change happened, not when its transaction began

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
