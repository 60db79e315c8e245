"""What the tenancy app registers with the platform: its navigation entries.

(Team, Security log and API tokens are registered by crm.web.nav itself; two-factor
authentication and the password are in the user menu of base.html.)"""

from crm.web.nav import EVERYONE, NavEntry, register

register(NavEntry("Company settings", "company_security", "settings", roles=EVERYONE,
                  section="Admin", order=920, permissions=("administer",)))
