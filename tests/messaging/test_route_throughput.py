"""A route's throughput limit holds across dispatcher processes (a counter in Redis); what a
dispatcher cannot send in time, or without the counter, waits in the queue, never lost.

The limit's clock and pause are a fake clock here: windows are counted, not timed."""

import threading
import uuid
from collections import Counter
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from core import recipients
from messaging import dispatch, routing, services
from messaging.models import OutgoingMessage

Q = OutgoingMessage.Status
LIMIT = 5  # messages a second


class FakeClock:
    """time.time() and time.sleep() for the throughput limit: sleeping moves time on."""

    def __init__(self, start=1_000_000.0):
        self.t, self.start, self.lock = start, start, threading.Lock()

    def now(self):
        with self.lock:
            return self.t

    def sleep(self, seconds):
        with self.lock:
            self.t += seconds


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(routing, "_now", fake.now)
    monkeypatch.setattr(routing, "_sleep", fake.sleep)
    return fake


@pytest.fixture
def submitted(monkeypatch):
    """Every message id the route's operator was handed, in order."""
    seen, lock, real = [], threading.Lock(), routing.operator_for

    def recording(route):
        operator = real(route)

        class Recorder:
            def submit(self, messages):
                with lock:
                    seen.extend(m.message_id for m in messages)
                return operator.submit(messages)

        return Recorder()

    monkeypatch.setattr(routing, "operator_for", recording)
    return seen


@pytest.fixture
def slow_route(make_route):
    return make_route("slow", {"FR": "0.01"}, throughput=LIMIT)


@pytest.fixture
def submit(account, owner, monkeypatch):
    """A job to n French numbers, committed but not dispatched (no pump woken)."""
    monkeypatch.setattr(dispatch, "pumps_wake", lambda: 0)

    def _submit(n):
        numbers = "\n".join(f"+336123{i:05d}" for i in range(n))
        return services.job_submit(
            account=account,
            user=owner,
            message="Bonjour",
            parsed=recipients.parse(numbers, "FR"),
            stop_clause=False,
        )

    return _submit


def granted_per_window(route, clock) -> list[int]:
    """What the shared counter granted in each one-second window the run went through."""
    first, last = int(clock.start), int(clock.now())
    return [cache.get(f"route:{route.pk}:throughput:{w}") or 0 for w in range(first, last + 1)]


@pytest.fixture(params=["locmem", "redis"])
def shared_cache(request, settings):
    """The test cache, or the real Redis every process of a deployment shares."""
    if request.param == "redis":
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": settings.REDIS_URL,
                "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
            }
        }
    return request.param


@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_together_keep_to_the_routes_throughput(
    shared_cache, settings, clock, submitted, slow_route, submit
):
    settings.DISPATCH = {**settings.DISPATCH, "BATCH": 10, "LEASE_SECONDS": 600}
    job = submit(40)
    start = threading.Barrier(2)

    def dispatcher():
        try:
            start.wait()
            dispatch.pump(budget=60)
        finally:
            connection.close()

    threads = [threading.Thread(target=dispatcher) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    windows = granted_per_window(slow_route, clock)
    assert sum(windows) == 40
    assert max(windows) <= LIMIT  # two dispatchers, one route's limit
    assert len([w for w in windows if w]) >= 40 // LIMIT
    assert sorted(Counter(submitted).values()) == [1] * 40  # each message handed over once
    statuses = Counter(OutgoingMessage.objects.filter(job=job).values_list("status", flat=True))
    assert statuses == {Q.SUBMITTED: 40}


@pytest.mark.django_db
def test_what_the_route_cannot_take_in_time_goes_back_to_the_queue(
    settings, clock, submitted, slow_route, submit
):
    """Two windows' worth fit in the wait (a third of the lease, 1 s here); the other
    messages are given back unclaimed, then sent by later dispatches."""
    settings.DISPATCH = {**settings.DISPATCH, "LEASE_SECONDS": 3}
    job = submit(12)

    dispatch.pump(budget=5)

    rows = OutgoingMessage.objects.filter(job=job)
    assert len(submitted) == 2 * LIMIT
    assert rows.filter(status=Q.SUBMITTED).count() == 2 * LIMIT
    waiting = rows.filter(status=Q.QUEUED)
    assert waiting.count() == 2
    assert set(waiting.values_list("attempts", flat=True)) == {0}  # the claim is not counted
    assert all(m.next_attempt_at > timezone.now() for m in waiting)

    dispatch.pump(now=timezone.now() + timedelta(seconds=2), budget=5)

    assert rows.filter(status=Q.SUBMITTED).count() == 12
    assert sorted(Counter(submitted).values()) == [1] * 12
    assert max(granted_per_window(slow_route, clock)) <= LIMIT


@pytest.mark.django_db
def test_without_the_counter_messages_wait_in_the_queue(
    settings, clock, submitted, slow_route, submit
):
    """Redis unreachable: nobody knows what the other dispatchers sent, so nothing goes to the
    route; the messages wait queued (no attempt counted, nothing failed) and go once it is back."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",  # nothing listens there
        }
    }
    job = submit(3)

    dispatch.pump(budget=5)

    rows = OutgoingMessage.objects.filter(job=job)
    assert submitted == []
    assert set(rows.values_list("status", "attempts")) == {(Q.QUEUED, 0)}
    assert all(m.next_attempt_at > timezone.now() for m in rows)

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    dispatch.pump(now=timezone.now() + routing.COUNTER_DOWN_WAIT, budget=5)

    assert set(rows.values_list("status", flat=True)) == {Q.SUBMITTED}
