from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "crm.audit"
    label = "audit"

    def ready(self) -> None:
        # Celery tasks record their changes as made by a job (see signals.py).
        from . import signals  # noqa: F401
