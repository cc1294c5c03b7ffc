"""Dashboard figures of an account: counts for a period and a 30-day chart of sent SMS.

Two queries, whatever the history's size, over the hourly totals the sending steps keep
(MessageTotal, messaging.totals): the period's figures and the sent messages of the last 30
days. The messages themselves are not read (see bench/history.py).
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Sum
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.dates import PARIS, day_start

from .models import MessageTotal, OutgoingMessage

_S = OutgoingMessage.Status

# Left the panel: accepted by the operator, whatever happened next (each entered `submitted`).
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
    """Sent, delivered, failed, STOP-listed, cancelled and credits spent in the period, from
    the totals kept as messages change state (MessageTotal): one query over a few rows per
    hour, whatever the number of messages."""
    start = period_start(period, today)
    rows = MessageTotal.objects.filter(account=account)
    if start:
        rows = rows.filter(hour__gte=start)
    entered = {
        status: (n or 0, credits or Decimal("0"))
        for status, n, credits in rows.values_list("status")
        .annotate(n=Sum("count"), c=Sum("credits"))
        .values_list("status", "n", "c")
        .order_by()
    }

    def n(*statuses):
        return sum(entered.get(s, (0, 0))[0] for s in statuses)

    def credits(*statuses):
        return sum((entered.get(s, (0, Decimal("0")))[1] for s in statuses), Decimal("0"))

    return {
        "sent": n(_S.SUBMITTED),
        "delivered": n(_S.DELIVERED),
        "failed": n(*FAILED),
        "stoplisted": n(_S.STOPLISTED),
        "cancelled": n(_S.CANCELLED),
        # Charged when queued; given back when failed, expired or cancelled.
        "credits": (credits(_S.QUEUED) - credits(*REFUNDED)).quantize(Decimal("0.01")),
    }


def sent_per_day(account, days: list[date]) -> list[tuple[date, int]]:
    """SMS sent on each of these consecutive Paris days, from the hourly totals: one query.

    Paris is a whole number of hours from UTC, so each UTC hour falls in one Paris day.
    """
    rows = MessageTotal.objects.filter(
        account=account,
        status=_S.SUBMITTED,
        hour__gte=day_start(days[0]),
        hour__lt=day_start(days[-1] + timedelta(days=1)),
    ).values_list("hour", "count")
    counts = dict.fromkeys(days, 0)
    for hour, n in rows:
        day = hour.astimezone(PARIS).date()
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
