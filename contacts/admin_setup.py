"""What contacts and activities register with the platform: navigation, the "My day" home panel,
the account 360° page's activity panel. Imported from ContactsConfig.ready()."""

from __future__ import annotations

from accounts.panels import AccountPanel, register_panel
from crm.tenancy.models import Role
from crm.web import home, nav


def _account_activities(request, account) -> dict:
    from .views import account_panel_context

    return account_panel_context(request, account)


def _account_relations(request, account) -> dict:
    from .selectors import RELATIONS_SHOWN, account_relations

    rows = account_relations(actor=request.membership, account=account)
    return {"relations": rows[:RELATIONS_SHOWN], "more_relations": len(rows) > RELATIONS_SHOWN}


def register() -> None:
    nav.register(nav.NavEntry("Contacts", "contact_list", "users", order=20))
    nav.register(nav.NavEntry("Activities", "activity_list", "inbox", order=30))
    home.unregister_panel("My day", Role.REP)
    # no registry action: the panel's template renders its own ("Log an activity", "My week"),
    # and home.html shows a registry action only in the placeholder's empty state
    home.register_panel(home.HomePanel(
        "My day", "No tasks due and no meetings today. Your calls, meetings and tasks appear here, earliest first.",
        "calendar", frozenset({Role.REP, Role.MANAGER}), order=10, wide=True,
        template="contacts/panels/my_day.html", empty_title="A clear day",
    ))
    # read-only here: relations are edited on the contact's form
    register_panel(AccountPanel(
        key="contact_relations", title="People with a role here", order=10, column="main",
        template="contacts/panels/account_relations.html", context=_account_relations,
    ))
    register_panel(AccountPanel(
        key="activities", title="Activity", order=20, column="main",
        template="contacts/panels/account_activities.html", context=_account_activities,
    ))
