"""Real processes for the dispatch fault tests (tests/messaging/test_faults.py): a Redis server
of the test's own, Celery worker and beat, a "web" process that submits, and a PostgreSQL
cluster of the test's own. Nothing here is mocked; every process is started by the test, killed
by its process group, and stopped in teardown.

Run as a module, it is that web process (the same settings and environment as the worker):

    python -m tests.faults setup --credits 20100      → {"account": …, "user": …}
    python -m tests.faults submit --account A --user U --n 20000   → {"job": …, "seconds": …}
    python -m tests.faults outcome --job J            → job_outcome(J)

Submitting from a process configured like the worker's means the submission's own wake-up
goes to the test's broker, as a real web process's would: with that broker down, the
submission must still succeed.
"""

from __future__ import annotations

import collections
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from smspanel import embedded_redis

BASE_DIR = Path(__file__).resolve().parent.parent
FINAL = ("delivered", "undelivered", "failed", "expired")
REFUNDED = ("failed", "expired")
NOT_DONE = ("queued", "submitting")


def short_tmpdir(prefix: str) -> Path:
    """A directory under /tmp: Unix socket paths must stay short, and the postgres user must
    be able to reach it (pytest's tmp_path is private to root)."""
    return Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def kill_group(proc: subprocess.Popen | None) -> None:
    """SIGKILL a process started with start_new_session=True and everything it forked."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=30)


class RedisServer:
    """redis-server on a Unix socket, without persistence (the production shape): killed, it
    comes back empty."""

    def __init__(self, directory: Path):
        self.dir = directory
        self.sock = str(directory / "redis.sock")
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:  # the cache (django-redis syntax)
        return f"unix://{self.sock}?db=0"

    @property
    def broker_url(self) -> str:  # kombu's spelling of the same socket
        return f"redis+socket://{self.sock}"

    def answers(self) -> bool:
        return embedded_redis.answers(self.sock)

    def start(self) -> None:
        Path(self.sock).unlink(missing_ok=True)
        self.proc = subprocess.Popen(
            [
                embedded_redis.executable(),
                "--port", "0",
                "--unixsocket", self.sock,
                "--unixsocketperm", "700",
                "--save", "",
                "--appendonly", "no",
                "--dir", str(self.dir),
                "--logfile", str(self.dir / "redis.log"),
            ],  # fmt: skip
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        while not self.answers():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start:\n{tail(self.dir / 'redis.log')}")
            time.sleep(0.05)

    def kill(self) -> None:
        kill_group(self.proc)
        self.proc = None


def database_url(settings_dict: dict) -> str:
    """The URL of the database the test process uses, for the processes it starts."""
    if settings_dict["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{settings_dict['NAME']}"
    return (
        f"postgres://{settings_dict['USER']}:{settings_dict['PASSWORD'] or ''}"
        f"@{settings_dict['HOST'] or '127.0.0.1'}:{settings_dict['PORT'] or 5432}"
        f"/{settings_dict['NAME']}"
    )


class Rig:
    """One test's processes: its Redis, Celery worker and beat, the web process's commands.

    `supervise()` plays the operator's process supervisor (systemd Restart=always): a worker
    or beat that exits on its own is started again, and the event is recorded."""

    def __init__(self, *, tmp: Path, logs: Path, database_url: str, broker_url: str = ""):
        self.tmp = tmp
        self.logs = logs
        logs.mkdir(parents=True, exist_ok=True)
        self.redis = RedisServer(tmp)
        self.queue = f"faults-{uuid.uuid4().hex[:10]}"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "smspanel.settings",
            "DATABASE_URL": database_url,
            "REDIS_URL": self.redis.url,
            "CELERY_BROKER_URL": broker_url or self.redis.broker_url,
            "CELERY_QUEUE": self.queue,
            "DISPATCH_LEASE_SECONDS": "5",
            "DISPATCH_SLOT_SECONDS": "3",
            "SMS_SIMULATOR_ERRORS_OFF": "1",
            "SMS_SIMULATOR_DELAY_MEDIAN_S": "1",
            "SMS_SIMULATOR_DELAY_MAX_S": "5",
            "PYTHONUNBUFFERED": "1",
        }
        self.worker: subprocess.Popen | None = None
        self.beat: subprocess.Popen | None = None
        self.starts = {"worker": 0, "beat": 0}
        self.events: list[str] = []
        self.web_stderr = ""  # the last web command's log
        self.t0 = time.monotonic()

    def note(self, event: str) -> None:
        self.events.append(f"{time.monotonic() - self.t0:6.1f}s {event}")

    def _celery(self, role: str, *args: str) -> subprocess.Popen:
        self.starts[role] += 1
        log = self.logs / f"{role}-{self.starts[role]}.log"
        return subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "smspanel", role, "--loglevel=INFO", *args],
            cwd=BASE_DIR,
            env=self.env,
            start_new_session=True,  # its own process group, so SIGKILL takes the pool too
            stdout=open(log, "w"),  # noqa: SIM115 - the child keeps it
            stderr=subprocess.STDOUT,
        )

    def worker_log(self) -> Path:
        return self.logs / f"worker-{self.starts['worker']}.log"

    def start_worker(self, *, wait_ready: bool = True) -> None:
        self.worker = self._celery(
            "worker",
            "--concurrency=2",
            "--without-mingle",
            "--without-gossip",
            "-n",
            f"{self.queue}-{self.starts['worker'] + 1}@%h",
        )
        self.note(f"worker started (pid {self.worker.pid})")
        if wait_ready:
            self.wait_log(self.worker_log(), " ready.", timeout=60)

    def start_beat(self) -> None:
        self.beat = self._celery(
            "beat", f"--schedule={self.tmp / 'beat-schedule'}", f"--pidfile={self.tmp}/beat.pid"
        )
        self.note(f"beat started (pid {self.beat.pid})")

    def kill_worker(self) -> None:
        kill_group(self.worker)
        self.note("worker process group SIGKILLed")

    def supervise(self) -> None:
        if self.worker is not None and self.worker.poll() is not None:
            self.note(f"worker exited by itself (rc {self.worker.returncode}): restarted")
            self.start_worker(wait_ready=False)
        if self.beat is not None and self.beat.poll() is not None:
            self.note(f"beat exited by itself (rc {self.beat.returncode}): restarted")
            self.start_beat()

    def wait_log(self, path: Path, text: str, timeout: float) -> None:
        def logged():
            return path.exists() and text in path.read_text(errors="replace")

        if not wait_for(logged, timeout=timeout):
            raise AssertionError(f"{text!r} never appeared in {path}:\n{tail(path)}")

    def web(self, *args: str, timeout: float = 120) -> dict:
        """Run `python -m tests.faults …` (the web process) and return its JSON answer."""
        done = subprocess.run(
            [sys.executable, "-m", "tests.faults", *args],
            cwd=BASE_DIR,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert done.returncode == 0, f"web process failed ({args}):\n{done.stderr[-4000:]}"
        self.web_stderr = done.stderr
        return json.loads(done.stdout.strip().splitlines()[-1])

    def diagnosis(self) -> str:
        parts = ["events:", *self.events]
        for role in ("worker", "beat"):
            path = self.logs / f"{role}-{self.starts[role]}.log"
            parts += [f"--- {path}", tail(path, 25)]
        return "\n".join(parts)

    def stop(self) -> None:
        kill_group(self.worker)
        kill_group(self.beat)
        self.redis.kill()
        shutil.rmtree(self.tmp, ignore_errors=True)


class Timeline:
    """Counts of a job's messages by status, sampled while a scenario runs."""

    def __init__(self, counts):
        self.counts = counts  # () -> {status: n}
        self.samples: list[tuple[float, dict]] = []
        self.t0 = time.monotonic()
        self._last = -1.0

    def sample(self, *, every: float = 2.0) -> dict:
        counts = self.counts()
        now = time.monotonic() - self.t0
        if now - self._last >= every:
            self.samples.append((now, counts))
            self._last = now
        return counts

    def advanced(self, counts: dict) -> int:
        """Messages whose submission is recorded (submitted or final)."""
        return sum(n for status, n in counts.items() if status not in NOT_DONE)

    def final(self, counts: dict) -> int:
        return sum(counts.get(status, 0) for status in FINAL)

    def __str__(self) -> str:
        return "\n".join(f"{t:6.1f}s {dict(sorted(c.items()))}" for t, c in self.samples)


def wait_for(predicate, *, timeout: float, every: float = 0.1, tick=None) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if tick is not None:
            tick()
        if predicate():
            return True
        time.sleep(every)
    return False


# --- PostgreSQL cluster of the test's own ---------------------------------------------------


def pg_bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else None


class PostgresCluster:
    """initdb'd into a temporary directory, run as the postgres user on a free port: the test
    may stop it, unlike the machine's own server."""

    def __init__(self, directory: Path):
        self.dir = directory
        self.data = directory / "data"
        self.port = free_port()

    @staticmethod
    def available() -> bool:
        return bool(pg_bin("initdb") and pg_bin("pg_ctl") and shutil.which("runuser")) and (
            os.geteuid() == 0
        )

    def _as_postgres(self, *args: str, timeout: float = 120) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *args],
            check=True,
            capture_output=True,
            timeout=timeout,
        )

    def url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def init(self) -> None:
        shutil.chown(self.dir, "postgres", "postgres")
        self._as_postgres(
            pg_bin("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
            "-E", "UTF8", "--no-sync",
        )  # fmt: skip
        self.start()

    def start(self) -> None:
        self._as_postgres(
            pg_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "postgres.log"), "-w",
            "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off",
            "start",
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        if (self.data / "postmaster.pid").exists():
            self._as_postgres(pg_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def createdb(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')

    def destroy(self) -> None:
        try:
            self.stop("immediate")
        except subprocess.SubprocessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


# --- The web process's side (runs with Django set up) ---------------------------------------


def job_outcome(job_id: int) -> dict:
    """Everything the fault tests assert about a job, read from the database."""
    from django.db.models import Count, Max, Min, Q, Sum

    from accounts.models import CreditMovement
    from messaging.ledger import refund_key
    from messaging.models import OutgoingMessage, SimulatorBatch, SmsJob, UnmatchedReport

    job = SmsJob.objects.get(pk=job_id)
    messages = OutgoingMessage.objects.filter(job_id=job_id)
    by_status = messages.values_list("status").annotate(n=Count("id"), c=Sum("credits")).order_by()
    counts = {status: n for status, n, _c in by_status}
    credits = {status: c for status, _n, c in by_status}
    ours = dict(messages.values_list("id", "operator_id"))
    span = messages.aggregate(lo=Min("id"), hi=Max("id"))
    # What the simulator accepted (its operator id is "sim-<id>"), and how many times each.
    accepted = collections.Counter(
        pk
        for ranges in SimulatorBatch.objects.filter(
            last_id__gte=span["lo"] or 0, first_id__lte=span["hi"] or 0
        ).values_list("ranges", flat=True)
        for first, last in ranges
        for pk in range(first, last + 1)
    )
    theirs = {pk: f"sim-{pk}" for pk in accepted}
    movements = CreditMovement.objects.filter(account_id=job.account_id)
    charged = -(
        movements.filter(key=f"job:{job_id}:debit").aggregate(s=Sum("amount"))["s"] or 0
    )
    refunded = (
        movements.filter(
            Q(key__startswith=f"job:{job_id}:")
            | Q(key__in=[refund_key(pk) for pk in messages.values_list("id", flat=True)]),
            kind="refund",
        ).aggregate(
            s=Sum("amount")
        )["s"]
        or 0
    )
    job.account.refresh_from_db()
    return {
        "job_status": job.status,
        "counts": counts,
        "messages": sum(counts.values()),
        "operator_ids_unique": len({op for op in ours.values() if op}),
        "simulator_submissions": sum(1 for pk in theirs if pk in ours),
        "simulator_mismatches": sum(1 for pk, op in theirs.items() if pk in ours and ours[pk] != op),
        "simulator_accepted_twice": sum(1 for pk, n in accepted.items() if pk in ours and n > 1),
        "unmatched_reports": UnmatchedReport.objects.count(),
        "balance": str(job.account.credits),
        "ledger": str(movements.aggregate(s=Sum("amount"))["s"] or 0),
        "charged": str(charged),
        "refunded": str(refunded),
        "credits_kept": str(sum(c for s, c in credits.items() if s not in REFUNDED) or 0),
        "credits_of_refunded_messages": str(sum(c for s, c in credits.items() if s in REFUNDED) or 0),
    }


def status_counts(job_id: int) -> dict:
    from django.db.models import Count

    from messaging.models import OutgoingMessage

    return dict(
        OutgoingMessage.objects.filter(job_id=job_id)
        .values_list("status")
        .annotate(n=Count("id"))
        .order_by()
    )


def _setup(credits: str) -> dict:
    from tests.accounts.factories import AccountFactory, MembershipFactory, UserFactory

    tag = uuid.uuid4().hex[:8]
    user = UserFactory(email=f"faults-{tag}@example.com")
    account = AccountFactory(name=f"sms-ft{tag[:5]}-1", credits_amount=credits)
    MembershipFactory(user=user, account=account)
    return {"account": account.pk, "user": user.pk}


def _submit(account_id: int, user_id: int, n: int) -> dict:
    from accounts.models import SmsAccount, User
    from core import recipients
    from messaging import services

    parsed = recipients.parse("\n".join(f"+3361{i:07d}" for i in range(n)), "FR")
    started = time.monotonic()
    job = services.job_submit(
        account=SmsAccount.objects.get(pk=account_id),
        user=User.objects.get(pk=user_id),
        message="Livraison demain",
        parsed=parsed,
        stop_clause=False,
    )
    return {"job": job.pk, "seconds": round(time.monotonic() - started, 2)}


def main(argv: list[str]) -> None:
    import argparse

    import django

    parser = argparse.ArgumentParser(prog="python -m tests.faults")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("setup").add_argument("--credits", required=True)
    submit = sub.add_parser("submit")
    for name in ("--account", "--user", "--n"):
        submit.add_argument(name, type=int, required=True)
    sub.add_parser("outcome").add_argument("--job", type=int, required=True)
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smspanel.settings")
    django.setup()
    if args.command == "setup":
        answer = _setup(args.credits)
    elif args.command == "submit":
        answer = _submit(args.account, args.user, args.n)
    else:
        answer = job_outcome(args.job)
    print(json.dumps(answer))


if __name__ == "__main__":
    main(sys.argv[1:])
