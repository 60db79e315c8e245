"""The left navigation. Apps register their entries here (from their admin_setup.py). An entry
names the kinds of member it is laid out for (`roles`: which section a page belongs in differs
between an admin and a manager) and, for a page behind an app permission, the permissions that
open it (`permissions`, any of them; crm.access.policy answers, so a permission set that grants
"view security log" to a manager shows them the entry). The shell renders what the member may use."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.urls import NoReverseMatch, reverse

from crm.access import policy


@dataclass(frozen=True)
class NavEntry:
    label: str
    url_name: str
    icon: str
    roles: frozenset = field(default_factory=lambda: frozenset({"admin", "manager", "rep", "agent"}))
    section: str = "Work"
    order: int = 100
    permissions: tuple = ()  # app permissions (crm.access.policy), any of them opens the entry


_REGISTRY: list[NavEntry] = []


def register(entry: NavEntry) -> None:
    if entry not in _REGISTRY:
        _REGISTRY.append(entry)


def _is_active(url: str, path: str | None) -> bool:
    """The entry for the page being shown: an exact match, or a section below it (not for "/")."""
    if not path:
        return False
    return path == url or (url != "/" and path.startswith(url))


def navigation_for(membership, path: str | None = None) -> list[dict]:
    """The sections and entries this membership's role may use, in order; `path` marks the active one."""
    sections: dict[str, list] = {}
    for entry in sorted(_REGISTRY, key=lambda e: (e.order, e.label)):
        if membership.role not in entry.roles:
            continue
        if entry.permissions and not any(policy.can(membership, p) for p in entry.permissions):
            continue
        try:
            url = reverse(entry.url_name)
        except NoReverseMatch:
            continue
        sections.setdefault(entry.section, []).append(
            {"label": entry.label, "url": url, "icon": entry.icon, "active": _is_active(url, path)}
        )
    return [{"section": k, "entries": v} for k, v in sections.items()]


register(NavEntry("Home", "home", "home", order=0))
EVERYONE = frozenset({"admin", "manager", "rep", "agent"})
register(NavEntry("Team", "team", "users", roles=EVERYONE, section="Admin", order=900, permissions=("administer",)))
register(NavEntry("Security log", "security_log", "shield", roles=EVERYONE, section="Admin", order=910,
                  permissions=("view_security_log",)))
register(NavEntry("API tokens", "api_tokens", "key", section="Settings", order=950))
