"""The live counter next to a bare "hello" view through a real server: gunicorn (3 sync workers,
as the Dockerfile runs it) on loopback, SQLite, a signed-in customer, client threads opening one
connection per request (as the sync workers close them). Each case also prints the workers'
CPU time per request, read from /proc. gunicorn's sync workers wait for the client to close
the connection after each response: with as many workers as cores the run partly measures the
client's latency instead of the server.

First, the CPU time of `count()` on a 39,015-character text (bench/encoding.py has more).

Cases: the bare view; the cheapest page under an account (session, user and membership
lookups, nothing else); the counter while typing (a 1,000-character message, with the token the
compose page gives, as the browser posts it); the counter with 10 recipients (the estimate,
through the session).

    .venv/bin/python bench/counter.py [--seconds 4] [--rounds 3] [--threads 4] [--workers 3]
"""

import argparse
import http.client
import os
import signal
import statistics
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


def workers_cpu(server_pid: int) -> float:
    """User + system CPU seconds of the server's processes."""
    ticks = 0
    for pid in subprocess.check_output(["pgrep", "-g", str(server_pid)]).split():
        fields = Path(f"/proc/{int(pid)}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    # As the Dockerfile and docker-compose.yml run it.
    parser.add_argument("--workers", type=int, default=3)
    args = parser.parse_args()

    from bench.encoding import per_call
    from messaging.encoding import count

    text = ("Hello Marie, your appointment is confirmed for 10:30. " * 800)[:39015]
    print(f"count() on 39,015 characters: {per_call(count, text) * 1e3:.3f} ms of CPU per call "
          f"({count(text).segments} segments)")  # fmt: skip

    from django.middleware.csrf import _get_new_csrf_string, _mask_cipher_secret
    from django.test import Client

    from bench.timing import customer
    from messaging.views import counter_token

    user, account = customer()
    client = Client()
    client.force_login(user)  # the session lands in the database the server reads
    session = client.cookies["sessionid"].value
    token = counter_token(user, account, session)  # what the compose page gives this session
    csrf_secret = _get_new_csrf_string()
    headers = {
        "Cookie": f"sessionid={session}; csrftoken={csrf_secret}",
        "X-CSRFToken": _mask_cipher_secret(csrf_secret),
        "HX-Request": "true",
    }

    Path(HERE, "bench_http_settings.py").write_text(
        "from smspanel.settings import *  # noqa: F403\nROOT_URLCONF = 'bench.hello_urls'\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench_http_settings",
           "PYTHONPATH": f"{HERE}:{ROOT}"}  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "smspanel.wsgi", "-w", str(args.workers),
         "-b", f"127.0.0.1:{PORT}", "--log-level", "warning"],
        env=env, start_new_session=True,
    )  # fmt: skip
    message = ("Bonjour Camille, votre commande 4512 est prete. " * 25)[:1000]
    receivers = "\n".join(f"+3361234{i:04d}" for i in range(10))
    typing = urlencode({"message": message, "counter_token": token})
    estimate = urlencode({"message": message, "counter_token": token, "receivers": receivers})

    def call(path: str, body: str | None, expect: str = "") -> None:
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
        if body is not None:
            conn.request("POST", path, body, {**headers,
                         "Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
        else:
            conn.request("GET", path, headers=headers)
        answer = conn.getresponse()
        content = answer.read()
        conn.close()
        assert answer.status == 200, answer.status
        assert expect.encode() in content, content[:300]

    def rate(path: str, body: str | None) -> tuple[float, float]:
        """Requests per second, and the server's CPU microseconds per request."""
        done, stop = [0] * args.threads, time.time() + args.seconds
        cpu = workers_cpu(server.pid)

        def loop(i):
            while time.time() < stop:
                call(path, body)
                done[i] += 1

        threads = [threading.Thread(target=loop, args=(i,)) for i in range(args.threads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        cpu = workers_cpu(server.pid) - cpu
        return sum(done) / args.seconds, cpu / sum(done) * 1e6

    counter_url = f"/sms/{account.name}/send/counter/"
    try:
        for _ in range(50):
            try:
                call("/hello/", None)
                break
            except OSError:
                time.sleep(0.1)
        call(counter_url, typing, 'data-testid="segments">7<')
        call(counter_url, estimate, 'data-testid="estimate-recipients">10<')
        cases = {
            "bare hello view": ("/hello/", None),
            "hello under an account (auth only)": (f"/sms/{account.name}/hello/", None),
            "counter while typing, 1,000 chars": (counter_url, typing),
            "counter, 1,000 chars + 10 recipients": (counter_url, estimate),
        }
        # Rounds interleave the cases, so that a drift of the machine hits them all alike;
        # each case keeps its median round.
        runs = {name: [] for name in cases}
        for _ in range(args.rounds):
            for name, (path, body) in cases.items():
                runs[name].append(rate(path, body))
        results = {name: statistics.median_low(r) for name, r in runs.items()}
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    print(f"gunicorn, {args.workers} sync workers, loopback, {args.threads} client threads, "
          f"{args.rounds} rounds of {args.seconds:.0f} s per case (median), SQLite, "
          "database sessions")  # fmt: skip
    base = results["bare hello view"][0]
    for name, (rps, cpu) in results.items():
        print(f"{name:38s} {rps:7.0f} req/s  {rps / base:6.1%} of bare view   "
              f"server CPU {cpu:5.0f} µs/request")  # fmt: skip


if __name__ == "__main__":
    main()
