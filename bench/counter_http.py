"""The counter next to a bare view through a real server: gunicorn (2 sync workers) on
loopback, a logged-in session, client threads opening one connection per request.

Needs a Redis for the sessions' cache: REDIS_URL (default redis://127.0.0.1:6379/14).

    .venv/bin/python bench/counter_http.py [--seconds 5] [--threads 4]
"""

import argparse
import http.client
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
HERE = tempfile.mkdtemp(prefix="smspanel-bench-http-")
sys.path.insert(0, str(ROOT))
os.environ.update(
    SMSPANEL_VAR_DIR=HERE,
    DJANGO_SETTINGS_MODULE="smspanel.settings",
    SECURE_SSL_REDIRECT="0",
    SECURE_COOKIES="0",
    DEBUG="0",
    SECRET_KEY="bench-" + "x" * 50,
    ALLOWED_HOSTS="127.0.0.1",
)
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/14")
os.environ.pop("DATABASE_URL", None)

import django  # noqa: E402

django.setup()

PORT = 8765
HELLO = '''from django.http import HttpResponse
from django.urls import include, path


def hello(request):
    return HttpResponse("hello")


urlpatterns = [path("hello/", hello), path("", include("smspanel.urls"))]
'''


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()

    from django.core.management import call_command
    from django.middleware.csrf import _get_new_csrf_string, _mask_cipher_secret
    from django.test import Client

    from accounts import services
    from accounts.models import User

    call_command("migrate", verbosity=0)
    user = User.objects.create_user("bench@example.com", "bench-pass-123")
    account = services.account_open(user=user, free_credits=100)
    client = Client()
    client.force_login(user)  # the session lands in the database and Redis
    session = client.cookies["sessionid"].value
    csrf_secret = _get_new_csrf_string()
    headers = {
        "Cookie": f"sessionid={session}; csrftoken={csrf_secret}",
        "X-CSRFToken": _mask_cipher_secret(csrf_secret),
        "HX-Request": "true",
    }

    Path(HERE, "bench_http_urls.py").write_text(HELLO)
    Path(HERE, "bench_http_settings.py").write_text(
        "from smspanel.settings import *  # noqa: F403\nROOT_URLCONF = 'bench_http_urls'\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench_http_settings",
           "PYTHONPATH": f"{HERE}:{ROOT}"}  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "smspanel.wsgi", "-w", "2", "-b", f"127.0.0.1:{PORT}",
         "--log-level", "warning"],
        env=env, start_new_session=True,
    )  # fmt: skip
    message = ("Bonjour Camille, votre commande 4512 est prete. " * 25)[:1000]
    body = urlencode({"message": message})

    def call(path: str, post: bool) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
        if post:
            conn.request("POST", path, body, {**headers,
                         "Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
        else:
            conn.request("GET", path, headers=headers)
        answer = conn.getresponse()
        answer.read()
        conn.close()
        assert answer.status == 200, answer.status

    def rate(path: str, post: bool) -> float:
        done, stop = [0] * args.threads, time.time() + args.seconds

        def loop(i):
            while time.time() < stop:
                call(path, post)
                done[i] += 1

        threads = [threading.Thread(target=loop, args=(i,)) for i in range(args.threads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return sum(done) / args.seconds

    try:
        for _ in range(50):
            try:
                call("/hello/", False)
                break
            except OSError:
                time.sleep(0.1)
        counter_url = f"/sms/{account.name}/send/counter/"
        call(counter_url, True)
        bare = rate("/hello/", False)
        counter = rate(counter_url, True)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    print(f"gunicorn, 2 sync workers, loopback, {args.threads} client threads, "
          f"{args.seconds:.0f} s per case, SQLite, cached_db sessions on Redis")  # fmt: skip
    print(f"bare hello view              {bare:8.0f} req/s")
    print(f"counter, 1,000-char message  {counter:8.0f} req/s   {counter / bare:6.1%} of bare view")


if __name__ == "__main__":
    main()
