from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "crm.access"
    label = "access"
    verbose_name = "Access: profiles, roles, sharing"

    def ready(self) -> None:
        from . import signals, tasks  # noqa: F401  signals: every member gets a profile; tasks: for the worker
