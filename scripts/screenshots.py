"""Screenshots of the app shell and the design system, for a person to look at.

Against a running dev server (the demo data loaded), signs in as the demo users and saves PNGs
into artifacts/screenshots/ (gitignored). Also reports any console error and any CSP violation,
which would mean an inline script or style slipped in.

    python manage.py runserver 127.0.0.1:8011 --noreload &      # DJANGO_SETTINGS_MODULE=crm.settings.dev
    python scripts/screenshots.py --base-url http://127.0.0.1:8011
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Demo-pass-2026"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
LAPTOP = {"width": 1440, "height": 900}
TABLET = {"width": 820, "height": 1180}
MAIL_DIR = ROOT / ".data" / "mail"
SAMPLE_MAIL = [
    ("Ada Acme invited you to Acme", "rita.new@example.com",
     "Hello,\n\nAda Acme invited you to join Acme on the CRM as a sales rep.\n\n"
     "Accept the invitation: http://127.0.0.1:8011/invite/0000/sample-token/\n\nThe link expires in 7 days."),
    ("[CRM] Password Reset Email", "rep@acme.example",
     "You're receiving this email because you or someone else has requested a password for your account.\n\n"
     "Click the link below to reset your password.\n\nhttp://127.0.0.1:8011/accounts/password/reset/key/sample/\n"),
    ("[CRM] Please Confirm Your Email Address", "admin@acme.example",
     "To confirm this is correct, go to http://127.0.0.1:8011/accounts/confirm-email/sample/\n"),
]


def write_sample_mail() -> list[Path]:
    """Only when the dev mail folder is empty: a few messages for the dev mail viewer's screenshot,
    removed again afterwards (names end in -screenshot-sample.eml)."""
    if MAIL_DIR.exists() and any(MAIL_DIR.glob("*.eml")):
        return []
    MAIL_DIR.mkdir(parents=True, exist_ok=True)
    written = []
    now = datetime.now(UTC)
    for i, (subject, to, body) in enumerate(SAMPLE_MAIL):
        msg = EmailMessage()
        msg["Subject"], msg["From"], msg["To"] = subject, "CRM <no-reply@crm.localhost>", to
        msg["Date"] = format_datetime(now - timedelta(minutes=7 * i))
        msg.set_content(body)
        path = MAIL_DIR / f"{(now - timedelta(minutes=7 * i)):%Y%m%d-%H%M%S}-screenshot-sample.eml"
        path.write_bytes(bytes(msg))
        written.append(path)
    return written


class Shooter:
    def __init__(self, browser, base_url: str, out: Path):
        self.browser = browser
        self.base = base_url.rstrip("/")
        self.out = out
        self.problems: list[str] = []
        self.saved: list[Path] = []

    def page(self, viewport=LAPTOP) -> Page:
        context = self.browser.new_context(viewport=viewport, device_scale_factor=1)
        page = context.new_page()
        def on_console(message):
            # the error pages answer 403/404/500 on purpose; anything else is worth reporting
            if message.type == "error" and "/styleguide/errors/" not in page.url:
                self.problems.append(f"{page.url}: {message.text}")

        page.on("console", on_console)
        page.on("pageerror", lambda e: self.problems.append(f"{page.url}: {e}"))
        return page

    def go(self, page: Page, path: str) -> None:
        page.goto(self.base + path, wait_until="networkidle")

    def shot(self, page: Page, name: str, full_page: bool = False) -> None:
        page.wait_for_timeout(250)  # let entrance animations settle
        path = self.out / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        self.saved.append(path)
        print(f"  {path.relative_to(ROOT)}")

    def sign_in(self, page: Page, who: str) -> None:
        self.go(page, "/accounts/login/")
        page.fill("input[name=login]", f"{who}@acme.example")
        page.fill("input[name=password]", PASSWORD)
        page.get_by_role("button", name="Sign In").click()
        page.wait_for_load_state("networkidle")
        if "/accounts/login" in page.url:
            raise SystemExit(f"could not sign in as {who}@acme.example (is the demo data loaded?)")


def run(base_url: str, out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        s = Shooter(browser, base_url, out)

        page = s.page()
        s.go(page, "/accounts/login/")
        s.shot(page, "signin")
        page.fill("input[name=login]", "nobody@acme.example")
        page.fill("input[name=password]", "not-the-password")
        page.get_by_role("button", name="Sign In").click()
        page.wait_for_load_state("networkidle")
        s.shot(page, "signin-error")
        s.go(page, "/signup/")
        s.shot(page, "signup")
        s.go(page, "/accounts/password/reset/")
        s.shot(page, "password-reset")
        page.context.close()

        for role in ["admin", "manager", "rep", "agent"]:
            page = s.page()
            s.sign_in(page, role)
            s.shot(page, f"home-{role}")
            if role == "admin":
                page.locator("details.tenant-menu > summary").click()
                s.shot(page, "menu-tenant")
                page.keyboard.press("Escape")
                page.locator("details.user-menu > summary").click()
                s.shot(page, "menu-user")
                page.keyboard.press("Escape")
                page.locator("body").click(position={"x": 700, "y": 600})
                page.keyboard.press("?")
                s.shot(page, "modal-shortcuts")
                page.keyboard.press("Escape")
                page.keyboard.press("/")
                s.shot(page, "search-focused")
                # DEBUG shows Django's technical 404; the preview renders ours through handler404
                s.go(page, "/styleguide/errors/404/")
                s.shot(page, "404")
                s.go(page, "/styleguide/errors/403/")
                s.shot(page, "403")
                s.go(page, "/styleguide/errors/500/")
                s.shot(page, "500")
                s.go(page, "/styleguide/errors/429/")
                s.shot(page, "lockout")
                s.go(page, "/accounts/password/change/")
                s.shot(page, "password-change")
                s.go(page, "/accounts/2fa/")
                s.shot(page, "2fa")
                s.go(page, "/accounts/email/")
                s.shot(page, "email-settings")
                s.go(page, "/accounts/logout/")
                s.shot(page, "sign-out-confirm")
                s.go(page, "/accounts/2fa/totp/activate/")
                if page.locator("input[name=password]").count():  # allauth asks for the password again
                    s.shot(page, "reauthenticate")
                    page.fill("input[name=password]", PASSWORD)
                    page.get_by_role("button", name="Confirm").click()
                    page.wait_for_load_state("networkidle")
                s.shot(page, "2fa-activate")
                samples = write_sample_mail()
                try:
                    s.go(page, "/dev/mail/")
                    s.shot(page, "devmail-list")
                    first = page.locator("a.mail-subject-link").first
                    if first.count():
                        first.click()
                        page.wait_for_load_state("networkidle")
                        s.shot(page, "devmail-detail")
                finally:
                    for path in samples:
                        path.unlink(missing_ok=True)
                s.go(page, "/styleguide/")
                s.shot(page, "styleguide", full_page=True)
                for close in page.locator("[data-toast-close]").all():
                    if close.is_visible():
                        close.click()
                for i, section in enumerate(page.locator(".sg-section").all()):
                    section.scroll_into_view_if_needed()
                    path = s.out / f"styleguide-{i + 1}.png"
                    section.screenshot(path=str(path))
                    s.saved.append(path)
                for extra in ["/team/", "/settings/api-tokens/", "/settings/security/", "/settings/security-log/"]:
                    s.go(page, extra)
                    s.shot(page, "page" + extra.rstrip("/").replace("/", "-"))
            page.context.close()

        page = s.page(TABLET)
        s.sign_in(page, "rep")
        s.shot(page, "home-rep-tablet")
        page.get_by_role("button", name="Navigation").click()
        s.shot(page, "home-rep-tablet-nav-open")
        page.context.close()

        browser.close()

    if s.problems:
        print("\nConsole errors / CSP violations:")
        for problem in s.problems:
            print(f"  {problem}")
    print(f"\n{len(s.saved)} screenshots in {out.relative_to(ROOT)}")
    return 1 if any("Content Security Policy" in p for p in s.problems) else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8011")
    parser.add_argument("--out", default=str(ROOT / "artifacts" / "screenshots"))
    args = parser.parse_args()
    return run(args.base_url, Path(args.out).resolve())


if __name__ == "__main__":
    sys.exit(main())
