"""The app shell and the design system: who sees what in the navigation, the tenant switcher,
the home page per role, the error pages, allauth's pages in our design, and the rules that keep
the CSP strict (no inline script, style or event handler in any template)."""

from __future__ import annotations

import re
from email.message import EmailMessage
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.test import override_settings
from django.urls import reverse
from django.utils.html import escape

from crm.tenancy import services
from crm.tenancy.middleware import SESSION_KEY
from crm.tenancy.tests.factories import TenantFactory, UserFactory
from crm.web import devmail, views
from crm.web.home import home_panels

pytestmark = pytest.mark.django_db

TEMPLATES = Path(settings.BASE_DIR) / "templates"
ROLES = ["admin", "manager", "rep", "agent"]


def nav_labels(response) -> dict[str, list[str]]:
    return {s["section"]: [e["label"] for e in s["entries"]] for s in response.context["nav"]}


# --- Home -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_home_shows_the_panels_of_each_role(client_as, acme, role):
    membership = getattr(acme, role)
    response = client_as(membership).get("/")
    assert response.status_code == 200
    html = response.content.decode()
    panels = home_panels(membership)
    assert panels, f"no home panels for {role}"
    for panel in panels:
        assert escape(panel["title"]) in html
        assert escape(panel["empty"]) in html
    assert f"Welcome back, {membership.user.full_name.split()[0]}" in html
    assert 'id="main"' in html and 'class="skip-link" href="#main"' in html


def test_each_role_gets_different_panels(acme):
    titles = {role: {p["title"] for p in home_panels(getattr(acme, role))} for role in ROLES}
    assert "My pipeline" in titles["rep"] and "My pipeline" not in titles["agent"]
    assert "My queue" in titles["agent"] and "Team pipeline" in titles["manager"]
    assert "Team" in titles["admin"] and "Team" not in titles["rep"]


def test_a_panel_action_appears_only_once_its_page_exists(acme):
    admin_panels = {p["title"]: p for p in home_panels(acme.admin)}
    assert admin_panels["Team"]["action_url"] == reverse("team")
    rep_panels = {p["title"]: p for p in home_panels(acme.rep)}
    # the activities app does not exist yet: no button that would lead nowhere
    assert rep_panels["My day"]["action"] is None and rep_panels["My day"]["action_url"] is None


def test_home_suggests_two_factor_to_people_without_it(client_as, acme):
    html = client_as(acme.rep).get("/").content.decode()
    assert "Protect your account with two-factor authentication" in html
    assert reverse("mfa_index") in html


def test_a_person_in_no_company_gets_the_no_company_page(client):
    user = UserFactory(email="drifter@example.com", full_name="Dana Drifter")
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "not in a company yet" in html
    assert response.context["nav"] == []
    assert 'class="topbar"' in html and "tenant-menu" not in html


# --- Navigation -----------------------------------------------------------------------------


def test_admins_see_the_admin_section_of_the_navigation(client_as, acme):
    sections = nav_labels(client_as(acme.admin).get("/"))
    assert "Team" in sections["Admin"]
    assert "Security log" in sections["Admin"]


@pytest.mark.parametrize("role", ["manager", "rep", "agent"])
def test_other_roles_do_not_see_the_admin_section(client_as, acme, role):
    response = client_as(getattr(acme, role)).get("/")
    assert "Admin" not in nav_labels(response)
    assert 'href="/team/"' not in response.content.decode()


def test_the_current_page_is_marked_in_the_navigation(client_as, acme):
    response = client_as(acme.rep).get("/")
    home = next(e for s in response.context["nav"] for e in s["entries"] if e["label"] == "Home")
    assert home["active"] is True
    assert 'href="/" aria-current="page"' in response.content.decode()


# --- Tenant switcher ------------------------------------------------------------------------


@pytest.fixture
def rep_in_two_companies(acme, globex):
    """Acme's rep also works for Globex (as an agent); Initech exists but is none of theirs."""
    services.membership_create(tenant=globex.tenant, user=acme.rep.user, role="agent")
    initech = TenantFactory(slug="initech", name="Initech")
    return acme.rep, initech


def test_the_switcher_lists_only_the_users_own_companies(client_as, acme, globex, rep_in_two_companies):
    rep, initech = rep_in_two_companies
    html = client_as(rep).get("/").content.decode()
    assert f'name="tenant" value="{acme.tenant.pk}"' in html
    assert f'name="tenant" value="{globex.tenant.pk}"' in html
    assert str(initech.pk) not in html
    assert f'action="{reverse("tenant_switch")}"' in html


def test_switching_company_changes_what_the_shell_shows(client_as, acme, globex, rep_in_two_companies):
    rep, _ = rep_in_two_companies
    client = client_as(rep)
    response = client.post(reverse("tenant_switch"), {"tenant": str(globex.tenant.pk)})
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert client.session[SESSION_KEY] == str(globex.tenant.pk)
    response = client.get("/")
    assert response.context["tenant"] == globex.tenant
    html = response.content.decode()
    assert '<span class="tenant-name">Globex</span>' in html
    assert "Switched to Globex." in html and "toast toast-success" in html  # the message is a toast
    assert "My queue" in html  # the agent's home: the role is per company


def test_switching_to_someone_elses_company_is_refused(client_as, acme, globex):
    client = client_as(acme.rep)
    client.post(reverse("tenant_switch"), {"tenant": str(globex.tenant.pk)})
    assert client.session[SESSION_KEY] == str(acme.tenant.pk)
    response = client.get("/")
    assert response.context["tenant"] == acme.tenant
    assert "You are not a member of that company." in response.content.decode()


# --- Error pages ----------------------------------------------------------------------------


def test_the_404_page_is_in_the_shell_and_says_404(client_as, acme):
    response = client_as(acme.rep).get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "We can't find that page" in html
    assert 'class="topbar"' in html and 'id="sidebar"' in html
    assert 'href="/"' in html


def test_the_404_page_for_a_visitor_offers_sign_in(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "We can't find that page" in html
    assert reverse("account_login") in html and 'id="sidebar"' not in html


def test_the_403_page_says_why(rf, acme):
    from django.core.exceptions import PermissionDenied

    request = rf.get("/")
    request.user, request.membership, request.tenant = acme.rep.user, acme.rep, acme.tenant
    response = views.error_403(request, PermissionDenied("Only admins can invite colleagues."))
    assert response.status_code == 403
    html = response.content.decode()
    assert "You don't have access to this" in html and "Only admins can invite colleagues." in html


def test_the_500_page_needs_no_database_and_no_context(rf, django_assert_num_queries):
    request = rf.get("/")  # no user, no tenant: the request may have failed before either
    with django_assert_num_queries(0):
        response = views.error_500(request)
    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong on our side" in html
    assert 'href="/"' in html and "css/app.css" in html


def test_the_lockout_page_says_when_to_try_again(rf):
    request = rf.get("/accounts/login/")
    request.user = AnonymousUser()
    html = render_to_string("errors/lockout.html", {"cooloff_minutes": 15, "failure_limit": 5}, request=request)
    assert "Too many failed sign-ins" in html
    assert "after 5 failed attempts" in html and "Try again in 15 minutes." in html
    assert reverse("account_reset_password") in html


# --- allauth's pages in our design ------------------------------------------------------------


def test_sign_in_page_is_ours_and_keeps_allauths_fields(client):
    html = client.get(reverse("account_login")).content.decode()
    assert 'class="auth-card' in html
    assert 'name="login"' in html and 'name="password"' in html and 'id="id_login"' in html
    assert re.search(r"<button[^>]*>\s*Sign In\s*</button>", html)
    assert 'for="id_password"' in html  # labels are always shown


@pytest.mark.parametrize("url", ["/signup/", "/accounts/signup/"])
def test_sign_up_page_is_ours_and_keeps_the_company_fields(client, url):
    html = client.get(url).content.decode()
    assert 'class="auth-card' in html
    for name in ["company_name", "full_name", "email", "password1", "password2"]:
        assert f'name="{name}"' in html
    assert re.search(r"<button[^>]*>\s*Sign Up\s*</button>", html)


def test_a_failed_sign_in_shows_the_error_in_the_form(client, acme):
    response = client.post(reverse("account_login"), {"login": acme.rep.user.email, "password": "wrong-password"})
    html = response.content.decode()
    assert 'class="alert alert-error"' in html and "not correct" in html


def test_password_reset_page_is_ours(client):
    html = client.get(reverse("account_reset_password")).content.decode()
    assert 'class="auth-card' in html and 'name="email"' in html
    assert re.search(r"<button[^>]*>\s*Reset My Password\s*</button>", html)


def test_account_settings_pages_are_in_the_shell(client_as, acme):
    client = client_as(acme.rep)
    for url in [reverse("account_change_password"), reverse("mfa_index")]:
        html = client.get(url).content.decode()
        assert 'class="topbar"' in html and 'class="settings-nav"' in html, url
    html = client.get(reverse("mfa_index")).content.decode()
    assert re.search(r">\s*Activate\s*</a>", html)
    html = client.get(reverse("account_change_password")).content.decode()
    assert 'name="oldpassword"' in html and 'name="password1"' in html


def test_the_two_factor_prompt_at_sign_in_is_ours(client, acme):
    from allauth.mfa.totp.internal.auth import TOTP

    TOTP.activate(acme.rep.user, "JBSWY3DPEHPK3PXP")
    response = client.post(reverse("account_login"), {"login": acme.rep.user.email, "password": "Demo-pass-2026"},
                           follow=True)
    html = response.content.decode()
    assert response.request["PATH_INFO"] == reverse("mfa_authenticate")
    assert 'class="auth-card' in html and 'name="code"' in html
    assert re.search(r"<button[^>]*>\s*Sign In\s*</button>", html)


def test_two_factor_settings_show_the_recovery_code_actions(client_as, acme):
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
    from allauth.mfa.totp.internal.auth import TOTP

    TOTP.activate(acme.rep.user, "JBSWY3DPEHPK3PXP")
    RecoveryCodes.activate(acme.rep.user)
    html = client_as(acme.rep).get(reverse("mfa_index")).content.decode()
    assert 'class="card settings-card"' in html and 'class="settings-nav"' in html
    for label in ["Deactivate", "View", "Download", "Generate"]:
        assert re.search(rf">\s*{label}\s*</a>", html), label


# --- The shell's markup -----------------------------------------------------------------------


def test_the_shell_has_search_user_menu_and_keyboard_help(client_as, acme):
    html = client_as(acme.rep).get("/").content.decode()
    assert re.search(r'<form class="search" role="search" action="/search/"', html)
    assert '<label class="sr-only" for="global-search">Search</label>' in html
    assert 'data-global-search aria-keyshortcuts="/"' in html
    assert reverse("account_change_password") in html and reverse("mfa_index") in html
    assert f'action="{reverse("account_logout")}"' in html
    assert reverse("api_tokens") in html
    assert 'id="shortcuts"' in html  # the `?` help
    assert '<meta name="csrf-token"' in html and '<meta name="htmx-config"' in html


def test_the_primary_new_action_is_bound_to_the_n_shortcut():
    html = render_to_string("components/page_header.html", {"title": "Accounts", "new_url": "/accounts/new/",
                                                             "new_label": "New account"})
    assert 'href="/accounts/new/" data-shortcut-new aria-keyshortcuts="n"' in html


def test_the_built_assets_are_committed():
    for path in ["css/app.css", "js/app.js", "js/charts.js", "vendor/htmx.min.js", "vendor/alpine-csp.min.js",
                 "vendor/echarts.min.js", "vendor/sortable.min.js", "fonts/inter-latin-wght-normal.woff2",
                 "img/favicon.svg"]:
        assert finders.find(path), f"static/{path} is missing: run `make assets`"


def test_styleguide_is_for_development_only(client_as, acme):
    client = client_as(acme.rep)
    assert client.get(reverse("styleguide")).status_code == 404
    with override_settings(DEBUG=True):
        response = client.get(reverse("styleguide"))
    assert response.status_code == 200
    assert "field-error" in response.content.decode()  # the invalid form shows inline errors


# --- Dev mail viewer ----------------------------------------------------------------------------


def test_the_dev_mail_viewer_lists_mail_and_makes_links_clickable(rf, tmp_path):
    msg = EmailMessage()
    msg["Subject"], msg["From"], msg["To"] = "Ada invited you to Acme", "CRM <no-reply@crm.localhost>", "new@x.example"
    msg["Date"] = "Thu, 26 Nov 2026 10:53:06 +0000"
    msg.set_content("Accept: http://127.0.0.1:8000/invite/abc/def/\n")
    (tmp_path / "20261126-105306-abcd.eml").write_bytes(bytes(msg))
    request = rf.get("/dev/mail/")
    request.user = AnonymousUser()
    with override_settings(DEV_MAIL_DIR=str(tmp_path), ROOT_URLCONF="crm.web.tests.devmail_urlconf"):
        listing = devmail.mail_list(request).content.decode()
        detail = devmail.mail_detail(request, "20261126-105306-abcd").content.decode()
    assert "Ada invited you to Acme" in listing and "new@x.example" in listing
    assert '<a href="http://127.0.0.1:8000/invite/abc/def/"' in detail


# --- CSP: nothing inline --------------------------------------------------------------------------


def test_the_csp_forbids_inline_scripts_and_styles(client):
    header = client.get(reverse("account_login"))["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in header.split(";") if d.strip())
    assert directives["script-src"].split() == ["'self'"]
    assert "unsafe" not in directives["style-src"]


def _template_markup(path: Path) -> str:
    """The HTML of a template without its template-language parts (tags, comments, variables)."""
    text = path.read_text()
    text = re.sub(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}", "", text, flags=re.S)
    return re.sub(r"{#.*?#}|{%.*?%}|{{.*?}}", "", text, flags=re.S)


def test_no_template_has_inline_script_style_or_event_handler():
    offenders = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        markup = _template_markup(path)
        for tag in re.findall(r"<script\b[^>]*>", markup, flags=re.I):
            if "src=" not in tag and 'type="application/json"' not in tag:
                offenders.append(f"{path.relative_to(TEMPLATES)}: inline {tag}")
        if re.search(r"<style\b", markup, flags=re.I):
            offenders.append(f"{path.relative_to(TEMPLATES)}: <style> element")
        for tag in re.findall(r"<[a-zA-Z][^>]*>", markup):
            if re.search(r"\sstyle\s*=", tag):
                offenders.append(f"{path.relative_to(TEMPLATES)}: style attribute in {tag[:60]}")
            if re.search(r"\son[a-z]+\s*=", tag):
                offenders.append(f"{path.relative_to(TEMPLATES)}: inline event handler in {tag[:60]}")
    assert not offenders, "\n".join(offenders)
