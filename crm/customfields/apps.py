from django.apps import AppConfig


class CustomFieldsConfig(AppConfig):
    name = "crm.customfields"
    label = "customfields"
    verbose_name = "Custom fields"

    def ready(self) -> None:
        from crm.web.nav import NavEntry, register

        register(NavEntry("Custom fields", "customfield_list", "list-checks", roles=frozenset({"admin"}), section="Admin",
                          order=920))
