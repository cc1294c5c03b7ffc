"""Tracked short links: redirects per second through gunicorn (smspanel.wsgi, as the Dockerfile
runs it) on loopback, next to a bare Django view (/hello/: the full middleware stack, no
database) in the same run, rounds interleaved; then the clicks, flushed from Redis as the beat
does, are checked against the redirects made.

Each redirect is a person's click on a link its worker process has not seen yet (each client
thread walks its own part of --links shuffled links, so no link is asked twice while there are
enough): one SELECT by code, then the click counted in Redis. A last round asks the same links
again and again (read from each worker's cache: no query). Clients are processes opening one connection
per request, as phones do.

    .venv/bin/python bench/links.py [--seconds 5] [--rounds 3] [--workers 3]
        [--worker-class sync|gthread] [--server-threads 4] [--clients 2] [--threads 8]
        [--links 100000] [--port 8766] [--smoke]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/links.py

On PostgreSQL the script creates and drops its own database (BENCH_DB, default bench_links).
Target (issue #20): at least 2,000 redirects a second with PostgreSQL.
"""

import argparse
import multiprocessing
import os
import random
import resource
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
PORT = 8766
for i, arg in enumerate(sys.argv):  # needed before Django's settings are read
    if arg == "--port":
        PORT = int(sys.argv[i + 1])
os.environ.update(
    SMSPANEL_VAR_DIR=HERE,
    DJANGO_SETTINGS_MODULE="smspanel.settings",
    SECURE_SSL_REDIRECT="0",
    SECURE_COOKIES="0",
    DEBUG="0",
    SECRET_KEY="bench-" + "x" * 50,
    ALLOWED_HOSTS="127.0.0.1",
    SHORT_LINK_BASE=f"http://127.0.0.1:{PORT}/l",
    # Its own Redis keys for the clicks, whoever else uses this Redis.
    CELERY_QUEUE=f"bench-links-{os.getpid()}",
)
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/14")
PG_URL = os.environ.get("DATABASE_URL", "")
DB_NAME = os.environ.get("BENCH_DB", "bench_links")
if PG_URL.startswith("postgres"):
    import psycopg

    admin = psycopg.connect(PG_URL, autocommit=True)
    admin.execute(f"DROP DATABASE IF EXISTS {DB_NAME}")
    admin.execute(f"CREATE DATABASE {DB_NAME}")
    os.environ["DATABASE_URL"] = urlunsplit(urlsplit(PG_URL)._replace(path=f"/{DB_NAME}"))

import django  # noqa: E402

django.setup()


def get(path: str) -> bytes:
    """One request on a new connection; the start of the answer."""
    with socket.create_connection(("127.0.0.1", PORT), timeout=30) as conn:
        conn.sendall(
            f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nUser-Agent: Mozilla/5.0 bench\r\n\r\n".encode()
        )
        head = conn.recv(64)
        while conn.recv(65536):
            pass
    return head


def hit(paths: list[str], stop: float, expect: bytes, counter, lock) -> None:
    """Requests back to back until `stop`, one connection each, walking `paths` in order
    (again from the start when they run out); adds the count."""
    done = 0
    while time.time() < stop:
        head = get(paths[done % len(paths)])
        if not head.startswith(expect, 9):
            raise SystemExit(f"{head!r}")
        done += 1
    with lock:
        counter.value += done


def client_process(parts, stop, expect, counter, lock):
    workers = [
        threading.Thread(target=hit, args=(part, stop, expect, counter, lock)) for part in parts
    ]
    for t in workers:
        t.start()
    for t in workers:
        t.join()


def _ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0  # gone meanwhile
    return int(fields[11]) + int(fields[12])


def cpu_seconds(server_pgid: int) -> dict[str, float]:
    """CPU seconds (user + system) used so far by the server's processes, this database's
    PostgreSQL backends and the client processes that ended."""
    server = sum(
        _ticks(int(p)) for p in subprocess.check_output(["pgrep", "-g", str(server_pgid)]).split()
    )
    database = 0
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes()
            except OSError:
                continue
            if cmdline.startswith(b"postgres: ") and f" {DB_NAME} ".encode() in cmdline:
                database += _ticks(int(proc.name))
    clients = resource.getrusage(resource.RUSAGE_CHILDREN)
    hz = os.sysconf("SC_CLK_TCK")
    return {"server": server / hz, "database": database / hz,
            "clients": clients.ru_utime + clients.ru_stime}  # fmt: skip


def rate(paths: list[str], expect: bytes, args) -> tuple[float, int]:
    """(requests/s, requests made): each client thread walks its own slice of `paths`.
    Adds each process kind's CPU µs per request to args.cpu[label] when args.label is set."""
    before = cpu_seconds(args.server_pgid)
    counter, lock = multiprocessing.Value("l", 0), multiprocessing.Lock()
    stop = time.time() + args.seconds
    slices = args.clients * args.threads
    parts = [paths[i::slices] or paths for i in range(slices)]
    procs = [
        multiprocessing.Process(
            target=client_process,
            args=(parts[c * args.threads : (c + 1) * args.threads], stop, expect, counter, lock),
        )
        for c in range(args.clients)
    ]
    start = time.time()
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    took = time.time() - start
    if args.label and counter.value:
        after = cpu_seconds(args.server_pgid)
        args.cpu.setdefault(args.label, []).append(
            {k: (after[k] - before[k]) * 1e6 / counter.value for k in after}
        )
    return counter.value / took, counter.value


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--worker-class", default="sync", choices=("sync", "gthread"))
    parser.add_argument("--server-threads", type=int, default=4, help="gthread: per worker")
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--links", type=int, default=100_000)
    parser.add_argument("--port", type=int, default=PORT)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks it runs")
    args = parser.parse_args()
    if args.smoke:
        args.seconds, args.rounds, args.links, args.threads = 0.5, 1, 500, 2

    from django.db import connection
    from django.db.models import Sum
    from django.utils import timezone

    from bench.timing import customer
    from messaging import clicks, shortlinks
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
    server_args = ["-w", str(args.workers), "-k", args.worker_class]
    if args.worker_class == "gthread":
        server_args += ["--threads", str(args.server_threads)]
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "smspanel.wsgi", *server_args,
         "-b", f"127.0.0.1:{args.port}", "--log-level", "warning", "--backlog", "2048"],
        env=env, start_new_session=True,
    )  # fmt: skip
    links = [urlsplit(shortlinks.short_url(c)).path for c in codes]
    random.Random(1).shuffle(links)
    try:
        for _ in range(300):  # until every worker answers (they boot slowly on a busy machine)
            try:
                if all(get("/hello/").startswith(b"200", 9) for _ in range(args.workers * 2)):
                    break
            except OSError:
                time.sleep(0.1)
        args.server_pgid, args.cpu, args.label = server.pid, {}, ""
        rate(["/hello/"], b"200", argparse.Namespace(**{**vars(args), "seconds": 0.5}))
        bare, redirect, made = [], [], 0
        for n in range(args.rounds):
            args.label = "bare"
            bare.append(rate(["/hello/"], b"200", args)[0])
            # Each round its own links: every click is on a link no worker has read yet.
            per_round = links[n * len(links) // args.rounds : (n + 1) * len(links) // args.rounds]
            args.label = "cold"
            per_s, count = rate(per_round, b"302", args)
            redirect.append(per_s)
            made += count
        # The same few links over and over: soon in every worker's cache (a preview, then the
        # person; a second click).
        args.label = "cached"
        again, count = rate(links[:300], b"302", args)
        made += count
        server_desc = f"{args.workers} {args.worker_class} workers" + (
            f" × {args.server_threads} threads" if args.worker_class == "gthread" else ""
        )
        print(f"database: {connection.vendor}; gunicorn {server_desc}; {args.clients} client "
              f"processes × {args.threads} threads; {args.links:,} links")  # fmt: skip
        print(f"bare Django view (/hello/): {statistics.median(bare):,.0f} requests/s "
              f"(rounds: {', '.join(f'{r:,.0f}' for r in bare)})")  # fmt: skip
        print(f"short link redirect (counted, links not read before): "
              f"{statistics.median(redirect):,.0f} redirects/s "
              f"(rounds: {', '.join(f'{r:,.0f}' for r in redirect)})")  # fmt: skip
        print(f"short link redirect (counted, links already read by the workers): "
              f"{again:,.0f} redirects/s")  # fmt: skip
        print(f"redirect / bare view: {statistics.median(redirect) / statistics.median(bare):.2f}; "
              f"target ≥ 2,000 redirects/s with PostgreSQL")  # fmt: skip
        print("CPU µs per request (median of rounds): gunicorn / PostgreSQL backends / clients")
        for label, name in (("bare", "bare view"), ("cold", "redirect, link not read before"),
                            ("cached", "redirect, link cached")):  # fmt: skip
            rows = args.cpu.get(label, [])
            if rows:
                med = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
                print(f"  {name}: {med['server']:,.0f} / {med['database']:,.0f} / "
                      f"{med['clients']:,.0f}")  # fmt: skip
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait()
    waiting = clicks.pending()
    started = time.perf_counter()
    flushed = clicks.flush()
    took = time.perf_counter() - started
    total = ShortLink.objects.aggregate(n=Sum("clicks"))["n"]
    clicked = ShortLink.objects.filter(first_click_at__isnull=False).count()
    print(f"clicks in Redis after the rounds: {waiting:,}; {flushed:,} flushed in {took:.2f} s; counted in "
          f"the database: {total:,} on {clicked:,} links; redirects made: {made:,} "
          f"({'all counted' if total == made else 'MISMATCH'})")  # fmt: skip
    connection.close()
    if PG_URL.startswith("postgres"):
        admin.execute(f"DROP DATABASE IF EXISTS {DB_NAME}")


if __name__ == "__main__":
    main()
