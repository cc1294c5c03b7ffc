"""Dashboard figures of an account: counts for a period and a 30-day chart of sent SMS.

Two aggregate queries, whatever the history's size: the period's figures (conditional
counts) and the sent messages of the last 30 days grouped by hour. Both read every message
of their time range, so they are only as fast as the index on (account, created_at) lets
them be (see bench/history.py).
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.db import connections
from django.db.models import Count, DecimalField, Q, Sum, Value
from django.db.models.functions import Coalesce, Substr, TruncHour
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.dates import PARIS, day_start

from .models import OutgoingMessage

_S = OutgoingMessage.Status

# Left the panel: accepted by the operator, whatever happened next.
SENT = (_S.SUBMITTED, _S.DELIVERED, _S.UNDELIVERED, _S.EXPIRED)
FAILED = (_S.FAILED, _S.EXPIRED, _S.UNDELIVERED)
# Given back to the account (messages_fail, cancellations): not spent. Cancelled messages
# are counted apart: nobody tried to send them.
REFUNDED = OutgoingMessage.REFUNDED

PERIODS = {
    "today": _("Today"),
    "7d": _("Last 7 days"),
    "all": _("Since the beginning"),
}
DEFAULT_PERIOD = "today"
CHART_DAYS = 30


def period_start(period: str, today: date) -> datetime | None:
    if period == "today":
        return day_start(today)
    if period == "7d":
        return day_start(today - timedelta(days=6))
    return None


@dataclass
class Bar:
    day: date
    count: int
    x: float
    y: float
    width: float
    height: float
    title: str
    label: str  # axis label, every 5 days counting back from today


@dataclass
class Chart:
    bars: list[Bar]
    width: int
    height: int
    top: int  # the value of the top of the scale
    baseline: float  # y of the zero line
    left: int  # x of the first bar's slot; the scale's labels end just before it


def build_chart(days: list[tuple[date, int]], *, width=600, height=180) -> Chart:
    """Geometry of an SVG bar chart; the template only draws it."""
    pad_left, pad_right, pad_top, pad_bottom = 36, 6, 8, 22
    plot_w = width - pad_left - pad_right
    plot_h = height - pad_top - pad_bottom
    top = max((n for _d, n in days), default=0) or 1
    step = plot_w / max(len(days), 1)
    gap = max(step * 0.2, 1)
    baseline = pad_top + plot_h
    bars = []
    for i, (day, n) in enumerate(days):
        h = round(plot_h * n / top, 2)
        shown = formats.date_format(day, "j M")
        bars.append(
            Bar(
                day=day,
                count=n,
                x=round(pad_left + i * step + gap / 2, 2),
                y=round(baseline - h, 2),
                width=round(step - gap, 2),
                height=h,
                title=ngettext("%(day)s: %(n)s SMS sent", "%(day)s: %(n)s SMS sent", n)
                % {"day": shown, "n": n},
                label=shown if (len(days) - 1 - i) % 5 == 0 else "",
            )
        )
    return Chart(bars=bars, width=width, height=height, top=top, baseline=baseline, left=pad_left)


def period_figures(account, period: str, today: date) -> dict:
    """Sent, delivered, failed, STOP-listed and credits spent in the period: one query."""
    start = period_start(period, today)
    in_period = Q(created_at__gte=start) if start else Q()
    rows = OutgoingMessage.objects.filter(account=account).filter(in_period)
    return rows.aggregate(
        sent=Count("id", filter=Q(status__in=SENT)),
        delivered=Count("id", filter=Q(status=_S.DELIVERED)),
        failed=Count("id", filter=Q(status__in=FAILED)),
        stoplisted=Count("id", filter=Q(status=_S.STOPLISTED)),
        cancelled=Count("id", filter=Q(status=_S.CANCELLED)),
        credits=Coalesce(
            Sum("credits", filter=~Q(status__in=REFUNDED)),
            Value(Decimal("0.00")),
            output_field=DecimalField(max_digits=14, decimal_places=2),
        ),
    )


def sent_per_day(account, days: list[date]) -> list[tuple[date, int]]:
    """SMS sent on each of these consecutive Paris days: one query, grouped by UTC hour.

    Paris is a whole number of hours from UTC, so each UTC hour falls in one Paris day.
    Grouping by hour keeps the per-row work in SQL (no per-row time zone conversion, which
    SQLite would do in Python) and leaves at most 24 groups a day to add up here.
    """
    rows = OutgoingMessage.objects.filter(
        account=account,
        status__in=SENT,
        created_at__gte=day_start(days[0]),
        created_at__lt=day_start(days[-1] + timedelta(days=1)),
    )
    if connections[rows.db].vendor == "sqlite":
        # Stored as "YYYY-MM-DD HH:MM:SS.ffffff" in UTC: the first 13 characters are the hour.
        hour = Substr("created_at", 1, 13)
    else:
        hour = TruncHour("created_at", tzinfo=UTC)
    counts = dict.fromkeys(days, 0)
    for value, n in rows.annotate(hour=hour).values_list("hour").annotate(n=Count("id")):
        if isinstance(value, str):
            value = datetime.strptime(value, "%Y-%m-%d %H").replace(tzinfo=UTC)
        day = value.astimezone(PARIS).date()
        if day in counts:
            counts[day] += n
    return list(counts.items())


def account_stats(account, period: str = DEFAULT_PERIOD, *, now: datetime | None = None) -> dict:
    """The period's figures and the 30-day chart (oldest day first): two queries."""
    if period not in PERIODS:
        period = DEFAULT_PERIOD
    today = timezone.localtime(now or timezone.now(), PARIS).date()
    days = [today - timedelta(days=CHART_DAYS - 1 - i) for i in range(CHART_DAYS)]
    return {
        "period": period,
        "periods": list(PERIODS.items()),
        **period_figures(account, period, today),
        "chart": build_chart(sent_per_day(account, days)),
    }
