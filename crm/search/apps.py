from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "crm.search"
    label = "search"
    verbose_name = "Global search"

    def ready(self):
        from . import types  # noqa: F401  registers accounts and contacts
