import os
import sys

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Run the web server, a Celery worker, Celery beat and the SMPP connector together "
        "(development)."
    )

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default=os.environ.get("PORT", "127.0.0.1:8000"))
        parser.add_argument("--concurrency", type=int, default=2, help="Celery worker processes")

    def handle(self, *args, addrport, concurrency, **options):
        from honcho.manager import Manager

        python = sys.executable
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        if settings.REDIS_EMBEDDED:
            self.stdout.write(f"Embedded Redis on unix socket {settings.REDIS_SOCKET}")
        manager = Manager()
        manager.add_process("web", f"{python} manage.py runserver {addrport}", env=env)
        manager.add_process(
            "worker",
            f"{python} -m celery -A smspanel worker --loglevel=INFO --concurrency={concurrency}",
            env=env,
        )
        manager.add_process(
            "beat",
            f"{python} -m celery -A smspanel beat --loglevel=INFO "
            f"--schedule={settings.CELERY_BEAT_SCHEDULE_FILENAME}",
            env=env,
        )
        # Idle (one query every 10 s) until staff add an SMPP route in admin, then it binds.
        manager.add_process("smpp", f"{python} manage.py smpp_connector", env=env)
        manager.loop()
        if settings.REDIS_EMBEDDED:
            # Nothing else needs it now; the next command starts it again on demand.
            from smspanel.embedded_redis import stop

            stop(settings.VAR_DIR, settings.REDIS_SOCKET)
        sys.exit(manager.returncode)
