from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "crm.tenancy"
    label = "tenancy"
    verbose_name = "Tenancy"

    def ready(self) -> None:
        from django.apps import apps
        from django.db.models.signals import post_migrate

        from . import admin_setup, rls, security_signals, signals  # noqa: F401

        if self.apps is not apps:
            # a throwaway registry (django.test.utils.isolate_apps) must not reconnect what the
            # test setup deliberately disconnected (conftest.py: flushes run as the app role)
            return

        # Runs after every `migrate`: row-level security, composite tenant keys and grants are
        # applied to every tenant-owned table, including ones added by later issues, so nobody
        # has to remember them. The catalog tests (tests/isolation/) check the result.
        post_migrate.connect(rls.apply_all, dispatch_uid="crm.tenancy.rls.apply_all")
