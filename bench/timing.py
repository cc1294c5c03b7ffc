"""Shared by the request benchmarks."""

import os
import tempfile
import time


def django_in_process() -> None:
    """Set Django up for an in-process run: a throwaway SQLite database in a private directory,
    no broker (nothing is dispatched: an unused Redis address, so no embedded Redis starts)."""
    os.environ["SMSPANEL_VAR_DIR"] = tempfile.mkdtemp(prefix="smspanel-bench-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smspanel.settings")
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
