"""A campaign's pacer: how many of its held messages go out by now, and releasing them (rows
written due from messaging.held, or given back their due time after a pause). Run by
campaigns.tick, the dispatch beat's work every few seconds."""

from __future__ import annotations

import math
from datetime import datetime

from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from core import bulk

from . import dispatch, held, shortlinks
from .models import Campaign, OutgoingMessage, SmsJob
from .schedule import in_commercial_window

_Q = OutgoingMessage.Status
_C = Campaign.Status


def _held(job_ids) -> Q:
    return Q(job_id__in=list(job_ids), status=_Q.QUEUED, next_attempt_at__isnull=True)


def campaign_release(campaign: Campaign, *, now: datetime | None = None) -> int:
    """Release as many held messages as the pace allows by now (due now: their rows written
    from messaging.held, or given back their due time after a pause); returns how many.

    The pace counts from an anchor (moment, messages released then), set at the first release
    after a start, a resume or the commercial window's opening, so a stop never turns into a
    burst afterwards."""
    now = now or timezone.now()
    if campaign.status != _C.SENDING:
        return 0
    if campaign.stop_clause and not in_commercial_window(now):
        if campaign.anchor_at is not None:
            Campaign.objects.filter(pk=campaign.pk).update(anchor_at=None)
        return 0
    jobs = list(
        SmsJob.objects.filter(campaign=campaign, status=SmsJob.Status.SENDING)
        .only("id", "account_id", "created_at", "message")
        .order_by("id")
    )
    if not jobs:
        return 0
    if campaign.anchor_at is None:
        campaign.anchor_at, campaign.anchor_count = now, campaign.released
    rate = campaign.rate_per_minute
    released = 0
    if rate is None:
        for job in jobs:
            released += _release(campaign, job, UNPACED_PER_TICK, now)
    else:
        minutes = (now - campaign.anchor_at).total_seconds() / 60
        target = campaign.anchor_count + math.floor(rate * minutes) + 1  # the first one at once
        wanted = target - campaign.released
        if wanted > 0:
            released = _release_share(campaign, jobs, wanted, now)
            if released < wanted:
                # Fewer held messages than the pace allows (a variant ran out, the rest waits
                # for its winner): count the pace from now, not from a debt.
                campaign.anchor_at, campaign.anchor_count = now, campaign.released + released
    Campaign.objects.filter(pk=campaign.pk).update(
        released=F("released") + released,
        anchor_at=campaign.anchor_at,
        anchor_count=campaign.anchor_count,
    )
    campaign.released += released
    if released:
        transaction.on_commit(dispatch.pumps_wake)
    return released


# Without a pace, messages released per tick and variant: a tick stays around a second, so
# the other campaigns' paces are not held up (about 10,000 messages a second, near what the
# dispatchers take).
UNPACED_PER_TICK = 20_000


def _release(campaign: Campaign, job: SmsJob, quota: int, now: datetime) -> int:
    """Release up to `quota` of a job's held messages: rows held again by a pause first, then
    new rows written from its waiting recipients."""
    with bulk.atomic_write():
        # Any held rows will do (the audience was shuffled): no ORDER BY.
        ids = list(
            OutgoingMessage.objects.filter(_held([job.pk]))
            .order_by()
            .values_list("id", flat=True)[:quota]
        )
        released = (
            OutgoingMessage.objects.filter(
                pk__in=ids, status=_Q.QUEUED, next_attempt_at__isnull=True
            ).update(next_attempt_at=now)
            if ids
            else 0
        )
    if released < quota:
        links = shortlinks.urls_in(job.message) if campaign.track_links else []
        released += held.write(job, quota - released, due=now, now=now, links=links)
    return released


def _release_share(campaign: Campaign, jobs: list[SmsJob], wanted: int, now: datetime) -> int:
    """Release `wanted` held messages, shared between the jobs by what each still holds (so
    the variants of a test go out side by side)."""
    if len(jobs) > 1:
        ids = [j.pk for j in jobs]
        holds = dict(
            OutgoingMessage.objects.filter(_held(ids))
            .values_list("job_id")
            .annotate(n=Count("id"))
            .order_by()
        )
        for job_id, n in held.waiting(ids).items():
            holds[job_id] = holds.get(job_id, 0) + n
    else:
        holds = {jobs[0].pk: wanted}
    total = sum(holds.values())
    if not total:
        return 0
    wanted = min(wanted, total)
    # Shares of `wanted` by what each job holds, rounded so they add up to it exactly.
    quotas = {job_id: wanted * n // total for job_id, n in holds.items()}
    by_remainder = sorted(holds, key=lambda j: (wanted * holds[j]) % total, reverse=True)
    for job_id in by_remainder[: wanted - sum(quotas.values())]:
        quotas[job_id] += 1
    return sum(_release(campaign, job, quotas[job.pk], now) for job in jobs if quotas.get(job.pk))
