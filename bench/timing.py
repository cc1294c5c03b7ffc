"""Shared by the request benchmarks."""

import atexit
import os
import shutil
import tempfile
import time
from urllib.parse import urlsplit, urlunsplit


def django_in_process(*, postgres_db: str = "") -> None:
    """Set Django up for an in-process run: a throwaway SQLite database in a private directory
    (removed at exit), no broker (nothing is dispatched: an unused Redis address, so no embedded Redis starts).

    With `postgres_db` and DATABASE_URL naming a PostgreSQL server, the throwaway database is
    `postgres_db` on that server instead: dropped if left over, created, dropped at exit."""
    var_dir = tempfile.mkdtemp(prefix="smspanel-bench-")
    atexit.register(shutil.rmtree, var_dir, ignore_errors=True)  # its SQLite file, up to GBs
    os.environ["SMSPANEL_VAR_DIR"] = var_dir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smspanel.settings")
    server = os.environ.get("DATABASE_URL", "")
    if postgres_db and server.startswith(("postgres://", "postgresql://")):
        os.environ["DATABASE_URL"] = _postgres_database(server, postgres_db)
    else:
        os.environ.pop("DATABASE_URL", None)
    os.environ["REDIS_URL"] = "redis://127.0.0.1:1/0"
    os.environ["SECURE_SSL_REDIRECT"] = "0"
    import django

    django.setup()


def measure(fn, seconds: float) -> float:
    """Calls per second of fn() over `seconds`, after a warm-up."""
    for _ in range(20):
        fn()
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        n += 1
    return n / (time.perf_counter() - start)


def customer(free_credits: int = 100):
    """Migrate the throwaway database and open an account for a new customer: (user, account)."""
    from django.core.management import call_command

    from accounts import services
    from accounts.models import User

    call_command("migrate", verbosity=0)
    user = User.objects.create_user("bench@example.com", "bench-pass-123")
    return user, services.account_open(user=user, free_credits=free_credits)


def _postgres_database(server_url: str, name: str) -> str:
    """Create the database `name` on the server of `server_url` (dropping a leftover one) and
    drop it at exit; returns its URL."""
    import psycopg

    def run(sql: str) -> None:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(sql)

    run(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    run(f"CREATE DATABASE {name}")
    atexit.register(run, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    return urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
