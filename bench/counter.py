"""The live counter through a real server: gunicorn (3 sync workers, as the Dockerfile runs it) on
loopback, SQLite, a signed-in customer, Django's database sessions, client threads opening one
connection per request (as the sync workers close them).

First, the CPU time of `count()` on a 39,015-character text (bench/encoding.py has more).

Then the server time per request, read from /proc as the workers' CPU time (user + system)
divided by the requests served, with clients posting back to back. Cases: a bare view (no
session); the cheapest page under an account (session, user and membership lookups, nothing
else); the counter while typing (a 1,000-character message); the counter with 10 recipients
(the estimate). Rounds interleave the cases; each case keeps its median round. Targets: the
counter while typing costs at most 1.5× the page under an account.

Last, latency as people see it: four typists, each posting the 1,000-character message, waiting
for the answer and pausing 120 ms (htmx's `delay:120ms`: no post comes sooner after a
keystroke), for --latency-seconds. Target: p95 under 50 ms.

    .venv/bin/python bench/counter.py [--seconds 4] [--rounds 3] [--threads 4] [--workers 3]
        [--typists 4] [--latency-seconds 10] [--sessions db|cached_db] [--smoke]

`--sessions cached_db` runs the server with Django's cached_db engine on the Redis of
REDIS_URL (default redis://127.0.0.1:6379/14), to compare with the database engine.
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
from http.cookies import SimpleCookie
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
SESSION_ENGINES = {
    "db": "django.contrib.sessions.backends.db",
    "cached_db": "django.contrib.sessions.backends.cached_db",
}


def workers_cpu(server_pid: int) -> float:
    """User + system CPU seconds of the server's processes."""
    ticks = 0
    for pid in subprocess.check_output(["pgrep", "-g", str(server_pid)]).split():
        fields = Path(f"/proc/{int(pid)}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    # As the Dockerfile and docker-compose.yml run it.
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--typists", type=int, default=4)
    parser.add_argument("--latency-seconds", type=float, default=10.0)
    parser.add_argument("--pause", type=float, default=0.120, help="seconds between posts")
    parser.add_argument("--sessions", choices=SESSION_ENGINES, default="db")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks it runs")
    args = parser.parse_args()
    if args.smoke:
        args.seconds, args.rounds, args.latency_seconds = 0.3, 1, 0.5

    from bench.encoding import per_call
    from messaging.encoding import count

    text = ("Hello Marie, your appointment is confirmed for 10:30. " * 800)[:39015]
    print(f"count() on 39,015 characters: {per_call(count, text) * 1e3:.3f} ms of CPU per call "
          f"({count(text).segments} segments)")  # fmt: skip

    from django.conf import settings
    from django.test import Client

    from bench.timing import customer

    user, account = customer()
    client = Client()
    client.force_login(user)  # the session lands in the database the server reads
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    headers = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={session}", "HX-Request": "true"}

    Path(HERE, "bench_http_settings.py").write_text(
        "from smspanel.settings import *  # noqa: F403\n"
        "ROOT_URLCONF = 'bench.hello_urls'\n"
        f"SESSION_ENGINE = {SESSION_ENGINES[args.sessions]!r}\n"
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
    typing = urlencode({"message": message})
    estimate = urlencode({"message": message, "receivers": receivers})

    def call(path: str, body: str | None, expect: str = "") -> float:
        """One request on a new connection; its latency in seconds."""
        start = time.perf_counter()
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
        return time.perf_counter() - start

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

    def typists(path: str, body: str) -> list[float]:
        """Latencies of `args.typists` people typing at once, each pausing between posts."""
        latencies, stop = [], time.time() + args.latency_seconds

        def person():
            while time.time() < stop:
                latencies.append(call(path, body))
                time.sleep(args.pause)

        threads = [threading.Thread(target=person) for _ in range(args.typists)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return latencies

    counter_url = f"/sms/{account.name}/send/counter/"
    try:
        for _ in range(50):
            try:
                call("/hello/", None)
                break
            except OSError:
                time.sleep(0.1)
        # The server signs this session in (not an anonymous redirect) and checks the account.
        call(f"/sms/{account.name}/hello/", None, f"hello {account.name}")
        # As a browser: a page sets the CSRF cookie, htmx sends the token back in a header.
        page = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
        page.request("GET", "/csrf/", headers=headers)
        answer = page.getresponse()
        cookies = SimpleCookie()
        for value in answer.headers.get_all("Set-Cookie") or []:
            cookies.load(value)
        headers["X-CSRFToken"] = answer.read().decode()
        page.close()
        csrf_cookie = cookies[settings.CSRF_COOKIE_NAME].value
        headers["Cookie"] += f"; {settings.CSRF_COOKIE_NAME}={csrf_cookie}"
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
        latencies = typists(counter_url, typing)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    print(f"gunicorn, {args.workers} sync workers, loopback, {args.threads} client threads "
          f"back to back, {args.rounds} rounds of {args.seconds:g} s per case (median), SQLite, "
          f"{args.sessions} sessions")  # fmt: skip
    base = results["bare hello view"][0]
    authed_cpu = results["hello under an account (auth only)"][1]
    for name, (rps, cpu) in results.items():
        print(f"{name:38s} {rps:7.0f} req/s  {rps / base:6.1%} of bare view   "
              f"server CPU {cpu:5.0f} µs/request  {cpu / authed_cpu:4.2f}× auth-only page")  # fmt: skip
    ratio = results["counter while typing, 1,000 chars"][1] / authed_cpu
    print(f"counter while typing / auth-only page, server CPU per request: {ratio:.2f}× "
          f"(target ≤ 1.5×)")  # fmt: skip
    p50, p95 = percentile(latencies, 0.50), percentile(latencies, 0.95)
    print(f"{args.typists} typists, {args.pause * 1e3:.0f} ms pauses, {len(latencies)} counter "
          f"posts in {args.latency_seconds:g} s: p50 {p50 * 1e3:.1f} ms, p95 {p95 * 1e3:.1f} ms, "
          f"max {max(latencies) * 1e3:.1f} ms (target p95 < 50 ms)")  # fmt: skip


if __name__ == "__main__":
    main()
