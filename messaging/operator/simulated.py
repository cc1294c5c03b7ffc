"""The simulated operator: the fault model decides, the database keeps its state.

Accepted submissions are remembered (SimulatorSubmission) so a resubmitted message is never
sent twice; delivery reports and replies wait in SimulatorEvent until due, and the beat task
`simulator_tick` hands them to the same services the HTTP callbacks use.

Events due within BUCKET of each other share one SimulatorEvent row (a JSON list, due when its
last event is): the simulator sits in every measured send, and one row per report cost more
than the panel's own bookkeeping. An event is thus handed over up to BUCKET late, never early.
"""

import json
from collections.abc import Sequence
from datetime import timedelta

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from core import bulk

from .. import reports as received
from ..models import SimulatorEvent, SimulatorSubmission
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
        known = dict(
            SimulatorSubmission.objects.filter(
                message_id__in=[m.message_id for m in messages]
            ).values_list("message_id", "operator_id")
        )
        results = [
            SubmitResult(message_id=mid, accepted=True, operator_id=op) for mid, op in known.items()
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
        db_now = connection.ops.adapt_datetimefield_value(now)
        try:
            with transaction.atomic():
                # Set-based inserts (core.bulk): the simulator is part of every measured send,
                # so its bookkeeping must be as lean as the panel's.
                bulk.insert(
                    SimulatorSubmission,
                    fields=("message_id", "operator_id", "accepted_at"),
                    rows=[(o.message_id, o.operator_id, db_now) for o in outcomes if o.accepted],
                )
                bulk.insert(
                    SimulatorEvent, fields=("due_at", "kind", "payload"), rows=_rows(events)
                )
        except IntegrityError:
            # Two dispatchers submitted one message at once (a lease taken over): the first
            # one's record won; answer this batch again from what is stored.
            return self.submit(messages)
        results.extend(
            SubmitResult(
                message_id=o.message_id,
                accepted=o.accepted,
                operator_id=o.operator_id,
                error_code=o.error_code,
                permanent=o.permanent,
            )
            for o in outcomes
        )
        return results


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
