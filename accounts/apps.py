from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    label = "accounts"
    verbose_name = "Customer accounts"

    def ready(self) -> None:
        from crm.customfields.registry import register_object

        register_object("accounts", "accounts.Account", "Accounts", "account")
        from crm.access.registry import register as secure

        secure("accounts", "accounts.Account", "Accounts", required=["name"], linked={"website": ["domain"]})
        from crm.access.transfer import register_transfer

        register_transfer("accounts", root=True, order="name_key")  # split between receivers
        from crm.web.nav import NavEntry, register

        register(NavEntry("Accounts", "account_list", "building", roles=frozenset({"admin", "manager", "rep", "agent"}),
                          order=20))
