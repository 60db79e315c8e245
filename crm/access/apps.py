from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "crm.access"
    label = "access"
    verbose_name = "Access: profiles, roles, sharing"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from accounts.panels import AccountPanel, register_panel
        from crm.web.nav import EVERYONE, NavEntry, register

        from . import maintenance, signals, tasks  # noqa: F401  signals: every member gets a profile; tasks: for the worker

        post_migrate.connect(maintenance.install_triggers, dispatch_uid="crm.access.install_triggers")

        register(NavEntry("Access", "access_roles", "shield", roles=EVERYONE, section="Admin", order=925,
                          permissions=("manage_sharing", "administer")))
        # hand a leaving rep's book over (whoever holds `transfer_records`: the system profiles of
        # admins and managers); an admin finds it under Admin, everyone else with their work
        register(NavEntry("Hand over a book", "access_transfer", "users", roles=frozenset({"admin"}),
                          section="Admin", order=926, permissions=("transfer_records",)))
        register(NavEntry("Hand over a book", "access_transfer", "users", roles=EVERYONE - {"admin"},
                          section="Work", order=800, permissions=("transfer_records",)))

        # task F: the Sharing panel of the account page (its body is loaded after the page)
        register_panel(AccountPanel(key="sharing", title="Sharing", order=90, column="side",
                                    template="access/partials/sharing_loader.html",
                                    context=lambda request, account: {"sharing_object": "accounts",
                                                                      "sharing_record": account}))
