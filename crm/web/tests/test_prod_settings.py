"""Production settings pass Django's deployment checklist with nothing silenced."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def check_deploy(**env) -> subprocess.CompletedProcess:
    # what a deploy would have: not the test run's own switches (DEBUG, DJANGO_ALLOW_ASYNC_UNSAFE…)
    environment = {k: v for k, v in os.environ.items()
                   if k != "DEBUG" and not k.startswith(("DJANGO_", "CRM_"))}
    environment.update(DJANGO_SETTINGS_MODULE="crm.settings.prod", ALLOWED_HOSTS="crm.example.com", **env)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120,
    )


def test_prod_settings_pass_check_deploy_with_no_warnings():
    result = check_deploy(SECRET_KEY=secrets.token_urlsafe(60))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_prod_settings_refuse_to_start_without_a_secret_key():
    result = check_deploy(SECRET_KEY="")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr
