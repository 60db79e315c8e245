from django.apps import AppConfig


class CustomFieldsConfig(AppConfig):
    name = "crm.customfields"
    label = "customfields"
    verbose_name = "Custom fields"

    def ready(self) -> None:
        from crm.web.nav import EVERYONE, NavEntry, register

        register(NavEntry("Custom fields", "customfield_list", "list-checks", roles=EVERYONE, section="Admin",
                          order=920, permissions=("customize",)))
