"""The simulated operator: the fault model decides, the database keeps its state.

Accepted submissions are remembered (SimulatorSubmission) so a resubmitted message is never
sent twice; delivery reports and replies wait in SimulatorEvent until due, and the beat task
`simulator_tick` hands them to the same services the HTTP callbacks use.
"""

import json
from collections.abc import Sequence

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from core import bulk

from .. import reports as received
from ..models import SimulatorEvent, SimulatorSubmission
from .base import OutboundSms, SubmitResult
from .simulator_model import ReportEvent, SimulatorConfig, SimulatorModel, Submission

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
                Submission(
                    message_id=m.message_id,
                    receiver=m.receiver,
                    parts=m.parts,
                    reply_allowed=m.reply_allowed,
                    attempt=m.attempt,
                )
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
                    SimulatorEvent,
                    fields=("due_at", "kind", "payload"),
                    rows=[_event_row(e) for e in events],
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


def _event_row(event) -> tuple:
    """(due_at, kind, payload as JSON text) without dataclasses.asdict's deep copy."""
    if isinstance(event, ReportEvent):
        kind = "report"
        payload = {
            "operator_id": event.operator_id,
            "status": event.status,
            "part": event.part,
            "parts": event.parts,
            "error_code": event.error_code,
        }
    else:
        kind = "reply"
        payload = {"operator_id": event.operator_id, "sender": event.sender, "text": event.text}
    payload["at"] = event.due_at.isoformat()
    due = connection.ops.adapt_datetimefield_value(event.due_at)
    return due, kind, json.dumps(payload)


def deliver_due_events(*, limit: int = 5000, now=None) -> int:
    """Hand due reports and replies to the panel's services; returns how many were handled.

    Those whose message is not recorded yet are kept by the panel (UnmatchedReport), as a
    real operator's callbacks would be."""
    now = now or timezone.now()
    events = list(
        SimulatorEvent.objects.filter(due_at__lte=now)
        .order_by("due_at", "id")
        .values_list("id", "kind", "payload")[:limit]
    )
    if not events:
        return 0
    received.delivery_reports_receive(reports=[p for _, kind, p in events if kind == "report"])
    received.incoming_messages_receive(replies=[p for _, kind, p in events if kind == "reply"])
    SimulatorEvent.objects.filter(pk__in=[pk for pk, _, _ in events]).delete()
    return len(events)
