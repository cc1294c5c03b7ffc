"""Sending under faults, with real processes and no mocks (issue 15, "Prove it in CI").

Each test starts its own Redis (no persistence, as in production), a real Celery worker and
beat, and a "web" process that submits the job (tests/faults.py), then breaks something in the
middle of a send of FAULT_N messages (default 20,000): the worker's process group SIGKILLed
twice, Redis SIGKILLed and restarted empty, the broker down when the job is submitted,
PostgreSQL stopped for 40 s, RabbitMQ as the broker. Each asserts that every message reaches
a final state within a bounded time after the fault, that the simulator accepted each message
once and under the operator id the message records, that the ledger equals the balance and
that credits charged = credits of messages kept + credits refunded.

Timings are printed (run with -s), never asserted beyond the bounds.
"""

import os
import subprocess
import sys
import time
from decimal import Decimal

import pytest
from django.db import connection

from messaging.models import OutgoingMessage, SmsJob
from tests.accounts.factories import AccountFactory, MembershipFactory, UserFactory
from tests.conftest import ON_POSTGRES, require
from tests.faults import (
    BASE_DIR,
    PostgresCluster,
    Rig,
    Timeline,
    database_url,
    job_outcome,
    port_open,
    short_tmpdir,
    status_counts,
    wait_for,
)

pytestmark = [pytest.mark.faults, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

N = int(os.environ.get("FAULT_N", "20000"))
# A fault strikes once this many more messages have been submitted, so it lands mid-send.
STEP = max(N // 10, 1)
# Every message must be final this long after the (last) fault: a lease (5 s), a pump slot
# (3 s), worker restarts, the reports sweep (30 s) for reports that came before their
# submission was recorded, and the simulator's delivery delays (≤ 5 s), with room to spare on a
# loaded CI machine.
FINAL_WITHIN = 100.0
AMQP_URL = "amqp://guest:guest@127.0.0.1:5672//"


@pytest.fixture
def rig(settings, request):
    db = connection.settings_dict
    require(
        not (db["ENGINE"].endswith("sqlite3") and "memory" in str(db["NAME"])),
        "the test database must be a file the worker can open",
    )
    rig = Rig(
        tmp=short_tmpdir("faults-"),
        logs=settings.VAR_DIR / "faults" / request.node.name,
        database_url=database_url(db),
    )
    yield rig
    rig.stop()


def customer(credits: int):
    user = UserFactory()
    account = AccountFactory(credits_amount=str(credits))
    MembershipFactory(user=user, account=account)
    return account, user


def submit(rig: Rig, account, user) -> int:
    answer = rig.web("submit", "--account", str(account.pk), "--user", str(user.pk), "--n", str(N))
    rig.note(f"job {answer['job']} submitted ({N} messages, {answer['seconds']} s)")
    return answer["job"]


def wait_advanced(rig: Rig, timeline: Timeline, at_least: int, *, timeout: float = 45) -> int:
    """Wait until `at_least` messages are submitted (or final); fail if the send completes
    first, since the fault would then not land mid-send."""
    reached = wait_for(
        lambda: timeline.advanced(timeline.sample()) >= at_least,
        timeout=timeout,
        every=0.05,
        tick=rig.supervise,
    )
    done = timeline.advanced(timeline.sample(every=0))
    assert reached, f"only {done} submitted after {timeout}s\n{timeline}\n{rig.diagnosis()}"
    assert done < N, f"the send completed before the fault ({done}): raise FAULT_N"
    return done


def settle(rig: Rig, timeline: Timeline, job_id: int, *, fault_at: float) -> float:
    """Wait for every message to be final (restarting what dies, as a supervisor would);
    returns the seconds from the fault to the last final state."""
    every_final = wait_for(
        lambda: timeline.final(timeline.sample()) == N,
        timeout=FINAL_WITHIN,
        every=0.5,
        tick=rig.supervise,
    )
    took = time.monotonic() - fault_at
    timeline.sample(every=0)
    assert every_final, (
        f"not every message final {FINAL_WITHIN:.0f}s after the fault\n{timeline}\n"
        f"{rig.diagnosis()}"
    )
    rig.note(f"every message final, {took:.1f}s after the fault")
    return took


def check(outcome: dict, *, name: str, rig: Rig, timeline: Timeline, took: float) -> None:
    print(
        f"\n[faults] {name}: N={N} wall {time.monotonic() - rig.t0:.1f}s, "
        f"fault -> all final {took:.1f}s\n{timeline}\n" + "\n".join(rig.events)
    )
    assert outcome["counts"] == {"delivered": N}, outcome  # the simulator's errors are off
    assert outcome["job_status"] == SmsJob.Status.DONE
    # One acceptance per message, under the operator id the message records.
    assert outcome["simulator_submissions"] == N, outcome
    assert outcome["simulator_mismatches"] == 0, outcome
    assert outcome["simulator_accepted_twice"] == 0, outcome
    assert outcome["operator_ids_unique"] == N, outcome
    # The books.
    assert Decimal(outcome["ledger"]) == Decimal(outcome["balance"]), outcome
    assert Decimal(outcome["charged"]) == N
    assert Decimal(outcome["charged"]) == (
        Decimal(outcome["credits_kept"]) + Decimal(outcome["refunded"])
    ), outcome
    assert Decimal(outcome["refunded"]) == Decimal(outcome["credits_of_refunded_messages"])
    # Beat is never killed and reconnects by itself. The worker may not: kombu's Redis
    # transport can die ("Unrecoverable error") when the broker goes while a task is
    # unacknowledged; supervise() starts it again, as docker-compose's restart policy would.
    assert rig.starts["beat"] == 1, rig.events


def test_a_worker_killed_twice_mid_send_loses_nothing_and_sends_nothing_twice(rig, request):
    rig.redis.start()
    rig.start_worker()
    rig.start_beat()
    account, user = customer(N + 100)
    job_id = submit(rig, account, user)
    timeline = Timeline(lambda: status_counts(job_id))

    done = 0
    for _ in range(2):
        done = wait_advanced(rig, timeline, done + STEP)
        rig.kill_worker()
        rig.note(f"{timeline.advanced(timeline.sample(every=0))} submitted at the kill")
        rig.start_worker(wait_ready=False)
    took = settle(rig, timeline, job_id, fault_at=time.monotonic())

    check(job_outcome(job_id), name=request.node.name, rig=rig, timeline=timeline, took=took)
    account.refresh_from_db()
    assert account.credits == 100


def test_redis_killed_mid_send_and_restarted_empty(rig, request):
    rig.redis.start()
    rig.start_worker()
    rig.start_beat()
    account, user = customer(N + 100)
    job_id = submit(rig, account, user)
    timeline = Timeline(lambda: status_counts(job_id))

    wait_advanced(rig, timeline, STEP)
    rig.redis.kill()
    rig.note(f"Redis SIGKILLed, {timeline.advanced(timeline.sample(every=0))} submitted")
    wait_for(lambda: False, timeout=3, every=0.5, tick=rig.supervise)  # the supervisor's delay
    rig.redis.start()
    rig.note("Redis started again, empty")
    took = settle(rig, timeline, job_id, fault_at=time.monotonic())

    check(job_outcome(job_id), name=request.node.name, rig=rig, timeline=timeline, took=took)


def test_a_send_submitted_while_the_broker_is_down_is_sent_once_it_is_back(rig, request):
    rig.redis.start()
    rig.start_worker()
    rig.start_beat()
    rig.redis.kill()
    rig.note("Redis SIGKILLed before the submission")
    account, user = customer(N + 100)

    # The web process's wake-up fails: the submission still succeeds and charges.
    job_id = submit(rig, account, user)
    assert "broker unavailable" in rig.web_stderr, rig.web_stderr[-2000:]
    account.refresh_from_db()
    assert account.credits == 100
    timeline = Timeline(lambda: status_counts(job_id))
    # Nothing else wakes the pumps while the broker is down: the job waits, queued.
    wait_for(lambda: False, timeout=5, every=0.5, tick=rig.supervise)
    assert SmsJob.objects.get(pk=job_id).status == SmsJob.Status.QUEUED
    assert timeline.advanced(timeline.sample(every=0)) == 0

    rig.redis.start()
    rig.note("Redis started")
    took = settle(rig, timeline, job_id, fault_at=time.monotonic())

    check(job_outcome(job_id), name=request.node.name, rig=rig, timeline=timeline, took=took)


def test_a_worker_killed_mid_send_with_rabbitmq_as_the_broker(rig, request):
    require(port_open("127.0.0.1", 5672), "RabbitMQ not reachable on 127.0.0.1:5672")
    rig.env["CELERY_BROKER_URL"] = AMQP_URL  # Redis (the rig's) stays the cache
    try:
        rig.redis.start()
        rig.start_worker()
        rig.start_beat()
        account, user = customer(N + 100)
        job_id = submit(rig, account, user)
        timeline = Timeline(lambda: status_counts(job_id))

        wait_advanced(rig, timeline, STEP)
        rig.kill_worker()
        rig.note(f"{timeline.advanced(timeline.sample(every=0))} submitted at the kill")
        rig.start_worker(wait_ready=False)
        took = settle(rig, timeline, job_id, fault_at=time.monotonic())

        check(job_outcome(job_id), name=request.node.name, rig=rig, timeline=timeline, took=took)
    finally:
        rig.stop()  # before the queue goes: beat would declare it again
        from kombu import Connection

        with Connection(AMQP_URL, connect_timeout=5) as conn:
            conn.default_channel.queue_delete(rig.queue)
            conn.default_channel.exchange_delete(rig.queue)


# --- PostgreSQL stopped for 40 s (a cluster of the test's own) ------------------------------

OUTAGE_SECONDS = 40


def _pg_counts(url: str, job_id: int, last: dict) -> dict:
    """Counts read straight from the test's cluster (the test process's Django is on the
    pytest database); while it is down, the last counts read."""
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=2) as conn:
            rows = conn.execute(
                f"SELECT status, count(*) FROM {OutgoingMessage._meta.db_table} "
                "WHERE job_id = %s GROUP BY status",
                [job_id],
            ).fetchall()
    except psycopg.OperationalError:
        return last
    last.clear()
    last.update(dict(rows))
    return dict(last)


@pytest.mark.skipif(not ON_POSTGRES, reason="the PostgreSQL run stops a PostgreSQL cluster")
def test_postgresql_stopped_for_40_seconds_mid_send(settings, request):
    require(
        PostgresCluster.available(),
        "initdb, pg_ctl and runuser (as root) start a PostgreSQL cluster the test may stop",
    )
    pg = PostgresCluster(short_tmpdir("faults-pg-"))
    rig = None
    try:
        pg.init()
        pg.createdb("faults")
        url = pg.url("faults")
        rig = Rig(
            tmp=short_tmpdir("faults-"),
            logs=settings.VAR_DIR / "faults" / request.node.name,
            database_url=url,
        )
        migrated = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput"],
            cwd=BASE_DIR,
            env=rig.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert migrated.returncode == 0, migrated.stderr[-4000:]
        rig.note("cluster initialised and migrated")
        ids = rig.web("setup", "--credits", str(N + 100))
        rig.redis.start()
        rig.start_worker()
        rig.start_beat()
        answer = rig.web(
            "submit", "--account", str(ids["account"]), "--user", str(ids["user"]), "--n", str(N)
        )
        job_id = answer["job"]
        rig.note(f"job {job_id} submitted ({N} messages, {answer['seconds']} s)")
        last: dict = {}
        timeline = Timeline(lambda: _pg_counts(url, job_id, last))

        wait_advanced(rig, timeline, STEP)
        pg.stop("fast")
        rig.note(f"PostgreSQL stopped, {timeline.advanced(last)} submitted")
        wait_for(lambda: False, timeout=OUTAGE_SECONDS, every=1, tick=rig.supervise)
        pg.start()
        rig.note("PostgreSQL started again")
        took = settle(rig, timeline, job_id, fault_at=time.monotonic())

        outcome = rig.web("outcome", "--job", str(job_id))
        check(outcome, name=request.node.name, rig=rig, timeline=timeline, took=took)
        assert Decimal(outcome["balance"]) == 100
    finally:
        if rig is not None:
            rig.stop()
        pg.destroy()
