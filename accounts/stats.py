"""Dashboard figures of an account: counts for a period and a 30-day chart of sent SMS.

Everything comes from one aggregate query with conditional counts: the period's figures and
one count per chart day, so the page costs the same whether the account sent 10 or 1,000,000
messages in a day (the rows are read once).
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Count, DecimalField, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from messaging.models import OutgoingMessage

PARIS = ZoneInfo("Europe/Paris")
_S = OutgoingMessage.Status

# Left the panel: accepted by the operator, whatever happened next.
SENT = (_S.SUBMITTED, _S.DELIVERED, _S.UNDELIVERED, _S.EXPIRED)
FAILED = (_S.FAILED, _S.EXPIRED, _S.UNDELIVERED)
# Given back to the account (messages_fail): not spent.
REFUNDED = (_S.FAILED, _S.EXPIRED)

PERIODS = {
    "today": _("Today"),
    "7d": _("Last 7 days"),
    "all": _("Since the beginning"),
}
DEFAULT_PERIOD = "today"
CHART_DAYS = 30


def day_start(day: date) -> datetime:
    """Midnight in Paris (a 23- or 25-hour day around the clock changes)."""
    return datetime.combine(day, time.min, tzinfo=PARIS)


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
    baseline: float


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
    return Chart(bars=bars, width=width, height=height, top=top, baseline=baseline)


def account_stats(account, period: str = DEFAULT_PERIOD, *, now: datetime | None = None) -> dict:
    """Sent, delivered, failed, STOP-listed and credits spent in the period, and the number
    of SMS sent on each of the last 30 days (Paris days, oldest first), in one query."""
    if period not in PERIODS:
        period = DEFAULT_PERIOD
    today = timezone.localtime(now or timezone.now(), PARIS).date()
    start = period_start(period, today)
    in_period = Q(created_at__gte=start) if start else Q()
    days = [today - timedelta(days=CHART_DAYS - 1 - i) for i in range(CHART_DAYS)]
    chart_start = day_start(days[0])

    aggregates = {
        "sent": Count("id", filter=in_period & Q(status__in=SENT)),
        "delivered": Count("id", filter=in_period & Q(status=_S.DELIVERED)),
        "failed": Count("id", filter=in_period & Q(status__in=FAILED)),
        "stoplisted": Count("id", filter=in_period & Q(status=_S.STOPLISTED)),
        "credits": Coalesce(
            Sum("credits", filter=in_period & ~Q(status__in=REFUNDED)),
            Value(Decimal("0.00")),
            output_field=DecimalField(max_digits=14, decimal_places=2),
        ),
    }
    for i, day in enumerate(days):
        aggregates[f"day{i}"] = Count(
            "id",
            filter=Q(
                status__in=SENT,
                created_at__gte=day_start(day),
                created_at__lt=day_start(day + timedelta(days=1)),
            ),
        )
    rows = OutgoingMessage.objects.filter(account=account)
    if start is not None:
        rows = rows.filter(created_at__gte=min(start, chart_start))
    figures = rows.aggregate(**aggregates)
    per_day = [(day, figures.pop(f"day{i}")) for i, day in enumerate(days)]
    return {
        "period": period,
        "periods": list(PERIODS.items()),
        **figures,
        "chart": build_chart(per_day),
    }
