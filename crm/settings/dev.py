from .base import *  # noqa: F403
from .base import INSTALLED_APPS, env_bool

DEBUG = env_bool("DEBUG", True)
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "0.0.0.0", "[::1]"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# The dev mail viewer at /dev/mail/ reads what the local SMTP sink (scripts/mailsink.py) caught.
DEV_MAIL_DIR = str(__import__("pathlib").Path(__file__).resolve().parent.parent.parent / ".data" / "mail")
INSTALLED_APPS = [*INSTALLED_APPS]
