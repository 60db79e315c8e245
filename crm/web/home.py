"""The home page per role. Later apps add real panels; until then each panel says what it will
show and what to do first (empty states that help)."""

from crm.tenancy.models import Role

PANELS = {
    Role.REP: [
        ("My day", "Your calls, meetings and tasks for today appear here.", "Log an activity"),
        ("My pipeline", "Your open opportunities by stage, with what closes this month.", "Add an opportunity"),
        ("Quota", "Your progress against this quarter's quota and your forecast.", None),
    ],
    Role.MANAGER: [
        ("Team pipeline", "Open pipeline by stage and by rep.", None),
        ("Forecast", "Commit, best case and closed against the team's quota.", None),
        ("Approvals", "Discounts and quotes waiting for you.", None),
    ],
    Role.AGENT: [
        ("My queue", "Tickets assigned to you, ordered by SLA deadline.", None),
        ("At risk", "Tickets about to breach their SLA.", None),
        ("Knowledge base", "Articles you used most this week.", None),
    ],
    Role.ADMIN: [
        ("Team", "Invite colleagues and give them a role.", "Invite a colleague"),
        ("Security", "Sign-ins, failures, lockouts and token activity.", "Open the security log"),
        ("Company settings", "Require two-factor authentication for everyone.", None),
    ],
}


def home_panels(membership):
    return [{"title": t, "empty": e, "action": a} for t, e, a in PANELS.get(membership.role, [])]
