"""Dispatch: the database is the queue of record, the broker only wakes workers up.

Every message still to be submitted is a row a query finds: `queued` with a due time
(`next_attempt_at`), or `submitting` whose lease (`next_attempt_at` again) ran out. A pump
(a Celery task) claims a batch of due rows in one short transaction (`submitting`, lease,
`attempts + 1`), commits, and only then hands the batch to the operator; the answers move the
rows on (`submitted`, back to `queued` for a retry, or `failed` and refunded) only if the claim
is still theirs (same `attempts`).

The beat tick (`dispatch_tick`, every few seconds) starts planned jobs when due and wakes pumps
whenever due work exists. So losing a pump (worker killed), its task message (broker restarted
empty) or the first wake-up (broker down at submission) costs at most one lease of delay:

- A row claimed by a pump that died stays `submitting` until its lease runs out, then another
  pump claims it again and resubmits it with the same idempotency key (the message id): a
  backend that deduplicates (the simulator, an HTTP provider taking a client reference) answers
  with the first operator id. A backend that cannot deduplicate (SMPP) must either ask the
  upstream or resend once and flag the message as a possible duplicate — see the upstreams
  work; no such backend exists yet.
- A row whose submission is known to have succeeded (`submitted` or later) is never claimed.
- Database outages: a pump or tick that hits one just ends; the next tick resumes. Nothing
  counts retries against an outage.
"""

from __future__ import annotations

import functools
import json
import logging
import random
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from core import bulk

from . import reports, routing, tasks, totals
from .encoding import STOP_CLAUSE
from .ledger import db_datetime, messages_fail
from .models import MessageEvent, OutgoingMessage, PendingChunk, SmsJob
from .operator import OutboundSms, SubmitResult

logger = logging.getLogger(__name__)

_Q = OutgoingMessage.Status
# Transient errors: wait this long before each retry; after the last, the message fails.
RETRY_DELAYS = (timedelta(minutes=5), timedelta(minutes=10))


def lease() -> timedelta:
    """How long a claim lasts: a dispatcher that has not answered by then is presumed dead."""
    return timedelta(seconds=settings.DISPATCH["LEASE_SECONDS"])


# --- Jobs ------------------------------------------------------------------------------------


def jobs_release_due(*, now: datetime | None = None) -> int:
    """Planned jobs whose time has come become queued (a pump starts them)."""
    now = now or timezone.now()
    return SmsJob.objects.filter(status=SmsJob.Status.SCHEDULED, scheduled_at__lte=now).update(
        status=SmsJob.Status.QUEUED
    )


def job_start_next(*, now: datetime | None = None) -> int | None:
    """Start one queued job: make its message rows due and mark it sending, in one
    transaction (a crash leaves it queued). A big job's rows are written afterwards, a chunk at
    a time, by job_expand_next."""
    now = now or timezone.now()
    # Asked before taking the write lock: a pump asks on every batch, and on SQLite an empty
    # IMMEDIATE transaction still waits for the other writers.
    if not SmsJob.objects.filter(status=SmsJob.Status.QUEUED).exists():
        return None
    with transaction.atomic():
        queued = SmsJob.objects.filter(status=SmsJob.Status.QUEUED).order_by("id")
        if connection.features.has_select_for_update_skip_locked:
            queued = queued.select_for_update(skip_locked=True)
        job = queued.only("id").first()
        if job is None:
            return None
        OutgoingMessage.objects.filter(
            job_id=job.pk, status=_Q.QUEUED, next_attempt_at__isnull=True
        ).update(next_attempt_at=now)
        SmsJob.objects.filter(pk=job.pk).update(status=SmsJob.Status.SENDING, started_at=now)
    job_finish_if_complete(job.pk)  # a job whose every recipient was STOP-listed
    # Pumps that found nothing due while this job was queued have ended: call them back so
    # its batches are shared.
    wake_on_commit()
    return job.pk


def pending_store(*, job: SmsJob, rows: list[tuple]) -> None:
    """Keep a big job's recipients (messages_insert()'s rows) as chunks of one batch each;
    job_expand_next writes them as messages once the job starts."""
    size = settings.DISPATCH["BATCH"]
    # COPY on PostgreSQL: the ORM's insert of large JSON values cost 7x more there.
    bulk.insert(
        PendingChunk,
        fields=("job", "seq", "rows"),
        rows=[
            (job.pk, n, json.dumps(rows[start : start + size]))
            for n, start in enumerate(range(0, len(rows), size))
        ],
    )


def job_expand_next(*, now: datetime) -> list[tuple] | None:
    """Write the next chunk of a started job's pending recipients as messages claimed by the
    caller (`submitting`, leased, first attempt) and return them as messages_claim() does; None
    when no job has recipients left to write.

    Written already claimed, a big job's rows are inserted once and never claimed by an UPDATE:
    the claim was a third write of every row (insert, claim, record). The claim is committed
    with the rows, and the chunk deleted, before the operator is called, as for any claim."""
    sending = PendingChunk.objects.filter(job__status=SmsJob.Status.SENDING).order_by(
        "job_id", "seq"
    )
    columns = ("id", "job_id", "seq", "rows")
    if connection.vendor == "sqlite":
        # SQLite: read and decode the chunk before taking the database's one write lock (the
        # other dispatcher writes meanwhile); deleting it in the transaction tells whether it
        # is still ours. An empty list: taken by the other one, ask again.
        chunk = sending.values_list(*columns).first()
        if chunk is None:
            return None
        chunk_id, job_id, seq, rows = chunk
        write = _chunk_insert_prepared(job_id, [tuple(r) for r in rows], now)
        with bulk.atomic_write():
            if not PendingChunk.objects.filter(pk=chunk_id).delete()[0]:
                return []
            claimed = write()
    else:
        if not sending.exists():
            return None  # asked before taking locks, as in job_start_next
        with bulk.atomic_write():
            # Two dispatchers take two chunks of one job side by side.
            chunk = sending.select_for_update(skip_locked=True, of=("self",))
            chunk = chunk.values_list(*columns).first()
            if chunk is None:
                return None
            chunk_id, job_id, seq, rows = chunk
            claimed = _chunk_insert_prepared(job_id, [tuple(r) for r in rows], now)()
            PendingChunk.objects.filter(pk=chunk_id).delete()
    if not seq:
        wake_on_commit()  # the first batch is out: call the other pumps to share the job
    return claimed


def _chunk_insert_prepared(job_id: int, rows: list[tuple], now: datetime):
    job = SmsJob.objects.only("id", "account_id", "created_at").get(pk=job_id)
    return messages_insert_prepared(job=job, rows=rows, due=now + lease(), claimed=True)


def job_finish_if_complete(job_id: int) -> bool:
    if (
        OutgoingMessage.objects.filter(job_id=job_id, status__in=OutgoingMessage.IN_FLIGHT).exists()
        or PendingChunk.objects.filter(job_id=job_id).exists()
    ):
        return False
    return bool(
        SmsJob.objects.filter(pk=job_id, status=SmsJob.Status.SENDING, held_chunks=None).update(
            status=SmsJob.Status.DONE, finished_at=timezone.now()
        )
    )


# --- Messages --------------------------------------------------------------------------------

_CLAIM_COLUMNS = ("id", "job_id", "receiver", "parts", "attempts", "text")


def _literal(value: str) -> str:
    """A status value written into SQL: partial indexes are only used when the query names
    their condition's values literally (SQLite cannot prove the condition from bound
    parameters, nor PostgreSQL from a generic plan). Values come from the model's enums."""
    assert value.isidentifier(), value
    return f"'{value}'"


_IN_FLIGHT = f"({', '.join(_literal(status) for status in OutgoingMessage.IN_FLIGHT)})"


def _columns(*names: str) -> dict[str, str]:
    meta = OutgoingMessage._meta
    return {f: connection.ops.quote_name(meta.get_field(f).column) for f in names}


@functools.cache
def _claim_sql(vendor: str) -> str:
    """UPDATE … WHERE id IN (due rows) RETURNING what the submission needs (built once per
    database vendor).

    PostgreSQL skips rows another pump is claiming (SKIP LOCKED); SQLite serialises writers
    (IMMEDIATE transactions), so its claims are simply one after the other. The subquery walks
    the partial index outgoing_due_idx, so its cost follows the work in flight, not the table."""
    table = connection.ops.quote_name(OutgoingMessage._meta.db_table)
    col = _columns(*_CLAIM_COLUMNS, "status", "next_attempt_at")
    if vendor == "postgresql":
        # No ORDER BY: with it, PostgreSQL (whose row estimate lags behind a queue that just
        # grew by 100,000 rows) fetched and sorted every due row to keep one batch, on every claim.
        # Due rows are all taken within seconds, so the order among them does not matter.
        order, lock = "", " FOR UPDATE SKIP LOCKED"
    else:
        order, lock = f" ORDER BY {col['next_attempt_at']}", ""  # read from the index
    return (
        f"UPDATE {table} SET {col['status']} = %s, {col['next_attempt_at']} = %s, "
        f"{col['attempts']} = {col['attempts']} + 1 "
        f"WHERE {col['id']} IN (SELECT {col['id']} FROM {table} "
        f"WHERE {col['status']} IN {_IN_FLIGHT} AND {col['next_attempt_at']} <= %s"
        f"{order} LIMIT %s{lock}) "
        f"RETURNING {', '.join(col[c] for c in _CLAIM_COLUMNS)}"
    )


def messages_claim(*, now: datetime, limit: int | None = None) -> list[tuple]:
    """Claim up to `limit` (DISPATCH["BATCH"]) due messages, committed before returning."""
    if connection.vendor == "sqlite" and not _due_rows_exist(now):
        # SQLite: an UPDATE that finds nothing still waits for the write lock, behind the
        # other dispatcher's batch; a read does not.
        return []
    with bulk.atomic_write(), connection.cursor() as cursor:
        cursor.execute(
            _claim_sql(connection.vendor),
            [
                _Q.SUBMITTING,
                db_datetime(now + lease()),
                db_datetime(now),
                limit or settings.DISPATCH["BATCH"],
            ],
        )
        return cursor.fetchall()


class _Jobs(dict):
    """What a submission needs from its job, read once per pump."""

    def __missing__(self, job_id):
        self[job_id] = SmsJob.objects.only(
            "id", "message", "stop_clause", "sender_label", "sms_class", "reply_allowed"
        ).get(pk=job_id)
        return self[job_id]


def batch_submit(
    *, rows: list[tuple], jobs: _Jobs | None = None, clock: StageClock | None = None
) -> list[SubmitResult]:
    """Hand claimed rows to the operator and record its answers."""
    jobs = _Jobs() if jobs is None else jobs
    clock = clock or StageClock()
    outbound = []
    for pk, job_id, receiver, parts, attempts, own in rows:
        job = jobs[job_id]
        outbound.append(
            OutboundSms(
                message_id=pk,
                receiver=receiver,
                sender=job.sender_label,
                text=own + STOP_CLAUSE if own and job.stop_clause else own or job.full_text,
                parts=parts,
                sms_class=job.sms_class,
                reply_allowed=job.reply_allowed,
                attempt=attempts,
            )
        )
    clock.lap("prepare")
    # Through the routes staff configured (or the settings' operator when there is none).
    results = routing.submit(outbound)
    clock.lap("operator")
    results_record(results, attempts={r[0]: r[4] for r in rows})
    clock.lap("record")
    for job_id in {r[1] for r in rows}:
        job_finish_if_complete(job_id)
    clock.lap("finish")
    return results


def results_record(results: list[SubmitResult], *, attempts: dict[int, int]) -> None:
    """Move claimed messages on from the operator's answers, where the claim is still ours."""
    now = timezone.now()
    db_now = db_datetime(now)
    accepted, retry, failed = [], [], []
    for r in results:
        claim = attempts[r.message_id]
        if r.accepted:
            accepted.append((r.operator_id, r.message_id, claim))
        elif not r.permanent and claim <= len(RETRY_DELAYS):
            due = db_datetime(now + RETRY_DELAYS[claim - 1])
            retry.append((due, (r.error_code or "")[:32], r.message_id, claim))
        else:
            failed.append((r.message_id, r.error_code or "REJECTED"))
    mine = {"status": _Q.SUBMITTING}
    # Lost in a database crash, this record is a dispatcher killed before it: the rows stay
    # `submitting`, and are submitted again with the same idempotency key when the lease ends.
    with bulk.atomic_write(lazy=True):
        # The totals count only the rows this record moved (a claim taken over meanwhile is
        # the other dispatcher's to count): PostgreSQL counts them in the UPDATE's own
        # statement, SQLite by their `submitted_at` afterwards.
        postgres = connection.vendor == "postgresql"
        bulk.update(
            OutgoingMessage,
            fields=("operator_id",),
            key=("id", "attempts"),
            rows=accepted,
            constants={
                "status": _Q.SUBMITTED,
                "error_code": "",
                "next_attempt_at": None,
                "submitted_at": db_now,
            },
            only_if=mine,
            returning=totals.MOVED if postgres else (),
            then=totals.add_moved(_Q.SUBMITTED) if postgres else None,
        )
        if not postgres:
            totals.add_submitted(ids=[a[1] for a in accepted], submitted_at=db_now)
        bulk.update(
            OutgoingMessage,
            fields=("next_attempt_at", "error_code"),
            key=("id", "attempts"),
            rows=retry,
            constants={"status": _Q.QUEUED},
            only_if=mine,
        )
        if retry:  # the message page shows each retry with the operator's error
            bulk.insert(
                MessageEvent,
                fields=("message", "at", "kind", "status", "error_code"),
                rows=[
                    (pk, db_now, MessageEvent.Kind.RETRY, "", code) for _d, code, pk, _c in retry
                ],
            )
    if failed:
        messages_fail(
            failures=failed, status=_Q.FAILED, from_statuses=(_Q.SUBMITTING,), claims=attempts
        )
    if accepted:
        # The operator may have reported before this record landed (a fast handset, or a
        # claim taken over after a crash): apply what was kept for these messages now.
        reports.unmatched_reports_apply(operator_ids=[a[0] for a in accepted])


# The columns messages_insert() writes, in the order of its rows.
_INSERT_FIELDS = (
    "job",
    "account",
    "created_at",
    "attempts",
    "error_code",
    "operator_id",
    "next_attempt_at",
    "receiver",
    "country",
    "source",
    "parts",
    "text",
    "credits",
    "status",
)


def messages_insert(
    *,
    job: SmsJob,
    rows: list[tuple],
    due: datetime | None,
    now: datetime | None = None,
    claimed: bool = False,
) -> list[tuple] | None:
    """Write a job's message rows in bulk. rows: (receiver, country, source, parts, text,
    credits as text, status); `due`: when they may be claimed (None: when the job starts).

    `claimed`: the rows are queued ones claimed at once by the caller (`submitting`, first
    attempt, leased until `due`); they are returned as messages_claim() returns its rows."""
    return messages_insert_prepared(job=job, rows=rows, due=due, now=now, claimed=claimed)()


def messages_insert_prepared(
    *,
    job: SmsJob,
    rows: list[tuple],
    due: datetime | None,
    now: datetime | None = None,
    claimed: bool = False,
) -> Callable[[], list[tuple] | None]:
    """messages_insert() in two steps: the rows and statements are built now, the returned
    function writes them (on SQLite, inside the write lock the caller takes after)."""
    head = (
        job.pk,
        job.account_id,
        db_datetime(now or job.created_at),
        1 if claimed else 0,
        "",
        "",
        db_datetime(due) if due else None,
    )
    # The dashboard's totals: one statement for the chunk (rows end with credits, status;
    # rows written already claimed count as queued, the state they entered).
    created = now or job.created_at
    add_totals = totals.add_prepared(
        (job.account_id, created, row[-1], 1, Decimal(row[-2])) for row in rows
    )
    if not claimed:
        full = [head + row for row in rows]

        def write_rows() -> None:
            add_totals()
            bulk.insert(OutgoingMessage, fields=_INSERT_FIELDS, rows=full)

        return write_rows
    # Only rows that are to be sent are claimed (STOP-listed and invalid ones are final).
    insert = bulk.insert_returning_prepared(
        OutgoingMessage,
        fields=_INSERT_FIELDS,
        rows=[
            head + row[:-1] + (_Q.SUBMITTING if row[-1] == _Q.QUEUED else row[-1],) for row in rows
        ],
        returning=(*_CLAIM_COLUMNS, "status"),
    )

    def write_claimed() -> list[tuple]:
        add_totals()
        return [row[:-1] for row in insert() if row[-1] == _Q.SUBMITTING]

    return write_claimed


class StageClock:
    """Seconds spent per stage of a pump, logged when it ends (bench/send.py sums them)."""

    def __init__(self):
        self.seconds: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.seconds[stage] = self.seconds.get(stage, 0.0) + now - self._last
        self._last = now

    def __str__(self):
        return ", ".join(f"{k} {v:.3f}" for k, v in self.seconds.items())


def pump(*, now: datetime | None = None, budget: float | None = None, slot: str = "") -> int:
    """Start queued jobs and submit due messages until none is left or the time budget is
    spent; returns how many messages were handed to the operator."""
    return _pump(now=now, budget=budget, slot=slot)[0]


def _pump(*, now=None, budget=None, slot="") -> tuple[int, bool]:
    budget = settings.DISPATCH["PUMP_SECONDS"] if budget is None else budget
    deadline = time.monotonic() + budget
    jobs = _Jobs()
    handed = 0
    clock = StageClock()
    more = True
    while more:
        if time.monotonic() >= deadline:
            break
        moment = now or timezone.now()
        started = job_start_next(now=moment)
        clock.lap("start")
        if started is not None:
            continue
        # Due rows first (small jobs, retries, leases run out), then a big job's next batch.
        rows = messages_claim(now=moment)
        clock.lap("claim")
        expanded = False
        if not rows:
            rows = job_expand_next(now=moment)
            clock.lap("expand")
            expanded = rows is not None
            rows = rows or []
        more = bool(rows) or expanded
        if rows:
            batch_submit(rows=rows, jobs=jobs, clock=clock)
            handed += len(rows)
            if slot:
                _slot_keep(slot)
    if handed:
        logger.info("dispatch pump: %d messages; seconds: %s", handed, clock)
    return handed, more


def pump_task(slot: str) -> int:
    """The pump task's body: run, free the slot, and hand over to a fresh pump when the time
    budget ran out with work left (so other tasks get the worker in between)."""
    try:
        handed, more = _pump(slot=slot)
    finally:
        slot_release(slot)
    if more:
        pumps_wake()
    return handed


def due_work_exists(*, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    if SmsJob.objects.filter(status=SmsJob.Status.QUEUED).exists():
        return True
    # A started job with recipients not yet written: its rows are written already claimed, so
    # no due row shows it (a dispatcher killed between two batches leaves it so).
    if PendingChunk.objects.filter(job__status=SmsJob.Status.SENDING).exists():
        return True
    return _due_rows_exist(now)


def _due_rows_exist(now: datetime) -> bool:
    """Whether a message is due (read from the partial index outgoing_due_idx)."""
    table = connection.ops.quote_name(OutgoingMessage._meta.db_table)
    col = _columns("status", "next_attempt_at")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {table} WHERE {col['status']} IN {_IN_FLIGHT} "
            f"AND {col['next_attempt_at']} <= %s LIMIT 1",
            [db_datetime(now)],
        )
        return cursor.fetchone() is not None


# --- Waking pumps ---------------------------------------------------------------------------
# At most DISPATCH["PUMPS"] pumps run at once; each holds a slot key in the cache (Redis) that
# expires if its worker dies, so a lost pump is replaced on the next tick after that.


def slot_key(slot: str) -> str:
    return f"dispatch:pump:{slot}"


def _slot_keep(slot: str) -> None:
    try:
        cache.touch(slot_key(slot), settings.DISPATCH["SLOT_SECONDS"])
    except Exception:  # noqa: BLE001 - the cache is an optimisation; the queue is the DB
        logger.warning("dispatch: cannot refresh pump slot %s", slot, exc_info=True)


def slot_release(slot: str) -> None:
    try:
        cache.delete(slot_key(slot))
    except Exception:  # noqa: BLE001
        logger.warning("dispatch: cannot release pump slot %s", slot, exc_info=True)


def pumps_wake() -> int:
    """Queue a pump for every free slot; never raises (a broker or cache outage only delays
    the work to the next tick). Returns the number of pumps queued."""
    woken = 0
    for n in range(settings.DISPATCH["PUMPS"]):
        slot = str(n)
        try:
            if not cache.add(slot_key(slot), random.random(), settings.DISPATCH["SLOT_SECONDS"]):
                continue
        except Exception:  # noqa: BLE001 - no cache: wake anyway, pumps tolerate company
            logger.warning("dispatch: cache unavailable, waking pump %s anyway", slot)
        try:
            tasks.dispatch_pump.delay(slot)
            woken += 1
        except Exception:  # noqa: BLE001 - broker down: the beat tick wakes pumps later
            logger.warning("dispatch: broker unavailable; work stays queued", exc_info=True)
            slot_release(slot)
            break
    return woken


def wake_on_commit() -> None:
    """After the current transaction commits, wake pumps (submission, release)."""
    transaction.on_commit(pumps_wake)


def tick(*, now: datetime | None = None) -> int:
    """Beat: release planned jobs that are due and wake pumps if any work is due."""
    now = now or timezone.now()
    jobs_release_due(now=now)
    if due_work_exists(now=now):
        return pumps_wake()
    return 0
