from django.apps import AppConfig


class ListsConfig(AppConfig):
    name = "crm.lists"
    label = "lists"
    verbose_name = "Lists, saved views and exports"

    def ready(self):
        # the lists of the first apps; later apps register theirs from their own ready()
        import accounts.lists  # noqa: F401
        import contacts.lists  # noqa: F401
        import crm.lists.tasks  # noqa: F401  (the worker finds the export task)
