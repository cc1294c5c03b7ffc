"""Dashboard statistics: figures per period and the 30-day chart of sent SMS."""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from messaging import stats, totals
from messaging.models import OutgoingMessage, SmsJob

pytestmark = pytest.mark.django_db

# Wednesday 12 March 2025, 15:00 in Paris (UTC+1).
NOW = datetime(2025, 3, 12, 14, 0, tzinfo=UTC)


def make_job(account):
    return SmsJob.objects.create(
        account=account,
        message="Bonjour",
        encoding="GSM-7",
        segments=1,
        credits=Decimal("1.00"),
        status="done",
    )


_counter = iter(range(10**6))


def add(account, status, at, *, credits="1.00", job=None):
    message = OutgoingMessage.objects.create(
        job=job or make_job(account),
        account=account,
        receiver=f"+336{next(_counter):08d}",
        country="FR",
        parts=1,
        credits=Decimal(credits),
        status=status,
    )
    OutgoingMessage.objects.filter(pk=message.pk).update(created_at=at)
    # Made here without the sending steps that keep the totals: count them as a migration does.
    totals.rebuild([account.pk])
    return message


def figures(result):
    return {k: result[k] for k in ("sent", "delivered", "failed", "stoplisted", "credits")}


@pytest.fixture
def history(account, outsider):
    """Messages today, 3 days ago, 20 days ago and 100 days ago (and another account's)."""
    today, three, twenty, old = (
        NOW,
        NOW - timedelta(days=3),
        NOW - timedelta(days=20),
        NOW - timedelta(days=100),
    )
    for status in ("delivered", "delivered", "submitted", "undelivered", "failed", "stoplisted"):
        add(account, status, today, credits="0.00" if status == "stoplisted" else "2.00")
    add(account, "queued", today)  # charged, not sent yet
    for status in ("delivered", "expired"):
        add(account, status, three)
    add(account, "delivered", twenty, credits="3.50")
    for status in ("delivered", "failed"):
        add(account, status, old)
    add(outsider.memberships.get().account, "delivered", today)
    return account


def test_today_counts_only_todays_messages(history):
    result = stats.account_stats(history, "today", now=NOW)

    assert figures(result) == {
        "sent": 4,  # delivered ×2, submitted, undelivered
        "delivered": 2,
        "failed": 2,  # undelivered, failed
        "stoplisted": 1,
        "credits": Decimal("9.00"),  # 4 × 2.00 + the queued 1.00; failed refunded, STOP free
    }


def test_the_last_7_days_include_today(history):
    result = stats.account_stats(history, "7d", now=NOW)

    assert figures(result) == {
        "sent": 6,
        "delivered": 3,
        "failed": 3,
        "stoplisted": 1,
        "credits": Decimal("10.00"),  # the expired one was refunded
    }


def test_all_counts_everything_of_the_account(history):
    result = stats.account_stats(history, "all", now=NOW)

    assert figures(result) == {
        "sent": 8,
        "delivered": 5,
        "failed": 4,
        "stoplisted": 1,
        "credits": Decimal("14.50"),
    }


def test_an_unknown_period_means_today(history):
    assert stats.account_stats(history, "forever", now=NOW)["period"] == "today"


def test_an_empty_account_has_zeros(account):
    result = stats.account_stats(account, "all", now=NOW)

    assert figures(result) == {
        "sent": 0,
        "delivered": 0,
        "failed": 0,
        "stoplisted": 0,
        "credits": Decimal("0.00"),
    }
    assert [bar.height for bar in result["chart"].bars] == [0] * 30


def test_periods_follow_paris_midnight(account):
    # 23:30 UTC on 11 March is 00:30 on 12 March in Paris: today.
    add(account, "delivered", datetime(2025, 3, 11, 23, 30, tzinfo=UTC))
    add(account, "delivered", datetime(2025, 3, 11, 22, 30, tzinfo=UTC))  # 23:30 yesterday

    assert stats.account_stats(account, "today", now=NOW)["sent"] == 1
    assert stats.account_stats(account, "7d", now=NOW)["sent"] == 2


def test_the_chart_has_one_bar_per_day_for_30_days(history):
    chart = stats.account_stats(history, "today", now=NOW)["chart"]

    days = [bar.day for bar in chart.bars]
    assert len(days) == 30
    assert days[-1] == timezone.localtime(NOW).date()
    assert days[0] == days[-1] - timedelta(days=29)
    counts = {bar.day.isoformat(): bar.count for bar in chart.bars}
    assert counts["2025-03-12"] == 4  # only "sent" statuses
    assert counts["2025-03-09"] == 2  # delivered and expired
    assert counts["2025-02-20"] == 1
    assert sum(counts.values()) == 7  # 100 days ago is off the chart


def test_bar_heights_follow_the_counts(account):
    for _ in range(4):
        add(account, "delivered", NOW)
    for _ in range(2):
        add(account, "delivered", NOW - timedelta(days=1))
    add(account, "submitted", NOW - timedelta(days=2))

    chart = stats.account_stats(account, "today", now=NOW)["chart"]
    today, yesterday, before = chart.bars[-1], chart.bars[-2], chart.bars[-3]

    assert today.height > yesterday.height > before.height > 0
    assert today.height == pytest.approx(2 * yesterday.height)
    assert today.y < yesterday.y  # taller bars start higher
    assert all(bar.height == 0 for bar in chart.bars[:-3])
    assert today.y + today.height == pytest.approx(chart.baseline)


def test_the_chart_survives_the_clock_change(account):
    # Sunday 30 March 2025: Paris moves to UTC+2; that day has 23 hours.
    now = datetime(2025, 4, 2, 10, 0, tzinfo=UTC)
    add(account, "delivered", datetime(2025, 3, 30, 22, 30, tzinfo=UTC))  # 31 March, 00:30
    add(account, "delivered", datetime(2025, 3, 30, 21, 30, tzinfo=UTC))  # 30 March, 23:30

    counts = {
        b.day.isoformat(): b.count for b in stats.account_stats(account, now=now)["chart"].bars
    }

    assert counts["2025-03-30"] == 1
    assert counts["2025-03-31"] == 1


# --- the page ---------------------------------------------------------------------------------


def test_the_dashboard_shows_the_figures_for_the_chosen_period(owner_client, account):
    now = timezone.now()
    add(account, "delivered", now)
    add(account, "failed", now)
    add(account, "delivered", now - timedelta(days=40))

    today = owner_client.get(f"/sms/{account.name}/").content.decode()
    everything = owner_client.get(f"/sms/{account.name}/", {"period": "all"}).content.decode()

    assert 'data-testid="stat-sent">1<' in today
    assert 'data-testid="stat-failed">1<' in today
    assert 'data-testid="stat-sent">2<' in everything
    assert 'data-testid="stat-delivered">2<' in everything
    assert 'data-testid="period-today" aria-current="true"' not in everything
    assert 'href="?period=all#stats" aria-current="true"' in everything


def test_the_dashboard_draws_30_bars_with_titles(owner_client, account):
    add(account, "delivered", timezone.now())
    owner_client.cookies["django_language"] = "en"

    content = owner_client.get(f"/sms/{account.name}/").content.decode()

    svg = re.search(r'<svg class="chart".*?</svg>', content, re.S).group(0)
    bars = re.findall(
        r'<rect class="bar" data-count="(\d+)"[^>]*height="([\d.]+)"><title>([^<]+)</title>', svg
    )
    assert len(bars) == 30
    assert bars[-1][0] == "1" and float(bars[-1][1]) > 0
    assert all(float(height) == 0 for count, height, _ in bars[:-1])
    assert bars[-1][2].endswith(": 1 SMS sent")
    assert "," not in re.sub(r">[^<]*<", "><", svg)  # no localised number in an attribute
    assert len(re.findall(r'<text class="tick" x="[\d.]+" y="\d+">', svg)) == 6  # every 5 days


def test_the_dashboard_links_to_send_history_and_planned(owner_client, account):
    content = owner_client.get(f"/sms/{account.name}/").content.decode()

    assert f'href="/sms/{account.name}/send/" data-testid="cta-send"' in content
    assert f'href="/sms/{account.name}/outgoing/"' in content
    assert f'href="/sms/{account.name}/scheduled/"' in content
    assert 'data-testid="stat-credits"' in content
    assert f'href="/sms/{account.name}/credits/"' in content  # the credits card is still there


def test_the_dashboard_stats_cost_two_queries(owner_client, account, django_assert_max_num_queries):
    for days in range(0, 40, 3):
        add(account, "delivered", timezone.now() - timedelta(days=days))

    for period in ("today", "7d", "all"):
        # session, user, membership, account switcher, movements, latest campaigns, period
        # figures, chart
        with django_assert_max_num_queries(8):
            response = owner_client.get(f"/sms/{account.name}/", {"period": period})
        assert response.status_code == 200


def test_the_dashboard_is_404_for_an_outsider(client, account, outsider):
    client.force_login(outsider)

    assert client.get(f"/sms/{account.name}/", {"period": "all"}).status_code == 404
