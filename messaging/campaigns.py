"""Campaigns (OVH `sms.Batch`): create, prepare, start, pause, resume, cancel, pick the
winner of an A/B test, and the tick that drives them.

A campaign owns one SmsJob per message variant, created by job_submit (same checks and whole
charge as any send) but held: planned with no time, its recipients stored (messaging.held)
rather than written as messages. The campaign's pacer (campaign_pace, run by `tick` from the
dispatch beat every few seconds) writes message rows, already due, so many a minute; the
dispatcher then claims them like any other (the database stays the queue of record). Pausing
takes the due time back from rows not claimed yet; cancelling refunds exactly the rows never
claimed and the recipients still waiting.

    draft (audience gathered and charged by a task) → scheduled → sending ⇄ paused
          → completed | cancelled; failed when it could not be prepared (nothing charged).
"""

from __future__ import annotations

import gc
import logging
import random
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.services import credits_refund
from addressbooks.models import AddressBook, Contact, RecipientList
from core import recipients as rcpt

from . import (
    campaign_pace,
    clicks,
    dispatch,
    held,
    personalize,
    selectors,
    services,
    shortlinks,
    tasks,
    totals,
)
from .campaign_stats import variant_figures
from .forms import INVALID_REASONS
from .ledger import job_reason
from .models import Campaign, MessageEvent, OutgoingMessage, SmsJob, StopListEntry
from .schedule import next_commercial_window

_Q = OutgoingMessage.Status
_C = Campaign.Status
logger = logging.getLogger(__name__)
# A preparation task's claim: after it, the tick hands the campaign to another task. Longer
# than the task may run (tasks.campaign_prepare's time limit), so two never overlap; and the
# result is written only under the claim it was prepared with (_LostClaim).
PREPARE_LEASE = timedelta(minutes=30)
WINNER = "W"


class CampaignError(Exception):
    """The request was refused; the message says why."""


class _LostClaim(Exception):
    """Another task took the preparation over: this one's work is rolled back."""


def rate_for(*, pace_kind: str, pace_value: int | None, recipients: int) -> float | None:
    """Messages a minute: spread over N hours, or at most X a minute; None: no pace."""
    if not pace_value:
        return None
    if pace_kind == "hours":
        return max(recipients, 1) / (pace_value * 60)
    return float(pace_value)


def campaign_create(
    *,
    account,
    user,
    name: str,
    variants: list[dict],
    audience: dict,
    sender=None,
    stop_clause: bool = True,
    sms_class: str = SmsJob.SmsClass.PHONE_DISPLAY,
    tag: str = "",
    start_at: datetime | None = None,
    pace_kind: str = "",
    pace_value: int | None = None,
    track_links: bool = False,
    winner_after_hours: int | None = None,
    winner_metric: str = Campaign.Metric.CLICKS,
    now: datetime | None = None,
) -> Campaign:
    """Record a campaign and queue its preparation (gathering the audience, charging, writing
    the rows): the request returns at once, however big the audience."""
    now = now or timezone.now()
    if account.status != account.Status.ENABLE:
        raise CampaignError(_("This account is disabled: it cannot send SMS."))
    if not name.strip():
        raise CampaignError(_("Give the campaign a name."))
    if not variants or any(not v["message"].strip() for v in variants):
        raise CampaignError(_("The message is empty."))
    shares = sum(v["share"] for v in variants)
    if len(variants) > 1 and (shares > 100 or (shares < 100 and not winner_after_hours)):
        raise CampaignError(
            _("The variants' shares must add up to 100 %, or to less with a winner sent to the rest.")
        )
    if len(variants) == 1:
        variants = [{**variants[0], "share": 100}]
        winner_after_hours = None
    start = start_at if start_at and start_at > now else now
    if stop_clause:
        start = next_commercial_window(start)
    campaign = Campaign.objects.create(
        account=account,
        created_by=user,
        name=name.strip()[:100],
        sender=sender,
        stop_clause=stop_clause,
        sms_class=sms_class,
        tag=tag,
        audience=audience,
        variants=[
            {"label": chr(ord("A") + i), "message": v["message"], "share": v["share"]}
            for i, v in enumerate(variants)
        ],
        track_links=track_links,
        pace_kind=pace_kind if pace_value else "",
        pace_value=pace_value or None,
        start_at=start,
        winner_after_hours=winner_after_hours,
        winner_metric=winner_metric,
    )
    transaction.on_commit(lambda: _queue_prepare(campaign.pk))
    return campaign


def _queue_prepare(campaign_id: int) -> None:
    try:
        tasks.campaign_prepare.delay(campaign_id)
    except Exception:  # noqa: BLE001 - broker down: the tick queues it again after a while
        pass


def _audience(campaign: Campaign) -> rcpt.ParsedRecipients:
    account, chosen = campaign.account, campaign.audience
    return selectors.collect_recipients(
        account=account,
        typed=chosen.get("typed", ""),
        books=AddressBook.objects.filter(account=account, pk__in=chosen.get("books", [])),
        lists=RecipientList.objects.filter(account=account, pk__in=chosen.get("lists", [])),
        contacts=Contact.objects.filter(book__account=account, pk__in=chosen.get("contacts", [])),
    )


def _fail(campaign: Campaign, message: str, errors: list, claim) -> None:
    """Nothing was charged: the campaign failed (unless another task took it over)."""
    Campaign.objects.filter(pk=campaign.pk, status=_C.DRAFT, lease_until=claim).update(
        status=_C.FAILED,
        errors=[*errors, {"receiver": "", "message": message}],
        finished_at=timezone.now(),
        lease_until=None,
    )


def _render(message: str, track: bool):
    """job_submit's `render` for a variant with tracked links, or None: each recipient's text
    (its links are made when its message row is written, messaging.held) and the text to
    count it by, with a short link of the fixed length in place of each URL."""
    if not track or not shortlinks.urls_in(message):
        return None
    shaped = shortlinks.shape(message)
    if not personalize.has_fields(message):
        return lambda r: ("", shaped)

    used = personalize.fields_used(message)
    done: dict[tuple, tuple[str, str]] = {}  # by the values of the fields used (names repeat)

    def render(r):
        key = tuple(getattr(r, f) for f in used)
        if key not in done:
            fields = {"name": r.name, "surname": r.surname, "group": r.group}
            done[key] = personalize.render(message, **fields), personalize.render(shaped, **fields)
        return done[key]

    return render


def campaign_prepare(campaign_id: int, *, now: datetime | None = None) -> bool:
    """Gather the audience, split it between the variants, and submit one held job per
    variant, all charged or none. False when another task holds the campaign or it is no
    longer a draft."""
    # A million recipients are millions of small objects that make no reference cycles: the
    # cyclic collector's passes over them were a fifth of the time (bench/campaigns.py).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _prepare(campaign_id, now=now)
    finally:
        if collecting:
            gc.enable()


def _prepare(campaign_id: int, *, now: datetime | None) -> bool:
    now = now or timezone.now()
    claimed = (
        Campaign.objects.filter(pk=campaign_id, status=_C.DRAFT)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(lease_until=now + PREPARE_LEASE)
    )
    if not claimed:
        return False
    campaign = Campaign.objects.select_related("account", "sender", "created_by").get(
        pk=campaign_id
    )
    claim = campaign.lease_until
    clock = dispatch.StageClock()
    parsed = _audience(campaign)
    clock.lap("audience")
    split = selectors.recipients_served(parsed.valid)
    errors = [
        {"receiver": raw, "message": str(INVALID_REASONS.get(reason, reason))}
        for raw, reason in [*parsed.invalid, *split.unserved]
    ]
    listed = set(
        StopListEntry.objects.filter(account=campaign.account).values_list("number", flat=True)
    )
    stopped = [r for r in split.recipients if r.number in listed]
    sendable = [r for r in split.recipients if r.number not in listed]
    if not sendable:
        _fail(campaign, _("No recipient can receive this SMS."), errors, claim)
        return True
    # Each variant gets a random part of the audience (the same one if prepared again).
    random.Random(campaign.uuid.int).shuffle(sendable)
    groups, start = [], 0
    for i, variant in enumerate(campaign.variants):
        last = i == len(campaign.variants) - 1 and not campaign.winner_after_hours
        size = len(sendable) - start if last else round(len(sendable) * variant["share"] / 100)
        groups.append(sendable[start : start + size])
        start += size
    rest = sendable[start:]
    clock.lap("split")
    jobs = []
    try:
        with transaction.atomic():
            for variant, group in zip(campaign.variants, groups, strict=True):
                if not group:
                    continue
                extra = stopped if not jobs else []  # STOP-listed rows go with the first job
                job = services.job_submit(
                    account=campaign.account,
                    user=campaign.created_by,
                    message=variant["message"],
                    parsed=rcpt.ParsedRecipients(
                        valid=group + extra,
                        duplicates=parsed.duplicates if not jobs else 0,
                    ),
                    sender=campaign.sender,
                    stop_clause=campaign.stop_clause,
                    sms_class=campaign.sms_class,
                    tag=campaign.tag,
                    now=now,
                    campaign=campaign,
                    variant=variant["label"],
                    render=_render(variant["message"], campaign.track_links),
                )
                jobs.append(job)
            rest_cost = _rest_estimate(campaign, rest, split.rates)
            mine = Campaign.objects.filter(pk=campaign.pk, status=_C.DRAFT, lease_until=claim)
            if not mine.update(
                status=_C.SCHEDULED,
                estimated_credits=sum((j.credits for j in jobs), Decimal("0")) + rest_cost,
                total_records=len(split.recipients) + len(split.unserved) + len(parsed.invalid),
                rest=[[r.number, r.region, r.source, r.name, r.surname, r.group] for r in rest],
                errors=errors,
                lease_until=None,
                rate_per_minute=rate_for(
                    pace_kind=campaign.pace_kind,
                    pace_value=campaign.pace_value,
                    recipients=len(sendable),
                ),
            ):
                raise _LostClaim
    except services.SendError as error:
        _fail(campaign, str(error), errors, claim)
        return True
    except _LostClaim:
        return False
    clock.lap("charge and store")
    campaign.refresh_from_db()
    # The pace counts from when sending starts, after the preparation (seconds for a million
    # recipients), not from when it began: else the first release would catch up at once.
    started = max(now, timezone.now())
    if campaign.start_at <= started:
        campaign_start(campaign, now=started)
    clock.lap("start")
    logger.info(
        "campaign %s prepared: %s recipients; seconds: %s", campaign.pk, len(sendable), clock
    )
    return True


def _rest_estimate(campaign: Campaign, rest: list, rates: dict) -> Decimal:
    """What the rest will cost with the longest variant (the winner is not known yet)."""
    if not rest:
        return Decimal("0")
    from .encoding import count

    segments = max(
        count(
            shortlinks.shape(v["message"]) if campaign.track_links else v["message"],
            stop_clause=campaign.stop_clause,
        ).segments
        for v in campaign.variants
    )
    return sum((rates[r.region] * segments for r in rest), Decimal("0"))


# --- Lifecycle --------------------------------------------------------------------------------


def campaign_start(campaign: Campaign, *, now: datetime | None = None) -> int | None:
    """Start sending; returns the rows released at once (None: it was not scheduled)."""
    now = now or timezone.now()
    with transaction.atomic():
        if not Campaign.objects.filter(pk=campaign.pk, status=_C.SCHEDULED).update(
            status=_C.SENDING, started_at=now, anchor_at=None
        ):
            return None
        SmsJob.objects.filter(campaign=campaign, status=SmsJob.Status.SCHEDULED).update(
            status=SmsJob.Status.SENDING, started_at=now
        )
    for job_id in SmsJob.objects.filter(campaign=campaign).values_list("id", flat=True):
        dispatch.job_finish_if_complete(job_id)  # a variant whose recipients were STOP-listed
    campaign.refresh_from_db()
    return campaign_pace.campaign_release(campaign, now=now)


def campaign_pause(campaign: Campaign) -> bool:
    """Stop releasing; rows released but not claimed yet are held again."""
    with transaction.atomic():
        if not Campaign.objects.filter(pk=campaign.pk, status=_C.SENDING).update(
            status=_C.PAUSED, anchor_at=None
        ):
            return False
        taken_back = OutgoingMessage.objects.filter(
            job__campaign=campaign, status=_Q.QUEUED, next_attempt_at__isnull=False
        ).update(next_attempt_at=None)
        Campaign.objects.filter(pk=campaign.pk).update(released=F("released") - taken_back)
    return True


def campaign_resume(campaign: Campaign) -> bool:
    with transaction.atomic():
        return bool(
            Campaign.objects.filter(pk=campaign.pk, status=_C.PAUSED).update(
                status=_C.SENDING, anchor_at=None
            )
        )


def campaign_cancel(campaign: Campaign, *, now: datetime | None = None) -> Decimal | None:
    """Cancel and refund every message not claimed by a dispatcher yet (the rest, never
    charged, is dropped). Returns the credits refunded, or None when it cannot be cancelled."""
    now = now or timezone.now()
    refunded = Decimal("0")
    with transaction.atomic():
        if not Campaign.objects.filter(pk=campaign.pk, status__in=Campaign.CANCELLABLE).update(
            status=_C.CANCELLED, finished_at=now, rest=[], anchor_at=None
        ):
            return None
        campaign.refresh_from_db()
        for job in SmsJob.objects.filter(campaign=campaign).select_related("account"):
            # Due rows not claimed yet lose their due time first: no pump can take them now
            # (on PostgreSQL this UPDATE also locks them until the cancellation commits).
            OutgoingMessage.objects.filter(job=job, status=_Q.QUEUED).update(next_attempt_at=None)
            # Recipients whose turn had not come are refunded now, and written as cancelled
            # messages below (a big audience's rest by the next ticks).
            amount = _cancel_rows(job, now) + held.credits_waiting(job)
            if amount > 0:
                credits_refund(
                    account=job.account,
                    amount=amount,
                    key=f"campaign:{campaign.uuid}:cancel:{job.pk}",
                    reason=job_reason(job.pk, campaign),
                )
            refunded += amount
            if not OutgoingMessage.objects.filter(
                job=job, status__in=OutgoingMessage.IN_FLIGHT
            ).exists():
                sent = OutgoingMessage.objects.filter(job=job).exclude(
                    status__in=(_Q.CANCELLED, _Q.STOPLISTED)
                )
                SmsJob.objects.filter(pk=job.pk, status__in=SmsJob.UNSENT).update(
                    status=SmsJob.Status.DONE if sent.exists() else SmsJob.Status.CANCELLED,
                    finished_at=now,
                )
    held.write_cancelled(campaign_pace.UNPACED_PER_TICK, job_ids=campaign.jobs.values_list("id", flat=True))
    return refunded


def _cancel_rows(job: SmsJob, now: datetime, chunk: int = 5000) -> Decimal:
    total = Decimal("0")
    while True:
        rows = list(
            OutgoingMessage.objects.filter(job=job, status=_Q.QUEUED)
            .order_by("id")
            .values_list("id", "credits", "account_id", "created_at")[:chunk]
        )
        if not rows:
            return total
        OutgoingMessage.objects.filter(pk__in=[r[0] for r in rows]).update(status=_Q.CANCELLED)
        totals.add((account, at, _Q.CANCELLED, 1, c) for _pk, c, account, at in rows)
        MessageEvent.objects.bulk_create(
            [
                MessageEvent(
                    message_id=pk, at=now, kind=MessageEvent.Kind.REFUND,
                    status=_Q.CANCELLED, credits=credits,
                )  # fmt: skip
                for pk, credits, _account, _at in rows
            ],
            batch_size=1000,
        )
        total += sum((r[1] for r in rows), Decimal("0"))


def campaign_rename(campaign: Campaign, name: str) -> None:
    name = name.strip()[:100]
    if not name:
        raise CampaignError(_("Give the campaign a name."))
    Campaign.objects.filter(pk=campaign.pk).update(name=name)
    campaign.name = name


def campaign_delete(campaign: Campaign) -> bool:
    """Remove a finished campaign from the lists; its messages stay in the history and its
    short links keep redirecting. False while it can still send (cancel it first)."""
    if campaign.status not in Campaign.FINAL:
        return False
    campaign.delete()
    return True


# --- The winner of an A/B test ----------------------------------------------------------------


def campaign_pick_winner(campaign: Campaign, *, now: datetime | None = None) -> str | None:
    """After the test's hours, send the best variant's text to the rest (charged now)."""
    now = now or timezone.now()
    if campaign.winner_metric == Campaign.Metric.CLICKS and not clicks.flushed():
        return None  # clicks are waiting in Redis: decide at a later tick, with all of them
    figures = {v["label"]: v for v in variant_figures(campaign)}
    metric = "click_rate" if campaign.winner_metric == Campaign.Metric.CLICKS else "reply_rate"
    tested = [v for v in campaign.variants if v["label"] in figures]
    if not tested:
        return None
    best = max(tested, key=lambda v: figures[v["label"]][metric])  # ties: the first variant
    with transaction.atomic():
        if not Campaign.objects.filter(
            pk=campaign.pk, status__in=(_C.SENDING, _C.PAUSED), winner=""
        ).update(winner=best["label"]):
            return None
        rest = [rcpt.Recipient(*row) for row in campaign.rest]
        if rest:
            try:
                with transaction.atomic():
                    job = services.job_submit(
                        account=campaign.account,
                        user=campaign.created_by,
                        message=best["message"],
                        parsed=rcpt.ParsedRecipients(valid=rest),
                        sender=campaign.sender,
                        stop_clause=campaign.stop_clause,
                        sms_class=campaign.sms_class,
                        tag=campaign.tag,
                        now=now,
                        campaign=campaign,
                        variant=WINNER,
                        render=_render(best["message"], campaign.track_links),
                    )
                    SmsJob.objects.filter(pk=job.pk).update(
                        status=SmsJob.Status.SENDING, started_at=now
                    )
            except services.SendError as error:
                Campaign.objects.filter(pk=campaign.pk).update(
                    errors=[*campaign.errors, {"receiver": "", "message": str(error)}]
                )
        Campaign.objects.filter(pk=campaign.pk).update(rest=[], anchor_at=None)
    return best["label"]


# --- The pacer (dispatch beat) ------------------------------------------------------------------


def tick(*, now: datetime | None = None) -> int:
    """Start due campaigns, release rows at each one's pace, pick winners, finish the ones
    whose jobs are all done, and hand drafts whose preparation died to a new task. Returns
    the rows released."""
    now = now or timezone.now()
    for pk in Campaign.objects.filter(status=_C.DRAFT).filter(
        Q(lease_until__lt=now) | Q(lease_until__isnull=True, created_at__lt=now - timedelta(seconds=30))
    ).values_list("id", flat=True)[:10]:
        _queue_prepare(pk)
    held.write_cancelled(campaign_pace.UNPACED_PER_TICK)
    released = 0
    for campaign in Campaign.objects.filter(status=_C.SCHEDULED, start_at__lte=now):
        released += campaign_start(campaign, now=now) or 0
    for campaign in Campaign.objects.filter(status__in=(_C.SENDING, _C.PAUSED)).select_related(
        "account", "sender", "created_by"
    ):
        if (
            campaign.winner_after_hours
            and not campaign.winner
            and campaign.started_at
            and now >= campaign.started_at + timedelta(hours=campaign.winner_after_hours)
        ):
            campaign_pick_winner(campaign, now=now)
            campaign.refresh_from_db()
        if campaign.status == _C.SENDING:
            released += campaign_pace.campaign_release(campaign, now=now)
            campaign_finish_if_complete(campaign, now=now)
    return released


def campaign_finish_if_complete(campaign: Campaign, *, now: datetime | None = None) -> bool:
    if campaign.rest:  # waits for its winner
        return False
    if SmsJob.objects.filter(campaign=campaign, status__in=SmsJob.UNSENT).exists():
        return False
    return bool(
        Campaign.objects.filter(pk=campaign.pk, status=_C.SENDING).update(
            status=_C.COMPLETED, finished_at=now or timezone.now()
        )
    )

