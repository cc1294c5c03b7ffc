"""The simulated operator: the fault model decides, the database keeps its state.

Accepted submissions are remembered (SimulatorBatch: one row per batch, its ids as ranges) so
a resubmitted message is never sent twice; its operator id is always "sim-<message id>".
Delivery reports and replies wait in SimulatorEvent until due, and the beat task
`simulator_tick` hands them to the same services the HTTP callbacks use.

Events due within BUCKET of each other share one SimulatorEvent row (a JSON list, due when its
last event is): the simulator sits in every measured send, and one row per report cost more
than the panel's own bookkeeping. An event is thus handed over up to BUCKET late, never early.
"""

import json
from collections.abc import Sequence
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from core import bulk

from .. import reports as received
from ..models import SimulatorBatch, SimulatorEvent
from .base import OutboundSms, SubmitResult
from .simulator_model import ReportEvent, SimulatorConfig, SimulatorModel, Submission

BUCKET = timedelta(seconds=0.5)

_models: dict[str, SimulatorModel] = {}


def _model(config: dict) -> SimulatorModel:
    # One model per process and configuration: its throughput bucket spans batches.
    key = repr(sorted(config.items()))
    if key not in _models:
        _models[key] = SimulatorModel(SimulatorConfig(**config))
    return _models[key]


class SimulatedOperator:
    def __init__(self, config: dict):
        self.model = _model(config.get("SIMULATOR", {}))

    def submit(self, messages: Sequence[OutboundSms]) -> list[SubmitResult]:
        now = timezone.now()
        known = _accepted_among([m.message_id for m in messages])
        results = [
            SubmitResult(m.message_id, True, f"sim-{m.message_id}")
            for m in messages
            if m.message_id in known
        ]
        fresh = [m for m in messages if m.message_id not in known]
        if not fresh:
            return results
        outcomes, events = self.model.decide(
            [
                Submission(m.message_id, m.receiver, m.parts, m.reply_allowed, m.attempt)
                for m in fresh
            ],
            now,
        )
        accepted = sorted(o.message_id for o in outcomes if o.accepted)
        # Built before the transaction: on SQLite it holds the database's one write lock.
        ranges, event_rows = _ranges(accepted), _rows(events)
        # A database crash can only lose this with the panel's record of the answer (the WAL
        # replays in order): the batch is then submitted again and accepted afresh.
        with bulk.atomic_write(lazy=True):
            if connection.vendor == "postgresql":
                # Two dispatchers may submit one message at once (a lease taken over): one
                # at a time records here (SQLite's writers are one at a time anyway).
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK])
            if accepted and _accepted_among(accepted):
                # The other one recorded first: answer this batch again from what is stored.
                transaction.set_rollback(True)
                retry = True
            else:
                retry = False
                if accepted:
                    SimulatorBatch.objects.create(
                        first_id=accepted[0],
                        last_id=accepted[-1],
                        ranges=ranges,
                        accepted_at=now,
                    )
                # Set-based insert (core.bulk): the simulator is part of every measured send,
                # so its bookkeeping must be as lean as the panel's.
                bulk.insert(SimulatorEvent, fields=("due_at", "kind", "payload"), rows=event_rows)
        if retry:
            return self.submit(messages)
        results.extend(
            SubmitResult(o.message_id, o.accepted, o.operator_id, o.error_code, o.permanent)
            for o in outcomes
        )
        return results


# pg_advisory_xact_lock key of the simulator's record (any constant unused elsewhere).
_LOCK = 0x51_4D_55_4C


def _ranges(ids: list[int]) -> list[list[int]]:
    """Sorted ids as inclusive [first, last] runs."""
    runs: list[list[int]] = []
    for pk in ids:
        if runs and runs[-1][1] == pk - 1:
            runs[-1][1] = pk
        else:
            runs.append([pk, pk])
    return runs


def _accepted_among(ids: list[int]) -> set[int]:
    """Which of these message ids the simulator has accepted before."""
    if not ids:
        return set()
    lo, hi = min(ids), max(ids)
    wanted = set(ids)
    found = set()
    for ranges in SimulatorBatch.objects.filter(last_id__gte=lo, first_id__lte=hi).values_list(
        "ranges", flat=True
    ):
        for first, last in ranges:
            if last - first < len(wanted):
                found.update(pk for pk in range(first, last + 1) if pk in wanted)
            else:
                found.update(pk for pk in wanted if first <= pk <= last)
    return found


def _payload(event) -> tuple[str, dict]:
    """(kind, what the panel's receive services take) for one event."""
    if isinstance(event, ReportEvent):
        return "report", {
            "operator_id": event.operator_id,
            "status": event.status,
            "part": event.part,
            "parts": event.parts,
            "error_code": event.error_code,
            "at": event.due_at.isoformat(),
        }
    return "reply", {
        "operator_id": event.operator_id,
        "sender": event.sender,
        "text": event.text,
        "at": event.due_at.isoformat(),
    }


def _rows(events) -> list[tuple]:
    """SimulatorEvent rows (due_at, kind, JSON list) for events sorted by due time: one row
    per kind and BUCKET."""
    rows = []
    open_rows: dict[str, tuple] = {}  # kind -> (bucket start, last due, payloads)

    def close(kind):
        _start, last, payloads = open_rows.pop(kind)
        rows.append((connection.ops.adapt_datetimefield_value(last), kind, json.dumps(payloads)))

    for event in events:
        kind, payload = _payload(event)
        current = open_rows.get(kind)
        if current is not None and event.due_at - current[0] > BUCKET:
            close(kind)
            current = None
        if current is None:
            current = open_rows[kind] = (event.due_at, event.due_at, [])
        current[2].append(payload)
        open_rows[kind] = (current[0], event.due_at, current[2])
    for kind in list(open_rows):
        close(kind)
    return rows


def deliver_due_events(*, limit: int = 5000, now=None) -> int:
    """Hand due reports and replies to the panel's services; returns how many were handled.

    Those whose message is not recorded yet are kept by the panel (UnmatchedReport), as a
    real operator's callbacks would be."""
    now = now or timezone.now()
    due = SimulatorEvent.objects.filter(due_at__lte=now).order_by("due_at", "id")
    ids, found, count = [], {"report": [], "reply": []}, 0
    for pk, kind, payload in due.values_list("id", "kind", "payload").iterator(chunk_size=20):
        ids.append(pk)
        # A row written before events were grouped holds one event, not a list.
        payload = payload if isinstance(payload, list) else [payload]
        found[kind].extend(payload)
        count += len(payload)
        if count >= limit:
            break
    if not ids:
        return 0
    received.delivery_reports_receive(reports=found["report"])
    received.incoming_messages_receive(replies=found["reply"])
    SimulatorEvent.objects.filter(pk__in=ids).delete()
    return count
