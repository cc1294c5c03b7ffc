"""Tracked short links: redirects per second through gunicorn (sync workers, as the Dockerfile
runs it) on loopback, next to a bare Django view (/hello/: the full middleware stack, no
database) in the same run, rounds interleaved; then the clicks counted in the database are
checked against the requests made.

Each redirect is a person's click: it counts (one UPDATE) and reads the stored URL (one SELECT).
Clients are processes opening one connection per request (sync workers close them), each
request to a random link among --links.

    .venv/bin/python bench/links.py [--seconds 5] [--rounds 3] [--workers 3] [--clients 2]
        [--threads 8] [--links 20000] [--smoke]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/links.py

On PostgreSQL the script creates and drops its own database (bench_links). Target (issue #20):
at least 2,000 redirects a second with PostgreSQL.
"""

import argparse
import multiprocessing
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
HERE = tempfile.mkdtemp(prefix="smspanel-bench-links-")
sys.path.insert(0, str(ROOT))
os.environ.update(
    SMSPANEL_VAR_DIR=HERE,
    DJANGO_SETTINGS_MODULE="smspanel.settings",
    SECURE_SSL_REDIRECT="0",
    SECURE_COOKIES="0",
    DEBUG="0",
    SECRET_KEY="bench-" + "x" * 50,
    ALLOWED_HOSTS="127.0.0.1",
    SHORT_LINK_BASE="http://127.0.0.1:8766/l",
)
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/14")
PG_URL = os.environ.get("DATABASE_URL", "")
if PG_URL.startswith("postgres"):
    import psycopg

    admin = psycopg.connect(PG_URL, autocommit=True)
    admin.execute("DROP DATABASE IF EXISTS bench_links")
    admin.execute("CREATE DATABASE bench_links")
    os.environ["DATABASE_URL"] = urlunsplit(urlsplit(PG_URL)._replace(path="/bench_links"))

import django  # noqa: E402

django.setup()

PORT = 8766


def get(path: str) -> bytes:
    """One request on a new connection; the start of the answer."""
    with socket.create_connection(("127.0.0.1", PORT), timeout=30) as conn:
        conn.sendall(
            f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nUser-Agent: Mozilla/5.0 bench\r\n\r\n"
            .encode()
        )
        head = conn.recv(64)
        while conn.recv(65536):
            pass
    return head


def hit(paths: list[str], stop: float, expect: bytes, counter, lock) -> None:
    """Requests back to back until `stop`, one connection each; adds the count."""
    done = 0
    while time.time() < stop:
        head = get(random.choice(paths))
        if not head.startswith(expect, 9):
            raise SystemExit(f"{head!r}")
        done += 1
    with lock:
        counter.value += done


def client_process(paths, stop, expect, threads, counter, lock):
    workers = [
        threading.Thread(target=hit, args=(paths, stop, expect, counter, lock))
        for _ in range(threads)
    ]
    for t in workers:
        t.start()
    for t in workers:
        t.join()


def rate(paths: list[str], expect: bytes, args) -> float:
    counter, lock = multiprocessing.Value("l", 0), multiprocessing.Lock()
    stop = time.time() + args.seconds
    procs = [
        multiprocessing.Process(
            target=client_process, args=(paths, stop, expect, args.threads, counter, lock)
        )
        for _ in range(args.clients)
    ]
    start = time.time()
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    return counter.value / (time.time() - start)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--links", type=int, default=20_000)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks it runs")
    args = parser.parse_args()
    if args.smoke:
        args.seconds, args.rounds, args.links, args.threads = 0.5, 1, 200, 2

    from django.db import connection
    from django.db.models import Sum
    from django.utils import timezone

    from bench.timing import customer
    from messaging import shortlinks
    from messaging.models import Campaign, ShortLink, SmsJob

    _user, account = customer()
    campaign = Campaign.objects.create(account=account, name="bench", start_at=timezone.now())
    job = SmsJob.objects.create(
        account=account, message="m", encoding="GSM-7", segments=1, credits=0,
        status="done", campaign=campaign,
    )  # fmt: skip
    codes = shortlinks.new_codes(args.links)
    ShortLink.objects.bulk_create(
        [
            ShortLink(code=c, job=job, receiver=f"+336{i:08d}", url=f"https://shop.example.com/{i}")
            for i, c in enumerate(codes)
        ],
        batch_size=5000,
    )
    connection.close()

    Path(HERE, "bench_links_settings.py").write_text(
        "from smspanel.settings import *  # noqa: F403\nROOT_URLCONF = 'bench.hello_urls'\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench_links_settings",
           "PYTHONPATH": f"{HERE}:{ROOT}"}  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "smspanel.wsgi", "-w", str(args.workers),
         "-b", f"127.0.0.1:{PORT}", "--log-level", "warning", "--backlog", "2048"],
        env=env, start_new_session=True,
    )  # fmt: skip
    links = [urlsplit(shortlinks.short_url(c)).path for c in codes]
    try:
        for _ in range(300):  # until every worker answers (they boot slowly on a busy machine)
            try:
                if all(get("/hello/").startswith(b"200", 9) for _ in range(args.workers * 2)):
                    break
            except OSError:
                time.sleep(0.1)
        rate(["/hello/"], b"200", argparse.Namespace(**{**vars(args), "seconds": 0.5}))
        ShortLink.objects.update(clicks=0, first_click_at=None)
        bare, redirect = [], []
        for _ in range(args.rounds):
            bare.append(rate(["/hello/"], b"200", args))
            redirect.append(rate(links, b"302", args))
        print(f"database: {connection.vendor}; gunicorn {args.workers} sync workers; "
              f"{args.clients} client processes × {args.threads} threads; {args.links:,} links")  # fmt: skip
        print(f"bare Django view (/hello/): {statistics.median(bare):,.0f} requests/s "
              f"(rounds: {', '.join(f'{r:,.0f}' for r in bare)})")  # fmt: skip
        print(f"short link redirect (counted): {statistics.median(redirect):,.0f} redirects/s "
              f"(rounds: {', '.join(f'{r:,.0f}' for r in redirect)})")  # fmt: skip
        print(f"redirect / bare view: {statistics.median(redirect) / statistics.median(bare):.2f}; "
              f"target ≥ 2,000 redirects/s with PostgreSQL")  # fmt: skip
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait()
    clicks = ShortLink.objects.aggregate(n=Sum("clicks"))["n"]
    clicked = ShortLink.objects.filter(first_click_at__isnull=False).count()
    made = round(sum(redirect) * args.seconds)
    print(f"clicks counted in the database: {clicks:,} on {clicked:,} links "
          f"(redirects made: about {made:,})")  # fmt: skip
    connection.close()
    if PG_URL.startswith("postgres"):
        admin.execute("DROP DATABASE IF EXISTS bench_links")


if __name__ == "__main__":
    main()
