from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "crm.tenancy"
    label = "tenancy"
    verbose_name = "Tenancy"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from . import rls, signals  # noqa: F401

        # Runs after every `migrate`: row-level security, composite tenant keys and grants are
        # applied to every tenant-owned table, including ones added by later issues, so nobody
        # has to remember them. The catalog tests (tests/isolation/) check the result.
        post_migrate.connect(rls.apply_all, dispatch_uid="crm.tenancy.rls.apply_all")
