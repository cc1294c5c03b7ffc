"""A campaign's statistics (OVH `sms.BatchStatistics` and more): messages by state, credits
against the estimate, replies, STOP replies and clicks, per variant and per country, a chart of
messages sent over time, and the CSV of per-recipient outcomes.

Aggregates in SQL (a few queries whatever the campaign's size)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.db import connections
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Substr, TruncHour, TruncMinute
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.csv_export import paris_time
from core.dates import PARIS

from .models import (
    Campaign,
    HeldRecipients,
    IncomingMessage,
    OutgoingMessage,
    ShortLink,
    SmsJob,
    StopListEntry,
)
from .stats import FAILED, SENT, Bar, Chart

_S = OutgoingMessage.Status


def _counts(qs) -> dict:
    return qs.aggregate(
        total=Count("id"),
        sent=Count("id", filter=Q(status__in=SENT)),
        delivered=Count("id", filter=Q(status=_S.DELIVERED)),
        failed=Count("id", filter=Q(status__in=(*FAILED, _S.FAILED))),
        pending=Count("id", filter=Q(status__in=OutgoingMessage.IN_FLIGHT)),
        stoplisted=Count("id", filter=Q(status=_S.STOPLISTED)),
        cancelled=Count("id", filter=Q(status=_S.CANCELLED)),
        credits=Sum("credits", filter=~Q(status__in=OutgoingMessage.REFUNDED)),
    )


def _rate(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


def variant_figures(campaign: Campaign) -> list[dict]:
    """Per variant (job): messages by state, recipients who clicked, clicks, replies, STOPs."""
    jobs = list(SmsJob.objects.filter(campaign=campaign).order_by("id"))
    by_job = {
        row["job_id"]: row
        for row in OutgoingMessage.objects.filter(job__in=jobs)
        .values("job_id")
        .annotate(
            total=Count("id"),
            sent=Count("id", filter=Q(status__in=SENT)),
            delivered=Count("id", filter=Q(status=_S.DELIVERED)),
            failed=Count("id", filter=Q(status__in=(*FAILED, _S.FAILED))),
        )
        .order_by()
    }
    clicks = {
        row["job_id"]: row
        for row in ShortLink.objects.filter(job__in=jobs)
        .values("job_id")
        .annotate(
            total_clicks=Sum("clicks"),
            clickers=Count("receiver", distinct=True, filter=Q(clicks__gt=0)),
        )
        .order_by()
    }
    replies = dict(
        IncomingMessage.objects.filter(outgoing__job__in=jobs)
        .values_list("outgoing__job_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    stops = dict(
        StopListEntry.objects.filter(outgoing__job__in=jobs)
        .values_list("outgoing__job_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    texts = {v["label"]: v["message"] for v in campaign.variants}
    figures = []
    for job in jobs:
        row = by_job.get(job.pk, {})
        sent = row.get("sent", 0)
        clicked = clicks.get(job.pk, {})
        figure = {
            "label": job.variant,
            "job": job,
            "message": texts.get(job.variant, job.message),
            "recipients": job.recipients_count,
            "sent": sent,
            "delivered": row.get("delivered", 0),
            "failed": row.get("failed", 0),
            "clicks": clicked.get("total_clicks") or 0,
            "clickers": clicked.get("clickers") or 0,
            "replies": replies.get(job.pk, 0),
            "stops": stops.get(job.pk, 0),
        }
        figure["click_rate"] = _rate(figure["clickers"], sent)
        figure["reply_rate"] = _rate(figure["replies"], sent)
        figure["delivery_rate"] = _rate(figure["delivered"], sent)
        figures.append(figure)
    return figures


def statistics(campaign: Campaign) -> dict:
    """The campaign's figures: OVH's BatchStatistics plus replies, STOPs, clicks, variants and
    countries."""
    messages = OutgoingMessage.objects.filter(job__campaign=campaign)
    counts = _counts(messages)
    # Recipients whose message row the pacer has not written yet (messaging.held): pending,
    # or cancelled with their campaign (written as such by the next tick).
    waiting = (
        HeldRecipients.objects.filter(job__campaign=campaign).aggregate(
            n=Sum(F("size") - F("taken"))
        )["n"]
        or 0
    )
    counts["total"] += waiting
    if campaign.status == Campaign.Status.CANCELLED:
        counts["cancelled"] += waiting
    else:
        counts["pending"] += waiting
    variants = variant_figures(campaign)
    countries = list(
        messages.values("country")
        .annotate(
            total=Count("id"),
            sent=Count("id", filter=Q(status__in=SENT)),
            delivered=Count("id", filter=Q(status=_S.DELIVERED)),
            failed=Count("id", filter=Q(status__in=(*FAILED, _S.FAILED))),
        )
        .order_by("-total", "country")
    )
    return {
        **counts,
        "credits": counts["credits"] or Decimal("0.00"),
        "estimated_credits": campaign.estimated_credits,
        "waiting_winner": len(campaign.rest),
        "replies": sum(v["replies"] for v in variants),
        "stops": sum(v["stops"] for v in variants),
        "clicks": sum(v["clicks"] for v in variants),
        "clickers": sum(v["clickers"] for v in variants),
        "variants": variants,
        "countries": countries,
        "progress_pct": round(100 * (counts["total"] - counts["pending"]) / counts["total"])
        if counts["total"]
        else 0,
    }


def sent_over_time(campaign: Campaign, *, now: datetime | None = None) -> Chart:
    """Messages handed to the operator per minute (per hour past two hours of sending)."""
    now = now or timezone.now()
    start = campaign.started_at or now
    end = campaign.finished_at or now
    by_minute = end - start <= timedelta(hours=2)
    rows = OutgoingMessage.objects.filter(job__campaign=campaign, submitted_at__isnull=False)
    if connections[rows.db].vendor == "sqlite":
        bucket = Substr("submitted_at", 1, 16 if by_minute else 13)
    else:
        bucket = (TruncMinute if by_minute else TruncHour)("submitted_at", tzinfo=UTC)
    counts = {}
    for value, n in rows.annotate(b=bucket).values_list("b").annotate(n=Count("id")).order_by():
        if isinstance(value, str):
            value = datetime.strptime(value, "%Y-%m-%d %H:%M" if by_minute else "%Y-%m-%d %H")
            value = value.replace(tzinfo=UTC)
        counts[value] = n
    step = timedelta(minutes=1) if by_minute else timedelta(hours=1)
    first = start.replace(second=0, microsecond=0)
    if not by_minute:
        first = first.replace(minute=0)
    points, moment = [], first
    while moment <= end and len(points) < 240:
        points.append((moment, counts.get(moment, 0)))
        moment += step
    return _chart(points, per=_("minute") if by_minute else _("hour"))


def _chart(points: list[tuple[datetime, int]], *, per: str, width=600, height=180) -> Chart:
    pad_left, pad_right, pad_top, pad_bottom = 36, 6, 8, 22
    plot_w, plot_h = width - pad_left - pad_right, height - pad_top - pad_bottom
    top = max((n for _m, n in points), default=0) or 1
    step = plot_w / max(len(points), 1)
    gap = max(step * 0.2, 0.5)
    baseline = pad_top + plot_h
    every = max(1, len(points) // 6)
    bars = []
    for i, (moment, n) in enumerate(points):
        h = round(plot_h * n / top, 2)
        shown = formats.time_format(moment.astimezone(PARIS), "H:i")
        bars.append(
            Bar(
                day=moment,
                count=n,
                x=round(pad_left + i * step + gap / 2, 2),
                y=round(baseline - h, 2),
                width=round(step - gap, 2),
                height=h,
                title=ngettext("%(at)s: %(n)s SMS sent", "%(at)s: %(n)s SMS sent", n)
                % {"at": shown, "n": n},
                label=shown if i % every == 0 else "",
            )
        )
    chart = Chart(bars=bars, width=width, height=height, top=top, baseline=baseline, left=pad_left)
    chart.per = per
    return chart


# --- CSV of per-recipient outcomes ----------------------------------------------------------------


def export_rows(campaign: Campaign, chunk: int = 2000):
    """Header, then one line per recipient: variant, state, times, clicks and replies."""
    header = [
        _("Recipient"),
        _("Variant"),
        _("Status"),
        _("SMS"),
        _("Credits"),
        _("Sent at"),
        _("Report received at"),
        _("Error"),
        _("Clicks"),
        _("First click"),
        _("Replies"),
    ]
    statuses = {value: str(label) for value, label in _S.choices}
    waiting_label = statuses[
        _S.CANCELLED if campaign.status == Campaign.Status.CANCELLED else _S.QUEUED
    ]
    separator = formats.get_format("DECIMAL_SEPARATOR")
    jobs = {j.pk: j.variant for j in SmsJob.objects.filter(campaign=campaign)}

    def rows():
        yield header
        for job_id, variant in jobs.items():
            last = 0
            while True:
                batch = list(
                    OutgoingMessage.objects.filter(job_id=job_id, id__gt=last)
                    .order_by("id")
                    .values_list(
                        "id", "receiver", "status", "parts", "credits", "submitted_at",
                        "delivered_at", "error_code",
                    )[:chunk]  # fmt: skip
                )
                if not batch:
                    break
                last = batch[-1][0]
                numbers = [b[1] for b in batch]
                links = {}
                for receiver, clicks, first in ShortLink.objects.filter(
                    job_id=job_id, receiver__in=numbers
                ).values_list("receiver", "clicks", "first_click_at"):
                    total, earliest = links.get(receiver, (0, None))
                    links[receiver] = (total + clicks, min(filter(None, (earliest, first)), default=None))
                replies = dict(
                    IncomingMessage.objects.filter(outgoing_id__in=[b[0] for b in batch])
                    .values_list("outgoing_id")
                    .annotate(n=Count("id"))
                    .order_by()
                )
                for pk, receiver, status, parts, credits, submitted, delivered, error in batch:
                    clicks, first = links.get(receiver, (0, None))
                    yield [
                        receiver,
                        variant,
                        statuses.get(status, status),
                        parts,
                        f"{credits:.2f}".replace(".", separator),
                        paris_time(submitted),
                        paris_time(delivered),
                        error,
                        clicks,
                        paris_time(first),
                        replies.get(pk, 0),
                    ]
            # Recipients not released yet: no message row so far.
            for waiting, taken in HeldRecipients.objects.filter(job_id=job_id).values_list(
                "rows", "taken"
            ):
                for receiver, _country, _source, parts, _text, credits in waiting[taken:]:
                    yield [
                        receiver, variant, waiting_label, parts,
                        f"{Decimal(credits):.2f}".replace(".", separator), "", "", "", 0, "", 0,
                    ]  # fmt: skip

    return rows()
