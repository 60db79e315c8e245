from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "crm.outbox"
    label = "outbox"
