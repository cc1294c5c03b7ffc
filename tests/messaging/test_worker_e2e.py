"""A real Celery worker against a real Redis and the test database.

It shows that a job submitted in the panel is dispatched by workers in separate processes, and
that a worker process killed in the middle of a batch loses nothing and sends nothing twice:
the batch is redelivered (acks_late + reject_on_worker_lost) and the operator, keyed by our
message ids, answers a resubmission with the first answer.
"""

import os
import signal
import subprocess
import sys
import time
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from core import recipients
from messaging import services
from messaging.models import OutgoingMessage, SimulatorSubmission, SmsJob
from messaging.operator.simulated import deliver_due_events
from tests.accounts.factories import AccountFactory, MembershipFactory, UserFactory, ledger_sum
from tests.conftest import require

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]

N = 6000


def _broker_reachable() -> bool:
    from smspanel.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return True
    except Exception:  # noqa: BLE001 - any failure means no broker
        return False


@pytest.fixture
def real_celery(settings):
    from smspanel.celery import app

    app.conf.task_always_eager = False
    require(_broker_reachable(), "Redis broker not reachable")
    # A queue of our own: a dev server's worker on the same Redis must not take our tasks.
    queue = f"e2e-{os.getpid()}"
    default_queue = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    os.environ["CELERY_QUEUE"] = queue
    settings.SMS_OPERATOR = {
        **settings.SMS_OPERATOR,
        "SIMULATOR": {**settings.SMS_OPERATOR["SIMULATOR"], "seed": 7},
    }
    yield app
    app.conf.task_default_queue = default_queue
    del os.environ["CELERY_QUEUE"]
    with app.connection_for_write() as conn:
        conn.default_channel.queue_delete(queue)


def _start_worker() -> subprocess.Popen:
    db = connection.settings_dict
    env = {**os.environ, "SMS_SIMULATOR_ERRORS_OFF": "1", "SMS_SIMULATOR_SEED": "7"}
    if db["ENGINE"].endswith("sqlite3"):
        env["DATABASE_URL"] = f"sqlite:///{db['NAME']}"
    else:
        env["DATABASE_URL"] = (
            f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}"
            f":{db['PORT'] or 5432}/{db['NAME']}"
        )
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "smspanel",
            "worker",
            "--concurrency=2",
            "--loglevel=INFO",
            "--without-mingle",
            "--without-gossip",
            "-n",
            f"e2e{time.time()}@%h",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        start_new_session=True,
        stdout=open(settings.VAR_DIR / "e2e-worker.log", "w"),  # noqa: SIM115
        stderr=subprocess.STDOUT,
    )


def _stop(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def _wait(predicate, timeout=120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def _counts(job):
    return dict(
        OutgoingMessage.objects.filter(job=job)
        .values_list("status")
        .annotate(n=__import__("django.db.models", fromlist=["Count"]).Count("id"))
    )


def test_a_killed_worker_loses_nothing_and_sends_nothing_twice(real_celery):
    user = UserFactory()
    account = AccountFactory(credits_amount=str(N + 100))
    MembershipFactory(user=user, account=account)
    parsed = recipients.parse("\n".join(f"+3361{i:07d}" for i in range(N)), "FR")
    job = services.job_submit(
        account=account, user=user, message="Livraison demain", parsed=parsed, stop_clause=False
    )  # the dispatch task is published on commit (autocommit here)
    submitted = OutgoingMessage.objects.filter(job=job, status="submitted")

    worker = _start_worker()
    try:
        # Kill the pool processes while batches are in flight.
        assert _wait(lambda: submitted.count() >= 500, timeout=20), (
            "the worker never started submitting"
        )
        killed = _children(worker.pid)
        assert killed, "no pool process to kill"
        for pid in killed:
            os.kill(pid, signal.SIGKILL)
        assert submitted.count() < N, "the job finished before the kill: raise N"
        # The main process replaces its pool and the lost batches are redelivered.
        assert _wait(lambda: submitted.count() == N, timeout=180), _counts(job)
        assert _wait(lambda: SmsJob.objects.get(pk=job.pk).status == "done", timeout=30)
    finally:
        _stop(worker)

    assert OutgoingMessage.objects.filter(job=job).count() == N
    assert SimulatorSubmission.objects.count() == N
    ops = list(OutgoingMessage.objects.filter(job=job).values_list("operator_id", flat=True))
    assert len(set(ops)) == N and "" not in ops

    # Reports come in: everything delivered; nothing refunded; the books balance.
    while deliver_due_events(now=timezone.now() + timezone.timedelta(minutes=10)):
        pass
    assert _counts(job) == {"delivered": N}
    account.refresh_from_db()
    assert account.credits == Decimal(100)
    assert ledger_sum(account) == account.credits
