from django.apps import AppConfig


class DedupConfig(AppConfig):
    name = "crm.dedup"
    label = "dedup"
    verbose_name = "Duplicates and merge"

    def ready(self) -> None:
        from accounts.panels import AccountPanel, register_panel
        from crm.web.nav import NavEntry, register

        from . import relations, tasks  # noqa: F401  tasks: registered (and the nightly beat entry)

        relations.register()
        from crm.tenancy.management.commands.seed_demo import DEMO_SEEDERS

        from . import demo

        if demo.seed not in DEMO_SEEDERS:
            DEMO_SEEDERS.append(demo.seed)
        register(NavEntry("Duplicates", "dedup_queue", "copy", order=40))

        def _panel(request, account):
            from .views import account_panel

            return account_panel(request, account)

        register_panel(AccountPanel(key="duplicates", title="Possible duplicates", order=5, column="side",
                                    template="dedup/partials/record_panels.html", context=_panel))
