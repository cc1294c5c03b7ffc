"""Messaging workflows: estimates, job submission, dispatch, delivery reports, replies."""

from __future__ import annotations

import hashlib
import re
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from accounts.models import DestinationRate, SmsAccount
from accounts.services import InsufficientCredits, credits_debit, credits_refund
from senders.models import Sender

from . import bulk, personalize, webhooks
from . import recipients as rcpt
from .encoding import STOP_CLAUSE, SmsCount, count
from .models import (
    IncomingMessage,
    OutgoingMessage,
    PendingRecipients,
    SmsJob,
    StopListEntry,
)
from .operator import OutboundSms, SubmitResult, get_operator
from .schedule import next_commercial_window


@dataclass
class Estimate:
    recipients: int
    segments: int
    credits_needed: Decimal
    credits_left: Decimal
    credits_after: Decimal
    invalid: list[tuple[str, str]] = field(default_factory=list)  # (as typed, reason code)
    duplicates: int = 0

    @property
    def insufficient(self) -> bool:
        return self.credits_after < 0


def rates_for(regions) -> dict[str, Decimal]:
    return dict(
        DestinationRate.objects.filter(country__in=set(regions)).values_list(
            "country", "credits_per_segment"
        )
    )


def estimate_build(
    *,
    account: SmsAccount,
    sms: SmsCount,
    parsed: rcpt.ParsedRecipients,
    message: str = "",
    stop_clause: bool = True,
) -> Estimate:
    """What sending would cost, per destination rate; with personalisation fields, each
    recipient's own text is counted and the estimate shows the longest."""
    rates = rates_for(r.region for r in parsed.valid) if parsed.valid else {}
    invalid = list(parsed.invalid)
    served = []
    for recipient in parsed.valid:
        if recipient.region in rates:
            served.append(recipient)
        else:
            invalid.append((recipient.number, "no_rate"))
    if message and personalize.has_fields(message) and served:
        _texts, parts, sms = _texts_and_parts(message, served, stop_clause=stop_clause)
    else:
        parts = [sms.segments] * len(served)
    needed = sum((rates[r.region] * p for r, p in zip(served, parts, strict=True)), Decimal("0.00"))
    return Estimate(
        recipients=len(served),
        segments=sms.segments,
        credits_needed=needed,
        credits_left=account.credits,
        credits_after=account.credits - needed,
        invalid=invalid,
        duplicates=parsed.duplicates,
    )


# --- Sending ---------------------------------------------------------------------------------

BATCH_SIZE = 500
# Above this many recipients the message rows are written by the dispatch task, not by the
# request (PendingRecipients).
INLINE_ROWS = 2000
# Transient errors: wait this long before each retry; after the last, the message fails.
RETRY_DELAYS = (timedelta(minutes=5), timedelta(minutes=10))
# A retried message is leased to the batch task for this long before it can be queued again.
RETRY_LEASE = timedelta(minutes=2)
STOP_KEYWORDS = {"stop", "stopsms", "arret", "arreter", "unsubscribe", "desabonner", "desinscrire"}

_OUT = OutgoingMessage._meta.db_table
_Q = OutgoingMessage.Status


class SendError(Exception):
    """The send was refused; the message says why, for the person who asked."""


def _stoplisted(account: SmsAccount, numbers: list[str]) -> set[str]:
    # One query for the whole list: STOP lists are small next to a big send's recipients.
    listed = set(StopListEntry.objects.filter(account=account).values_list("number", flat=True))
    return listed.intersection(numbers)


def job_submit(
    *,
    account: SmsAccount,
    user,
    message: str,
    parsed: rcpt.ParsedRecipients,
    sender: Sender | None = None,
    stop_clause: bool = True,
    sms_class: str = SmsJob.SmsClass.PHONE_DISPLAY,
    tag: str = "",
    scheduled_at: datetime | None = None,
    now: datetime | None = None,
    message_rows_now: bool = False,
) -> SmsJob:
    """Create a job, charge it whole, and queue it (or plan it). Raises SendError.

    `message_rows_now` writes every message row in this transaction even for a large job
    (the API returns their ids)."""
    now = now or timezone.now()
    if account.status != SmsAccount.Status.ENABLE:
        raise SendError(_("This account is disabled: it cannot send SMS."))
    if sender is not None and (
        sender.account_id != account.pk or sender.status != Sender.Status.ENABLE
    ):
        raise SendError(_("This sender is not enabled on this account."))
    if not message:
        raise SendError(_("The message is empty."))
    rates = rates_for({r.region for r in parsed.valid})
    invalid = [[raw, reason] for raw, reason in parsed.invalid]
    served = []
    for recipient in parsed.valid:
        if recipient.region in rates:
            served.append(recipient)
        else:
            invalid.append([recipient.number, "no_rate"])
    stopped = _stoplisted(account, [r.number for r in served])
    sendable = [r for r in served if r.number not in stopped]
    if not sendable:
        raise SendError(_("No recipient can receive this SMS."))
    texts, parts, sms = _texts_and_parts(message, sendable, stop_clause=stop_clause)
    if sms.too_long:
        raise SendError(_("The message is longer than 255 SMS."))
    cost = sum((rates[r.region] * p for r, p in zip(sendable, parts, strict=True)), Decimal("0"))

    send_at = scheduled_at if scheduled_at and scheduled_at > now else now
    if stop_clause:
        send_at = next_commercial_window(send_at)
    planned = send_at > now

    with transaction.atomic():
        job = SmsJob.objects.create(
            account=account,
            created_by=user,
            sender=sender,
            sender_label=sender.sender if sender else "",
            reply_allowed=sender is None or sender.allows_replies,
            message=message,
            stop_clause=stop_clause,
            sms_class=sms_class,
            tag=tag,
            encoding=sms.encoding,
            segments=sms.segments,
            credits=cost,
            scheduled_at=send_at if planned else None,
            status=SmsJob.Status.SCHEDULED if planned else SmsJob.Status.QUEUED,
            recipients_count=len(sendable),
            stoplisted_count=len(stopped),
            duplicates_count=parsed.duplicates,
            invalid_receivers=invalid,
        )
        try:
            credits_debit(
                account=account,
                amount=cost,
                key=f"job:{job.pk}:debit",
                reason=f"#{job.pk}",
                by=user,
            )
        except InsufficientCredits:
            transaction.set_rollback(True)
            raise SendError(
                _("Your credit balance is insufficient: this send needs %(cost)s credits.")
                % {"cost": number_format(cost, 2)}
            ) from None
        rows = [
            (r.number, r.region, r.source, p, t, str(rates[r.region] * p), _Q.QUEUED)
            for r, p, t in zip(sendable, parts, texts, strict=True)
        ] + [
            (r.number, r.region, r.source, sms.segments, "", "0.00", _Q.STOPLISTED)
            for r in served
            if r.number in stopped
        ]
        if len(rows) > INLINE_ROWS and not message_rows_now:
            PendingRecipients.objects.create(job=job, rows=rows)
        else:
            _insert_messages(job=job, rows=rows, now=now)
        if not planned:
            transaction.on_commit(lambda: _enqueue_dispatch(job.pk))
    return job


def _db_datetime(value: datetime):
    """Datetimes in raw SQL go through the backend's adapter, as the ORM's do (SQLite stores
    naive UTC text; a Python datetime with an offset would not compare with it)."""
    return connection.ops.adapt_datetimefield_value(value)


_INSERT_COLUMNS = [
    ("job_id", "bigint"),
    ("account_id", "bigint"),
    ("created_at", "timestamptz"),
    ("attempts", "smallint"),
    ("error_code", "text"),
    ("operator_id", "text"),
    ("receiver", "text"),
    ("country", "text"),
    ("source", "text"),
    ("parts", "smallint"),
    ("text", "text"),
    ("credits", "numeric"),
    ("status", "text"),
]


def _texts_and_parts(message: str, recipients: list, *, stop_clause: bool):
    """Each recipient's text ("" = the job's) and SMS count, and the count of the longest."""
    if not personalize.has_fields(message):
        sms = count(message, stop_clause=stop_clause)
        return [""] * len(recipients), [sms.segments] * len(recipients), sms
    texts = [
        personalize.render(message, name=r.name, surname=r.surname, group=r.group)
        for r in recipients
    ]
    counts = {t: count(t, stop_clause=stop_clause) for t in set(texts)}
    longest = max(counts.values(), key=lambda c: (c.segments, c.units))
    return texts, [counts[t].segments for t in texts], longest


def _insert_messages(*, job: SmsJob, rows: list[tuple], now: datetime) -> None:
    """rows: (receiver, country, source, parts, text, credits as text, status)."""
    head = (job.pk, job.account_id, _db_datetime(now), 0, "", "")
    bulk.insert(_OUT, columns=_INSERT_COLUMNS, rows=[head + row for row in rows])


def _enqueue_dispatch(job_id: int) -> None:
    from .tasks import dispatch_job

    dispatch_job.delay(job_id)


def job_cancel(*, job: SmsJob, by=None) -> bool:
    """Cancel a planned job and refund it whole; False when dispatch already began."""
    with transaction.atomic():
        if not SmsJob.objects.filter(pk=job.pk, status=SmsJob.Status.SCHEDULED).update(
            status=SmsJob.Status.CANCELLED, finished_at=timezone.now()
        ):
            return False
        OutgoingMessage.objects.filter(job=job, status=_Q.QUEUED).update(
            status=_Q.FAILED, error_code="CANCELLED"
        )
        PendingRecipients.objects.filter(job=job).delete()
        # What is left to refund, read after the UPDATE locked the row: message_cancel (the
        # API's DELETE /jobs/{id}) lowers it, maybe after the caller loaded `job`.
        job.credits = SmsJob.objects.values_list("credits", flat=True).get(pk=job.pk)
        if job.credits > 0:
            credits_refund(
                account=job.account,
                amount=job.credits,
                key=f"job:{job.pk}:cancel",
                reason=f"#{job.pk}",
            )
    return True


def message_cancel(*, message: OutgoingMessage) -> bool:
    """Cancel one message of a planned job and refund it; the job is cancelled with its last
    message. False when the job is no longer planned (dispatch began) or the message is gone."""
    with transaction.atomic():
        job = SmsJob.objects.select_for_update().filter(pk=message.job_id).first()
        if job is None or job.status != SmsJob.Status.SCHEDULED:
            return False
        if not OutgoingMessage.objects.filter(pk=message.pk, status=_Q.QUEUED).update(
            status=_Q.FAILED, error_code="CANCELLED"
        ):
            return False
        remaining = job.credits - message.credits
        if OutgoingMessage.objects.filter(job=job, status=_Q.QUEUED).exists():
            SmsJob.objects.filter(pk=job.pk).update(credits=remaining)
        else:
            SmsJob.objects.filter(pk=job.pk).update(
                credits=remaining, status=SmsJob.Status.CANCELLED, finished_at=timezone.now()
            )
        if message.credits > 0:
            credits_refund(
                account=job.account,
                amount=message.credits,
                key=f"message:{message.pk}:cancel",
                reason=f"#{job.pk}",
            )
    return True


def job_dispatch(*, job_id: int) -> int:
    """Fan a due job out into batch tasks; returns the number of batches queued."""
    from .tasks import dispatch_batch

    SmsJob.objects.filter(pk=job_id, status=SmsJob.Status.QUEUED).update(
        status=SmsJob.Status.SENDING, started_at=timezone.now()
    )
    if not SmsJob.objects.filter(pk=job_id, status=SmsJob.Status.SENDING).exists():
        return 0  # cancelled, or finished by an earlier delivery of this task
    _expand_pending(job_id)
    ids = list(
        OutgoingMessage.objects.filter(job_id=job_id, status=_Q.QUEUED, attempts=0)
        .order_by("id")
        .values_list("id", flat=True)
    )
    for start in range(0, len(ids), BATCH_SIZE):
        dispatch_batch.delay(job_id, ids[start : start + BATCH_SIZE])
    if not ids:
        _job_finish_if_complete(job_id)
    return -(-len(ids) // BATCH_SIZE)


def _expand_pending(job_id: int) -> None:
    """Write the messages of a big job (once: the pending row goes in the same transaction)."""
    with transaction.atomic():
        pending = PendingRecipients.objects.select_for_update().filter(job_id=job_id).first()
        if pending is None:
            return
        job = SmsJob.objects.only("id", "account_id", "created_at").get(pk=job_id)
        _insert_messages(job=job, rows=[tuple(row) for row in pending.rows], now=job.created_at)
        pending.delete()


def batch_submit(*, job_id: int, message_ids: list[int], attempt: int = 0) -> None:
    """Submit one batch to the operator and record the answers. Safe to run twice: only
    messages still queued with `attempt` earlier tries are submitted, so a redelivered task
    neither resubmits what was sent nor jumps the wait of a message set back for a retry."""
    job = SmsJob.objects.only(
        "id", "status", "message", "stop_clause", "sender_label", "sms_class", "reply_allowed"
    ).get(pk=job_id)
    if job.status != SmsJob.Status.SENDING:
        return
    rows = list(
        OutgoingMessage.objects.filter(
            id__in=message_ids, job_id=job_id, status=_Q.QUEUED, attempts=attempt
        ).values_list("id", "receiver", "parts", "attempts", "text")
    )
    if rows:
        text, reply_allowed = job.full_text, job.reply_allowed
        results = get_operator().submit(
            [
                OutboundSms(
                    message_id=pk,
                    receiver=receiver,
                    sender=job.sender_label,
                    text=own + STOP_CLAUSE if own and job.stop_clause else own or text,
                    parts=parts,
                    sms_class=job.sms_class,
                    reply_allowed=reply_allowed,
                    attempt=attempts + 1,
                )
                for pk, receiver, parts, attempts, own in rows
            ]
        )
        _record_results(results, {pk: attempts for pk, _, _, attempts, _ in rows})
    _job_finish_if_complete(job_id)


def _record_results(results: list[SubmitResult], attempts: dict[int, int]) -> None:
    now = timezone.now()
    db_now = _db_datetime(now)
    accepted, retry, failed = [], [], []
    for r in results:
        if r.accepted:
            accepted.append((r.operator_id, db_now, r.message_id))
        elif not r.permanent and attempts[r.message_id] < len(RETRY_DELAYS):
            retry.append(
                (
                    _db_datetime(now + RETRY_DELAYS[attempts[r.message_id]]),
                    r.error_code,
                    r.message_id,
                )
            )
        else:
            failed.append((r.message_id, r.error_code or "REJECTED"))
    with transaction.atomic():
        bulk.update_by_id(
            _OUT,
            columns=[("operator_id", "text"), ("submitted_at", "timestamptz")],
            fixed="status = 'submitted', attempts = attempts + 1, error_code = ''",
            where="status = 'queued'",
            rows=accepted,
        )
        bulk.update_by_id(
            _OUT,
            columns=[("next_attempt_at", "timestamptz"), ("error_code", "text")],
            fixed="attempts = attempts + 1",
            where="status = 'queued'",
            rows=retry,
        )
    if failed:
        messages_fail(failures=failed, status=_Q.FAILED, from_statuses=(_Q.QUEUED,))


def messages_fail(*, failures: list[tuple[int, str]], status: str, from_statuses) -> int:
    """Move messages to a refunded final state and give their credits back, exactly once.

    The state change and the refund commit together, and only messages still in
    `from_statuses` move: a second call for the same messages finds nothing to refund.
    """
    codes = dict(failures)
    moved = 0
    with transaction.atomic():
        rows = list(
            OutgoingMessage.objects.select_for_update()
            .filter(id__in=list(codes), status__in=from_statuses)
            .values_list("id", "job_id", "account_id", "credits")
        )
        if not rows:
            return 0
        bulk.update_by_id(
            _OUT,
            columns=[("status", "text"), ("error_code", "text")],
            rows=[(status, codes[pk][:32], pk) for pk, _, _, _ in rows],
        )
        by_job: dict[tuple[int, int], Decimal] = {}
        for _pk, job_id, account_id, credits in rows:
            by_job[(job_id, account_id)] = by_job.get((job_id, account_id), Decimal("0")) + credits
        for (job_id, account_id), amount in by_job.items():
            if amount > 0:
                credits_refund(
                    account=SmsAccount(pk=account_id),
                    amount=amount,
                    key=f"job:{job_id}:refund:{status}:{uuid.uuid4()}",
                    reason=f"#{job_id}",
                )
        moved = len(rows)
    return moved


def _job_finish_if_complete(job_id: int) -> None:
    if not OutgoingMessage.objects.filter(job_id=job_id, status=_Q.QUEUED).exists():
        SmsJob.objects.filter(pk=job_id, status=SmsJob.Status.SENDING).update(
            status=SmsJob.Status.DONE, finished_at=timezone.now()
        )


def jobs_release_due(*, now: datetime | None = None) -> list[int]:
    """Queue planned jobs whose time has come (beat, every few seconds)."""
    now = now or timezone.now()
    with transaction.atomic():
        due = SmsJob.objects.filter(status=SmsJob.Status.SCHEDULED, scheduled_at__lte=now)
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        ids = list(due.values_list("id", flat=True)[:100])
        SmsJob.objects.filter(pk__in=ids, status=SmsJob.Status.SCHEDULED).update(
            status=SmsJob.Status.QUEUED
        )
        for job_id in ids:
            transaction.on_commit(lambda job_id=job_id: _enqueue_dispatch(job_id))
    return ids


def messages_retry_due(*, now: datetime | None = None) -> int:
    """Queue batches of messages whose transient-error retry time has come."""
    from .tasks import dispatch_batch

    now = now or timezone.now()
    with transaction.atomic():
        due = OutgoingMessage.objects.filter(
            status=_Q.QUEUED, attempts__gt=0, next_attempt_at__lte=now
        )
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        rows = list(due.order_by("job_id", "id").values_list("id", "job_id", "attempts")[:5000])
        # Lease them to the batch task: if it is lost, they come back after the lease.
        OutgoingMessage.objects.filter(pk__in=[pk for pk, _, _ in rows]).update(
            next_attempt_at=now + RETRY_LEASE
        )
    groups: dict[tuple[int, int], list[int]] = {}
    for pk, job_id, attempts in rows:
        groups.setdefault((job_id, attempts), []).append(pk)
    for (job_id, attempts), ids in groups.items():
        for start in range(0, len(ids), BATCH_SIZE):
            dispatch_batch.delay(job_id, ids[start : start + BATCH_SIZE], attempts)
    return len(rows)


# --- What comes back from the operator --------------------------------------------------------

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


def delivery_reports_receive(*, reports: list[dict]) -> set[str]:
    """Apply delivery reports (simulator or signed callback). Returns the operator ids that
    match no submitted message yet, so the sender can offer them again later.

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
    for r in final:
        pk = known.get(r["operator_id"])
        if pk is None:
            continue
        reported_at.setdefault(pk, r.get("at") or timezone.now().isoformat())
        status = _REPORT_STATUS[r["status"]]
        at = _db_datetime(datetime.fromisoformat(r["at"]) if r.get("at") else timezone.now())
        if status == _Q.DELIVERED:
            delivered.append((at, pk))
        elif status == _Q.UNDELIVERED:
            undelivered.append((at, (r.get("error_code") or "")[:32], pk))
        else:
            expired.append((pk, (r.get("error_code") or "EXPIRED")[:32]))
    with transaction.atomic():
        bulk.update_by_id(
            _OUT,
            columns=[("delivered_at", "timestamptz")],
            fixed="status = 'delivered'",
            where="status = 'submitted'",
            rows=delivered,
        )
        bulk.update_by_id(
            _OUT,
            columns=[("delivered_at", "timestamptz"), ("error_code", "text")],
            fixed="status = 'undelivered'",
            where="status = 'submitted'",
            rows=undelivered,
        )
    if expired:
        messages_fail(
            failures=expired,
            status=_Q.EXPIRED,
            from_statuses=(_Q.SUBMITTED,),
        )
    _notify_status_changes(pending, reported_at, delivered, undelivered, expired)
    return operator_ids - known.keys()


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


def incoming_messages_receive(*, replies: list[dict]) -> set[str]:
    """Store replies to our messages; a STOP reply also puts the number on the account's
    STOP list. Idempotent (a retried callback changes nothing). Returns the operator ids that
    match no message, so the sender can offer them again later."""
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
