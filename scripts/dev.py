"""`make run` and `make test`: start what is missing, run, and stop everything we started.

run:  services -> migrate (as the owner role) -> seed_demo -> web + worker + beat + mail sink.
      Ctrl-C stops every process started here, and the local PostgreSQL/Redis if we started them.
test: services -> ruff -> pytest (as the application role; see conftest.py).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import services  # noqa: E402

BIN = Path(sys.executable).parent


def base_env(settings: str) -> dict:
    env = dict(os.environ)
    env.update(services.env())
    env.setdefault("DJANGO_SETTINGS_MODULE", settings)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def manage(env: dict, *args: str, owner: bool = False) -> None:
    e = dict(env, CRM_DB_ROLE="owner") if owner else env
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], env=e, cwd=ROOT, check=True)


def run() -> int:
    started = services.up()
    env = base_env("crm.settings.dev")
    children: list[subprocess.Popen] = []
    try:
        manage(env, "migrate", "--noinput", owner=True)
        manage(env, "seed_demo")
        (ROOT / ".data" / "mail").mkdir(parents=True, exist_ok=True)
        commands = {
            "mail": [sys.executable, str(ROOT / "scripts" / "mailsink.py")],
            "web": [sys.executable, str(ROOT / "manage.py"), "runserver", "127.0.0.1:8000", "--noreload"],
            "worker": [str(BIN / "celery"), "-A", "crm", "worker", "-l", "info", "--concurrency", "2",
                       "-n", f"dev@{os.uname().nodename}"],
            "beat": [str(BIN / "celery"), "-A", "crm", "beat", "-l", "info",
                     "-s", str(ROOT / ".data" / "celerybeat-schedule")],
        }
        for _name, cmd in commands.items():
            children.append(subprocess.Popen(cmd, env=env, cwd=ROOT, start_new_session=True))
        print("\n  CRM is running on http://127.0.0.1:8000  (sign in as admin@acme.example / Demo-pass-2026)")
        print("  Caught mail: http://127.0.0.1:8000/dev/mail/    API docs: http://127.0.0.1:8000/api/docs/")
        print("  Ctrl-C stops everything.\n", flush=True)
        while all(c.poll() is None for c in children):
            time.sleep(0.5)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        for c in children:
            if c.poll() is None:
                os.killpg(c.pid, signal.SIGTERM)
        deadline = time.time() + 10
        for c in children:
            try:
                c.wait(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                os.killpg(c.pid, signal.SIGKILL)
        services.down(started)


def test(args: list[str]) -> int:
    started = services.up()
    env = base_env("crm.settings.test")
    env["DJANGO_SETTINGS_MODULE"] = "crm.settings.test"
    try:
        lint = subprocess.run([str(BIN / "ruff"), "check", "."], cwd=ROOT)
        if lint.returncode != 0:
            print("ruff found problems (see above)", file=sys.stderr)
            return lint.returncode
        code = subprocess.run([sys.executable, "-m", "pytest", *args], env=env, cwd=ROOT).returncode
        if code == 5:
            print("pytest collected no tests: a suite that runs nothing is a failure here", file=sys.stderr)
        return code
    finally:
        services.down(started)


def _stop(signum, frame):
    raise KeyboardInterrupt


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "run"
    if what == "run":
        # Ctrl-C, a terminal closing or `kill` all mean: stop everything started here. Installed
        # explicitly because a shell starts background jobs with SIGINT ignored.
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, _stop)
        sys.exit(run())
    if what == "test":
        sys.exit(test(sys.argv[2:]))
    sys.exit(f"unknown: {what}")
