from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "crm.imports"
    label = "imports"
    verbose_name = "Imports"

    def ready(self) -> None:
        from crm.web.nav import EVERYONE, NavEntry, register

        from . import objects, tasks  # noqa: F401  tasks: the worker learns them here (crm/celery.py lists apps)

        objects.register_builtin()
        register(NavEntry("Imports", "import_list", "file-text", roles=EVERYONE,
                          section="Work", order=80, permissions=("import",)))
