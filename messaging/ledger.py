"""Messages and money: the one way a message reaches a refunded final state.

Lower than dispatch and reports, which both use it.
"""

from datetime import datetime
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from accounts.services import credits_refund_many
from core import bulk

from . import totals
from .models import MessageEvent, OutgoingMessage, SmsJob


def job_reason(job_id: int, campaign=None) -> str:
    """The ledger's reason for a job's charge or refund: its number, and its campaign if any
    (every movement of a campaign names it as its cause)."""
    return f"#{job_id} · {campaign.reason}" if campaign is not None else f"#{job_id}"


def jobs_reasons(job_ids) -> dict[int, str]:
    """job_reason() for several jobs: one query for those of campaigns."""
    reasons = {pk: job_reason(pk) for pk in job_ids}
    for job in SmsJob.objects.filter(pk__in=list(job_ids), campaign__isnull=False).select_related(
        "campaign"
    ).only("id", "campaign__name", "campaign__uuid"):
        reasons[job.pk] = job_reason(job.pk, job.campaign)
    return reasons


def db_datetime(value: datetime):
    """Datetimes in raw SQL go through the backend's adapter, as the ORM's do (SQLite stores
    naive UTC text; a Python datetime with an offset would not compare with it)."""
    return connection.ops.adapt_datetimefield_value(value)


def refund_key(message_id: int) -> str:
    """The ledger key of a message's refund: its credits come back once, whatever the reason
    (failed, expired, undelivered, cancelled)."""
    return f"message:{message_id}:refund"


def messages_fail(
    *,
    failures: list[tuple[int, str]],
    status: str,
    from_statuses,
    claims: dict[int, int] | None = None,
) -> int:
    """Move messages to a refunded final state and give their credits back, exactly once.

    The state change and the refund commit together, and only messages still in
    `from_statuses` move: a second call for the same messages finds nothing to refund.
    With `claims` (message id → attempts), only messages still under that claim move.
    """
    codes = dict(failures)
    moved = 0
    with transaction.atomic():
        rows = list(
            OutgoingMessage.objects.select_for_update()
            .filter(id__in=list(codes), status__in=from_statuses)
            .values_list("id", "job_id", "account_id", "credits", "attempts", "created_at")
        )
        if claims is not None:
            rows = [r for r in rows if claims.get(r[0]) == r[4]]
        if not rows:
            return 0
        bulk.update(
            OutgoingMessage,
            fields=("status", "error_code"),
            rows=[(status, codes[pk][:32], pk) for pk, *_ in rows],
        )
        now = db_datetime(timezone.now())
        bulk.insert(
            MessageEvent,
            fields=("message", "at", "kind", "status", "error_code", "credits"),
            rows=[
                (pk, now, MessageEvent.Kind.REFUND, status, codes[pk][:32], str(credits))
                for pk, _job, _account, credits, _claim, _created in rows
            ],
        )
        totals.add(
            (account, created, status, 1, credits)
            for _pk, _job, account, credits, _claim, created in rows
        )
        # One refund per message, keyed by the message: the ledger's unique key itself refuses
        # a second refund of it, whatever path (a retried task, a late report) tries again.
        reasons = jobs_reasons({job_id for _pk, job_id, *_rest in rows})
        by_account: dict[int, list[tuple[str, Decimal, str]]] = {}
        for pk, job_id, account_id, credits, _claim, _created in rows:
            by_account.setdefault(account_id, []).append(
                (refund_key(pk), credits, reasons[job_id])
            )
        for account_id, refunds in sorted(by_account.items()):
            credits_refund_many(account_id=account_id, refunds=refunds)
        moved = len(rows)
    return moved


def messages_refund_stopped(job: SmsJob, credits: dict[str, Decimal]) -> None:
    """Give back what a job was charged for recipients (number → credits) whose messages were
    just written STOP-listed instead of sent (they answered STOP after the charge: a held
    campaign's recipients). In the caller's transaction; each refund keyed by its message."""
    rows = list(
        OutgoingMessage.objects.filter(
            job_id=job.pk, receiver__in=list(credits), status=OutgoingMessage.Status.STOPLISTED
        ).values_list("id", "receiver")
    )
    now = db_datetime(timezone.now())
    bulk.insert(
        MessageEvent,
        fields=("message", "at", "kind", "status", "error_code", "credits"),
        rows=[
            (pk, now, MessageEvent.Kind.REFUND, OutgoingMessage.Status.STOPLISTED, "STOP",
             str(credits[number]))
            for pk, number in rows
        ],
    )  # fmt: skip
    reason = jobs_reasons([job.pk])[job.pk]
    credits_refund_many(
        account_id=job.account_id,
        refunds=[(refund_key(pk), credits[number], reason) for pk, number in rows],
    )
