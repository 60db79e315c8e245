"""The account 360° page's panel registry: later apps add panels (opportunities, orders and
invoices, tickets, campaigns, value tier) without editing this app.

    from accounts.panels import AccountPanel, register_panel

    register_panel(AccountPanel(
        key="activities", title="Activity", order=20, column="main",
        template="contacts/panels/account_activities.html",
        context=lambda request, account: {...},   # must run a bounded number of queries
    ))

Register from the app's `apps.py` ready() (or an admin_setup.py imported there). A panel's
context function receives the request (request.membership is the actor) and the account the
actor may see, and must read through selectors, i.e. through the visibility engine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class AccountPanel:
    key: str
    title: str
    template: str
    context: Callable  # (request, account) -> dict
    order: int = 100
    column: str = "main"  # "main" or "side"


_PANELS: dict[str, AccountPanel] = {}


def register_panel(panel: AccountPanel) -> None:
    _PANELS[panel.key] = panel


def panels_for(request, account) -> list[dict]:
    out = []
    for panel in sorted(_PANELS.values(), key=lambda p: (p.order, p.key)):
        out.append({"panel": panel, "context": panel.context(request, account)})
    return out
