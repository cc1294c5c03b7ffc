"""What comes back from the operator: delivery reports and replies (STOP included).

Both enter through one service each, called by the simulator and by the signed HTTP callbacks.
A report or reply for an operator id no message has yet is kept (UnmatchedReport) and applied
once the dispatcher records the submission; none is dropped.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from core import bulk

from . import totals, webhooks
from .ledger import db_datetime, messages_fail
from .models import (
    IncomingMessage,
    MessageEvent,
    OutgoingMessage,
    SmsJob,
    StopListEntry,
    UnmatchedReport,
)

_Q = OutgoingMessage.Status
STOP_KEYWORDS = {"stop", "stopsms", "arret", "arreter", "unsubscribe", "desabonner", "desinscrire"}
# Unmatched reports older than this are left for staff (dispatch health page).
UNMATCHED_KEEP_TRYING = timedelta(days=1)


_REPORT_STATUS = {"delivered": _Q.DELIVERED, "undelivered": _Q.UNDELIVERED, "expired": _Q.EXPIRED}


def report_validate(report: dict) -> None:
    """Raise ValueError unless the report's fields have usable values."""
    if not isinstance(report.get("operator_id"), str) or not report["operator_id"]:
        raise ValueError("operator_id")
    if not isinstance(report.get("status"), str):
        raise ValueError("status")
    if int(report.get("part", 1)) < 1 or int(report.get("parts", 1)) < 1:
        raise ValueError("part")
    if report.get("at") is not None:
        at = datetime.fromisoformat(report["at"])
        if at.tzinfo is None:
            raise ValueError("at needs a time zone")


def _valid_reports(reports: list[dict]) -> list[dict]:
    valid = []
    for report in reports:
        try:
            report_validate(report)
        except (ValueError, TypeError):
            continue  # a malformed report is dropped, it cannot block the others
        valid.append(report)
    return valid


def delivery_reports_receive(*, reports: list[dict], keep_unmatched: bool = True) -> set[str]:
    """Apply delivery reports (simulator or signed callback). Returns the operator ids that
    match no message yet; their reports are kept (UnmatchedReport) and applied when the
    submission is recorded — the operator may answer before the dispatcher has written it.

    A report only moves a message out of `submitted`: late, duplicate and out-of-order
    reports never move a message backwards. For multi-part messages the report of the last
    part decides; intermediate statuses ("buffered") change nothing.
    """
    reports = _valid_reports(reports)
    final = [
        r
        for r in reports
        if r.get("status") in _REPORT_STATUS and int(r.get("part", 1)) >= int(r.get("parts", 1))
    ]
    operator_ids = {r["operator_id"] for r in reports}
    # operator id → message id; updates then go by primary key (SQLite's planner would
    # otherwise pick the status index and scan).
    known: dict[str, int] = {}
    pending: dict[int, tuple[int, str]] = {}  # still submitted: id → (account, receiver)
    wanted = list(operator_ids)
    for start in range(0, len(wanted), 900):
        for operator_id, pk, status, account_id, receiver in (
            OutgoingMessage.objects.filter(operator_id__in=wanted[start : start + 900])
            .exclude(operator_id="")  # lets the planner use the partial index
            .values_list("operator_id", "id", "status", "account_id", "receiver")
        ):
            known[operator_id] = pk
            if status == _Q.SUBMITTED:
                pending[pk] = (account_id, receiver)
    delivered, undelivered, expired = [], [], []
    reported_at: dict[int, str] = {}
    # Every report of a known message, each part's and intermediate ones, for its page.
    events = [
        (
            known[r["operator_id"]],
            db_datetime(datetime.fromisoformat(r["at"]) if r.get("at") else timezone.now()),
            MessageEvent.Kind.REPORT,
            r["status"][:16],
            str(r.get("error_code") or "")[:32],
            int(r.get("part", 1)),
            int(r.get("parts", 1)),
        )
        for r in reports
        if r["operator_id"] in known
    ]
    for r in final:
        pk = known.get(r["operator_id"])
        if pk is None:
            continue
        reported_at.setdefault(pk, r.get("at") or timezone.now().isoformat())
        status = _REPORT_STATUS[r["status"]]
        at = db_datetime(datetime.fromisoformat(r["at"]) if r.get("at") else timezone.now())
        if status == _Q.DELIVERED:
            delivered.append((at, pk))
        elif status == _Q.UNDELIVERED:
            undelivered.append((at, (r.get("error_code") or "")[:32], pk))
        else:
            expired.append((pk, (r.get("error_code") or "EXPIRED")[:32]))
    unmatched = operator_ids - known.keys()
    with transaction.atomic():
        # The messages these reports move, locked (PostgreSQL; SQLite's writers take turns)
        # so that the dashboard's totals count each move once, duplicates and races aside.
        moving = {pk for _at, pk in delivered} | {pk for _at, _e, pk in undelivered}
        moved = list(
            OutgoingMessage.objects.select_for_update()
            .filter(id__in=list(moving), status=_Q.SUBMITTED)
            .values_list("id", "account_id", "created_at", "credits")
        ) if moving else []  # fmt: skip
        first = {pk: _Q.DELIVERED for _at, pk in delivered}
        for _at, _e, pk in undelivered:
            first.setdefault(pk, _Q.UNDELIVERED)
        totals.add((a, created, first[pk], 1, credits) for pk, a, created, credits in moved)
        bulk.update(
            OutgoingMessage,
            fields=("delivered_at",),
            rows=delivered,
            constants={"status": _Q.DELIVERED},
            only_if={"status": _Q.SUBMITTED},
        )
        bulk.update(
            OutgoingMessage,
            fields=("delivered_at", "error_code"),
            rows=undelivered,
            constants={"status": _Q.UNDELIVERED},
            only_if={"status": _Q.SUBMITTED},
        )
        if events:
            bulk.insert(
                MessageEvent,
                fields=("message", "at", "kind", "status", "error_code", "part", "parts"),
                rows=events,
            )
        if keep_unmatched and unmatched:
            _unmatched_keep(
                UnmatchedReport.Kind.REPORT,
                [r for r in reports if r["operator_id"] in unmatched],
            )
    if expired:
        messages_fail(
            failures=expired,
            status=_Q.EXPIRED,
            from_statuses=(_Q.SUBMITTED,),
        )
    _notify_status_changes(pending, reported_at, delivered, undelivered, expired)
    return unmatched


def _unmatched_keep(kind: str, payloads: list[dict]) -> None:
    now = timezone.now()
    UnmatchedReport.objects.bulk_create(
        [
            UnmatchedReport(kind=kind, operator_id=p["operator_id"], payload=p, received_at=now)
            for p in payloads
        ],
        batch_size=500,
    )


def unmatched_reports_apply(*, operator_ids=None, limit: int = 5000) -> int:
    """Apply kept reports and replies whose message is now known (by default, every one
    younger than a day); the ones applied are deleted. Returns how many were applied."""
    recent = UnmatchedReport.objects.filter(
        received_at__gte=timezone.now() - UNMATCHED_KEEP_TRYING
    ).order_by("id")
    if operator_ids is not None:
        # Called for every recorded batch: almost always nothing is kept, and asking that
        # first (one index probe) is much cheaper than matching a batch of operator ids.
        if not operator_ids or not recent.exists():
            return 0
        kept = recent.filter(operator_id__in=list(operator_ids))
    else:
        kept = recent
    rows = list(kept.values_list("id", "kind", "payload")[:limit])
    if not rows:
        return 0
    still = delivery_reports_receive(
        reports=[p for _, k, p in rows if k == UnmatchedReport.Kind.REPORT], keep_unmatched=False
    )
    still |= incoming_messages_receive(
        replies=[p for _, k, p in rows if k == UnmatchedReport.Kind.REPLY], keep_unmatched=False
    )
    done = [pk for pk, _, p in rows if p.get("operator_id") not in still]
    UnmatchedReport.objects.filter(pk__in=done).delete()
    return len(done)


def messages_expire_overdue(*, now: datetime | None = None, limit: int = 500) -> int:
    """Messages still waiting for their report after the job's validity period become
    `expired` and are refunded (as an `expired` report would); jobs with no message waiting
    any more are marked settled. Returns how many messages expired.

    A job is done only once every message was submitted or failed, so when its validity
    period has passed since it finished, it has passed for each of its messages too."""
    now = now or timezone.now()
    expired = 0
    jobs = (
        SmsJob.objects.filter(status=SmsJob.Status.DONE, settled_at__isnull=True)
        .order_by("finished_at")
        .values_list("id", "finished_at", "validity_period")[:limit]
    )
    for job_id, finished_at, validity in jobs:
        waiting = OutgoingMessage.objects.filter(job_id=job_id, status=_Q.SUBMITTED)
        if finished_at + timedelta(minutes=validity) <= now:
            ids = list(waiting.values_list("id", flat=True))
            for start in range(0, len(ids), 5000):
                expired += messages_fail(
                    failures=[(pk, "VALIDITY_EXPIRED") for pk in ids[start : start + 5000]],
                    status=_Q.EXPIRED,
                    from_statuses=(_Q.SUBMITTED,),
                )
        elif waiting.exists():
            continue
        SmsJob.objects.filter(pk=job_id).update(settled_at=now)
    return expired


def _notify_status_changes(pending, reported_at, delivered, undelivered, expired) -> None:
    """Queue the customers' delivery callbacks for the messages these reports moved."""
    events: dict[int, list[dict]] = {}
    seen = set()

    def add(pk, status, error=""):
        if pk in pending and pk not in seen:
            seen.add(pk)
            account_id, receiver = pending[pk]
            events.setdefault(account_id, []).append(
                {
                    "id": pk,
                    "receiver": receiver,
                    "status": status,
                    "at": reported_at[pk],
                    "error": error,
                }
            )

    for _at, pk in delivered:
        add(pk, "delivered")
    for _at, error, pk in undelivered:
        add(pk, "undelivered", error)
    for pk, error in expired:
        add(pk, "expired", error)
    webhooks.enqueue(account_ids_events=events, kind="delivery")


def is_stop_keyword(text: str) -> bool:
    """STOP, stop, "Stop.", "STOP SMS", arrêt, ARRÊT…: the first word, accents and
    punctuation ignored."""
    folded = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode().lower()
    words = re.findall(r"[a-z]+", folded)
    return bool(words) and (words[0] in STOP_KEYWORDS or "".join(words[:2]) in STOP_KEYWORDS)


def incoming_messages_receive(*, replies: list[dict], keep_unmatched: bool = True) -> set[str]:
    """Store replies to our messages; a STOP reply also puts the number on the account's
    STOP list. Idempotent (a retried callback changes nothing). Returns the operator ids that
    match no message yet; those replies are kept (UnmatchedReport) until it is known."""
    unmatched = set()
    for reply in replies:
        message = (
            OutgoingMessage.objects.filter(operator_id=reply["operator_id"])
            .exclude(operator_id="")
            .select_related("job")
            .only("id", "account_id", "receiver", "job__tag")
            .first()
        )
        if message is None:
            unmatched.add(reply["operator_id"])
            if keep_unmatched:
                _unmatched_keep(UnmatchedReport.Kind.REPLY, [reply])
            continue
        text = str(reply.get("text", ""))[:2000]
        try:
            at = datetime.fromisoformat(str(reply["at"]))
        except (KeyError, ValueError):
            at = timezone.now()
        if timezone.is_naive(at):
            at = timezone.make_aware(at, UTC)
        ref = (
            str(reply.get("id") or "")[:80]
            or hashlib.sha1(f"{reply['operator_id']}|{at.isoformat()}|{text}".encode()).hexdigest()
        )
        with transaction.atomic():
            IncomingMessage.objects.get_or_create(
                ref=ref,
                defaults={
                    "account_id": message.account_id,
                    "sender": message.receiver,
                    "text": text,
                    "received_at": at,
                    "tag": message.job.tag,
                    "outgoing": message,
                },
            )
            if is_stop_keyword(text):
                _entry, created = StopListEntry.objects.get_or_create(
                    account_id=message.account_id,
                    number=message.receiver,
                    defaults={"outgoing": message},
                )
                if created:
                    webhooks.enqueue(
                        account_ids_events={
                            message.account_id: [
                                {"number": message.receiver, "at": at.isoformat(), "text": text}
                            ]
                        },
                        kind="stop",
                    )
    return unmatched
