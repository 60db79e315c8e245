"""The home page per role. Later apps register real panels (register_panel, from their
admin_setup.py); until then each panel says what it will show and what to do first (empty states
that help). A panel's action is shown only once its page exists (its URL name resolves)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.urls import NoReverseMatch, reverse

from crm.tenancy.models import Role


@dataclass(frozen=True)
class HomePanel:
    title: str
    empty: str  # the empty state's sentence: what will appear here
    icon: str  # a name from templates/components/icon.html
    roles: frozenset = field(default_factory=frozenset)
    action: str | None = None  # the primary action's label
    action_url_name: str | None = None
    order: int = 100
    wide: bool = False  # spans two columns
    template: str | None = None  # an app's partial that replaces the empty state
    empty_title: str | None = None
    action_icon: str = "plus"  # "arrow-right" for an action that opens a page rather than creates


_PANELS: list[HomePanel] = []


def register_panel(panel: HomePanel) -> None:
    """Add a panel to the home page of the roles it names (idempotent)."""
    if panel not in _PANELS:
        _PANELS.append(panel)


def unregister_panel(title: str, role: str) -> None:
    """Drop a placeholder panel once an app provides a real one under another title."""
    _PANELS[:] = [p for p in _PANELS if not (p.title == title and role in p.roles)]


def _url(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


def home_panels(membership) -> list[dict]:
    panels = sorted((p for p in _PANELS if membership.role in p.roles), key=lambda p: (p.order, p.title))
    result = []
    for p in panels:
        url = _url(p.action_url_name)
        result.append({
            "title": p.title, "empty": p.empty, "icon": p.icon, "wide": p.wide, "template": p.template,
            "empty_title": p.empty_title or "Nothing here yet",
            "action": p.action if url else None, "action_url": url, "action_icon": p.action_icon,
        })
    return result


def _placeholders() -> None:
    rep, manager, agent, admin = (frozenset({r}) for r in (Role.REP, Role.MANAGER, Role.AGENT, Role.ADMIN))
    for panel in [
        HomePanel("My day", "Your calls, meetings and tasks for today appear here, earliest first.", "calendar",
                  rep, "Log an activity", "activity_create", order=10, wide=True,
                  empty_title="A clear day"),
        HomePanel("Quota", "Your progress against this quarter's quota, and what closing your open deals would add.",
                  "target", rep, order=20, empty_title="No quota set"),
        HomePanel("My pipeline", "Your open opportunities by stage, with what closes this month.", "trending-up",
                  rep, "Add an opportunity", "opportunity_create", order=30, wide=True,
                  empty_title="No open opportunities"),
        HomePanel("Follow-ups", "Customers you haven't been in touch with for a while.", "clock", rep, order=40,
                  empty_title="All caught up"),
        HomePanel("Team pipeline", "Your team's open pipeline by stage and by rep appears here.", "chart", manager, order=10, wide=True,
                  empty_title="No pipeline yet"),
        HomePanel("Approvals", "Discounts and quotes waiting for your approval appear here.", "list-checks", manager, order=20,
                  empty_title="Nothing to approve"),
        HomePanel("Forecast", "Commit, best case and closed against the team's quota, once your reps forecast.", "target", manager, order=30,
                  wide=True, empty_title="No forecast yet"),
        HomePanel("Deals at risk", "Deals with no activity for two weeks or a close date in the past.",
                  "alert-triangle", manager, order=40, empty_title="No deals at risk"),
        HomePanel("My queue", "Tickets assigned to you appear here, the nearest SLA deadline first.", "inbox", agent, order=10,
                  wide=True, empty_title="Your queue is empty"),
        HomePanel("At risk", "Tickets close to breaching their SLA show up here in time to act.", "clock", agent, order=20,
                  empty_title="Nothing at risk"),
        HomePanel("Knowledge base", "The articles you use most will be one click away here.", "book-open", agent, order=30,
                  empty_title="No articles yet"),
        HomePanel("Customer satisfaction", "What the customers you helped said in their satisfaction surveys.", "activity", agent,
                  order=40, wide=True, empty_title="No survey answers yet"),
        HomePanel("Team", "Invite colleagues and give each a role: sales rep, manager, service agent or admin.",
                  "users", admin, "Invite a colleague", "team", order=10, wide=True,
                  empty_title="Bring your team in", action_icon="user-plus"),
        HomePanel("Security", "Sign-ins, failed attempts, lockouts and token activity in your company.", "shield", admin,
                  "Open the security log", "security_log", order=20, empty_title="Watch sign-ins and lockouts",
                  action_icon="arrow-right"),
        HomePanel("Company settings", "Require two-factor authentication for everyone, and manage your plan.",
                  "settings", admin, "Open company settings", "company_security", order=30,
                  empty_title="Set the rules for everyone", action_icon="arrow-right"),
        HomePanel("API tokens", "A personal API token lets scripts and other tools use the CRM as you.", "key", admin,
                  "Create a token", "api_tokens", order=40, wide=True, empty_title="Connect other systems",
                  action_icon="key"),
    ]:
        register_panel(panel)


_placeholders()
