"""The staff page "Dispatch health": why is my message stuck (what waits, what is late, what no
report matched). Reads only; the dispatch itself is messaging.dispatch."""

from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Min
from django.utils import timezone

from .dispatch import slot_key
from .models import OutgoingMessage, SmsJob, UnmatchedReport

_Q = OutgoingMessage.Status


def health(*, now: datetime | None = None) -> dict:
    """Why is my message stuck: what waits, what is late, what no report matched."""
    now = now or timezone.now()
    in_flight = OutgoingMessage.objects.filter(status__in=OutgoingMessage.IN_FLIGHT)
    due = in_flight.filter(status=_Q.QUEUED, next_attempt_at__lte=now)
    oldest_due = due.aggregate(at=Min("next_attempt_at"))["at"]
    expired_leases = in_flight.filter(status=_Q.SUBMITTING, next_attempt_at__lt=now)
    unmatched = UnmatchedReport.objects.all()
    stale_after = now - timedelta(days=1)
    by_status = dict(
        OutgoingMessage.objects.values_list("status").annotate(n=Count("id")).order_by()
    )
    jobs = SmsJob.objects.select_related("account").order_by("id")
    stuck = [
        *jobs.filter(status=SmsJob.Status.SCHEDULED, scheduled_at__lt=now - timedelta(minutes=1)),
        *jobs.filter(status=SmsJob.Status.QUEUED, created_at__lt=now - timedelta(minutes=1)),
        # Retries end 15 minutes after the first attempt: a job sending for longer is stuck
        # (a campaign's jobs go at their campaign's pace, hours maybe).
        *jobs.filter(
            status=SmsJob.Status.SENDING,
            started_at__lt=now - timedelta(minutes=20),
            campaign__isnull=True,
        ),
    ][:50]
    pumps = []
    for n in range(settings.DISPATCH["PUMPS"]):
        try:
            pumps.append(cache.get(slot_key(str(n))) is not None)
        except Exception:  # noqa: BLE001 - the page shows the cache is unreachable
            pumps.append(None)
    return {
        "now": now,
        "by_status": [(label, by_status.get(value, 0)) for value, label in _Q.choices],
        "due": due.count(),
        "oldest_due": oldest_due,
        "oldest_due_late": (now - oldest_due) if oldest_due else None,
        "held": in_flight.filter(status=_Q.QUEUED, next_attempt_at__isnull=True).count(),
        "retrying": in_flight.filter(status=_Q.QUEUED, next_attempt_at__gt=now).count(),
        "submitting": in_flight.filter(status=_Q.SUBMITTING).count(),
        "expired_leases": expired_leases.count(),
        "unmatched": unmatched.count(),
        "unmatched_stale": list(unmatched.filter(received_at__lt=stale_after)[:50]),
        "unmatched_stale_count": unmatched.filter(received_at__lt=stale_after).count(),
        "stuck_jobs": stuck,
        "pumps": pumps,
        "lease_seconds": settings.DISPATCH["LEASE_SECONDS"],
    }
