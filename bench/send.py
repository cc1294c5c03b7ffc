"""End-to-end sending throughput: one job to N recipients through a real Celery worker
(2 processes, 2 pumps), Redis and the simulated operator (errors off), next to the naive
one-task-per-message dispatch measured in the same run. Prints the seconds per stage the
worker's pumps logged, and the same job with 1 worker process next to 2.

    .venv/bin/python bench/send.py [--n 100000] [--naive 10000] [--smoke]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/send.py

On PostgreSQL the script creates and drops its own database (bench_send). Without REDIS_URL it
starts an embedded Redis in a temporary directory (and stops it at the end).
"""

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
VAR = tempfile.mkdtemp(prefix="smspanel-bench-send-")
os.environ["SMSPANEL_VAR_DIR"] = VAR
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smspanel.settings")
os.environ["SMS_SIMULATOR_ERRORS_OFF"] = "1"
# Deliveries within seconds, so "all delivered" measures the pipeline, not a long tail.
os.environ.setdefault("SMS_SIMULATOR_DELAY_MEDIAN_S", "1")
os.environ.setdefault("SMS_SIMULATOR_DELAY_MAX_S", "5")
os.environ["CELERY_QUEUE"] = f"bench-{os.getpid()}"
os.environ["CELERY_DB_REUSE_MAX"] = "100000"  # Celery would otherwise reconnect per task

PG_URL = os.environ.get("DATABASE_URL", "")
if PG_URL.startswith("postgres"):
    import psycopg

    parts = urlsplit(PG_URL)
    admin = psycopg.connect(PG_URL, autocommit=True)
    admin.execute("DROP DATABASE IF EXISTS bench_send")
    admin.execute("CREATE DATABASE bench_send")
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path="/bench_send"))

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts import services as account_services  # noqa: E402
from accounts.models import User  # noqa: E402
from core import recipients  # noqa: E402
from messaging import dispatch, services  # noqa: E402
from messaging.models import OutgoingMessage, PendingChunk, SmsJob  # noqa: E402
from messaging.operator.simulated import deliver_due_events  # noqa: E402


def start_worker(processes: int = 2) -> subprocess.Popen:
    env = {**os.environ, "DISPATCH_PUMPS": str(processes)}
    if connection.vendor == "sqlite":
        env["DATABASE_URL"] = f"sqlite:///{settings.DATABASES['default']['NAME']}"
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "smspanel", "worker", f"--concurrency={processes}",
         "--loglevel=INFO", "--without-mingle", "--without-gossip", "-I", "bench.naive_tasks"],
        cwd=ROOT, env=env, start_new_session=True,
        stdout=open(Path(VAR) / f"worker-{processes}.log", "a"), stderr=subprocess.STDOUT,
    )  # fmt: skip


def group_cpu(pgid: int) -> float:
    """CPU seconds (user + system) used so far by the live processes of a process group."""
    tick, total = os.sysconf("SC_CLK_TCK"), 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # ended meanwhile
            if int(fields[2]) == pgid:
                total += int(fields[11]) + int(fields[12])
    return total / tick


def stop_worker(worker: subprocess.Popen) -> None:
    os.killpg(worker.pid, signal.SIGTERM)
    worker.wait(timeout=60)


STAGE_LINE = re.compile(r"dispatch pump: (\d+) messages; seconds: (.*)$")


def pump_stages(processes: int) -> tuple[int, dict[str, float]]:
    """Sum the seconds per stage that the worker's pumps logged (messaging.dispatch)."""
    handed, stages = 0, {}
    for line in (Path(VAR) / f"worker-{processes}.log").read_text().splitlines():
        if m := STAGE_LINE.search(line):
            handed += int(m[1])
            for part in m[2].split(", "):
                name, seconds = part.rsplit(" ", 1)
                stages[name] = stages.get(name, 0.0) + float(seconds)
    (Path(VAR) / f"worker-{processes}.log").write_text("")
    return handed, stages


def send_and_wait(account, user, start: int, n: int, *, wake: bool = True):
    """Submit one job (the form's work) and wait until every message is submitted."""
    t0 = time.perf_counter()
    parsed = recipients.parse(numbers(start, n), "FR")
    t_parsed = time.perf_counter()
    job = services.job_submit(
        account=account, user=user, message="Bench", parsed=parsed, stop_clause=False
    )  # autocommit: the pumps are woken at once
    t_submit = time.perf_counter()
    # The job is "done" when no message is left to submit (its rows are written by the
    # pump for a job this size, so "no queued row" alone proves nothing).
    t_done = wait_until(lambda: SmsJob.objects.get(pk=job.pk).status == "done")
    assert OutgoingMessage.objects.filter(job=job, status="submitted").count() == n
    return job, t0, t_parsed, t_submit, t_done


def wait_until(predicate, poll=0.05, timeout=3600):
    deadline = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() > deadline:
            raise TimeoutError
        time.sleep(poll)
    return time.perf_counter()


def numbers(start: int, n: int) -> str:
    return "\n".join(f"+336{i:08d}" for i in range(start, start + n))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--naive", type=int, default=10_000)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, to check it runs")
    args = parser.parse_args()
    if args.smoke:
        args.n, args.naive = 3000, 200

    call_command("migrate", verbosity=0)
    user = User.objects.create_user("bench@example.com", "bench-pass-123")
    account = account_services.account_open(user=user, free_credits=args.n * 3 + args.naive + 20)
    print(f"database: {connection.vendor}; broker: {settings.CELERY_BROKER_URL.split(':')[0]}; "
          f"worker: 1 (prefork); simulator errors off; {args.n:,} recipients")  # fmt: skip

    worker = start_worker(2)
    try:
        send_and_wait(account, user, 4 * args.n, 10)  # warm-up: the worker is up and connected
        pump_stages(2)
        # -- batched dispatch (the product), 2 worker processes -------------------------------
        cpu0 = group_cpu(worker.pid)
        job, t0, t_parsed, t_submit, t_all_submitted = send_and_wait(account, user, 0, args.n)
        worker_cpu2 = group_cpu(worker.pid) - cpu0
        msgs = OutgoingMessage.objects.filter(job=job)

        def delivered_all():
            deliver_due_events(limit=20_000)
            return not msgs.filter(status="submitted").exists()

        t_all_delivered = wait_until(delivered_all, poll=0.2)
        assert msgs.filter(status="delivered").count() == args.n
        time.sleep(0.5)  # the pumps' closing log lines
        handed2, stages2 = pump_stages(2)

        # -- naive baseline: one task per message ----------------------------------------------
        from bench.naive_tasks import naive_send

        naive_job = services.job_submit(
            account=account,
            user=user,
            message="Naive",
            parsed=recipients.parse(numbers(args.n, args.naive), "FR"),
            stop_clause=False,
            scheduled_at=timezone.now() + timezone.timedelta(days=1),
        )
        # Write its rows now without making them due: no pump may take them.
        for pending in PendingChunk.objects.filter(job=naive_job).order_by("seq"):
            # (a small job's rows are written at submission, with no chunk)
            dispatch.messages_insert(job=naive_job, rows=[tuple(r) for r in pending.rows], due=None)
            pending.delete()
        SmsJob.objects.filter(pk=naive_job.pk).update(status="sending")
        naive_msgs = OutgoingMessage.objects.filter(job=naive_job)
        ids = list(naive_msgs.values_list("id", flat=True))
        n0 = time.perf_counter()
        for pk in ids:
            naive_send.delay(pk)
        n_enqueued = time.perf_counter()
        n_all = wait_until(lambda: not naive_msgs.filter(status="queued").exists(), poll=0.2)
    finally:
        stop_worker(worker)

    # -- the same job with one worker process ------------------------------------------------
    worker = start_worker(1)
    try:
        send_and_wait(account, user, 4 * args.n + 10, 10)
        pump_stages(1)
        cpu0 = group_cpu(worker.pid)
        _job1, s0, _, _, s_done = send_and_wait(account, user, 2 * args.n, args.n)
        worker_cpu1 = group_cpu(worker.pid) - cpu0
        time.sleep(0.5)
        handed1, stages1 = pump_stages(1)
    finally:
        stop_worker(worker)

    batched = args.n / (t_all_submitted - t0)
    single = args.n / (s_done - s0)
    naive = args.naive / (n_all - n0)
    print(f"recipients parsed:            {args.n:,} in {t_parsed - t0:.2f} s")
    print(f"submission (parse + debit + insert, what the form does): {t_submit - t0:.2f} s")
    print(f"submit -> all submitted:      {t_all_submitted - t0:.2f} s = {batched:,.0f} msg/s")
    print(f"submit -> all delivered:      {t_all_delivered - t0:.2f} s = "
          f"{args.n / (t_all_delivered - t0):,.0f} msg/s (simulated delay: median {os.environ['SMS_SIMULATOR_DELAY_MEDIAN_S']} s, max {os.environ['SMS_SIMULATOR_DELAY_MAX_S']} s)")  # fmt: skip
    print(f"naive one-task-per-message:   {args.naive:,} in {n_all - n0:.2f} s = {naive:,.0f} msg/s "
          f"(enqueueing alone {n_enqueued - n0:.2f} s)")  # fmt: skip
    print(f"ratio batched / naive:        {batched / naive:.1f}x")
    print(f"1 worker process:             {s_done - s0:.2f} s = {single:,.0f} msg/s; "
          f"2 processes / 1: {batched / single:.2f}x")
    print(f"worker CPU per message (all its processes): 2 processes {worker_cpu2 / args.n * 1e6:.1f} µs, "
          f"1 process {worker_cpu1 / args.n * 1e6:.1f} µs (load average {os.getloadavg()[0]:.1f})")  # fmt: skip
    for label, handed, stages in (("2 processes", handed2, stages2), ("1 process", handed1, stages1)):
        total = sum(stages.values()) or 1
        print(f"pump seconds per stage, {label} ({handed:,} messages, summed over pumps): "
              + ", ".join(f"{k} {v:.2f} s ({v / total:.0%})" for k, v in stages.items()))


if __name__ == "__main__":
    try:
        main()
    finally:
        if settings.REDIS_EMBEDDED:
            from smspanel.embedded_redis import stop

            stop(settings.VAR_DIR, settings.REDIS_SOCKET)
        if PG_URL.startswith("postgres"):
            connection.close()
            admin.execute("DROP DATABASE IF EXISTS bench_send")
