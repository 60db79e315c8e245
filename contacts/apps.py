from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "contacts"
    label = "contacts"
    verbose_name = "Contacts and activities"

    def ready(self) -> None:
        from . import admin_setup, tasks  # noqa: F401  tasks: registered wherever the beat schedule is read

        admin_setup.register()
        from crm.customfields.registry import register_object

        register_object("contacts", "contacts.Contact", "Contacts", "contact")
        register_object("activities", "contacts.Activity", "Activities", "activity")
        from crm.access.registry import register as secure

        secure("contacts", "contacts.Contact", "Contacts", parents=[("accounts", "account")],
               required=["first_name", "last_name", "do_not_contact", "erased_at"],
               linked={"email": ["emails"], "phone": ["phones"]})
        secure("activities", "contacts.Activity", "Activities",
               parents=[("accounts", "account"), ("contacts", "contact")],
               # occurred_at orders every timeline, list and API page (the API's cursor carries it):
               # a hidden one would still show through the order, so it cannot be restricted
               required=["kind", "subject", "status", "occurred_at", "related_type", "related_id", "completed_at",
                         "reminded_at"])
        from crm.access.transfer import register_transfer

        from .transfer import open_activities

        register_transfer("contacts", follows="account")
        register_transfer("activities", follows="account", moves=open_activities)
