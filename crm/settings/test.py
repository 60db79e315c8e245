import dj_database_url

from .base import *  # noqa: F403
from .base import DATABASES, REDIS_URL, env

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed; prod uses PBKDF2
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Each test run gets its own Redis database number so parallel runs do not share caches.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env("TEST_REDIS_URL", REDIS_URL.rsplit("/", 1)[0] + "/" + env("TEST_REDIS_DB", "1")),
        "KEY_PREFIX": "crm-test",
    }
}
CELERY_BROKER_URL = CACHES["default"]["LOCATION"]
# locmem: tests read django.core.mail.outbox after deliver_pending(). A Celery worker started by the
# tests (tests/background.py) is another process, so it writes files into CRM_TEST_MAIL_DIR instead.
OUTBOX_TRANSPORT_BACKEND = env("CRM_TEST_MAIL_TRANSPORT", "django.core.mail.backends.locmem.EmailBackend")
EMAIL_FILE_PATH = env("CRM_TEST_MAIL_DIR")
AXES_FAILURE_LIMIT = 5
ALLOWED_HOSTS = ["*"]
DEV_MAIL_DIR = None

# Tests run as the application role (RLS on), except the test database's creation and migration,
# which run as the owner (conftest.py swaps credentials). TRUNCATE is granted in the test database
# only, for pytest-django's flush between transactional (live server, worker) tests.
DATABASE_APP_GRANT_TRUNCATE = True
DATABASES["default"]["CONN_MAX_AGE"] = 0
DATABASES["default"]["TEST"] = {"NAME": env("CRM_TEST_DB", "test_crm")}
# A worker process started by the tests connects straight to the test database by its name.
if env("CRM_DB_NAME"):
    DATABASES["default"]["NAME"] = env("CRM_DB_NAME")
DATABASE_OWNER = dj_database_url.parse(env("DATABASE_OWNER_URL", "") or env("DATABASE_URL", ""))
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
