from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from messaging.schedule import in_commercial_window, next_commercial_window

PARIS = ZoneInfo("Europe/Paris")
UTC = ZoneInfo("UTC")


def paris(*args):
    return datetime(*args, tzinfo=PARIS)


@pytest.mark.parametrize(
    "moment, expected",
    [
        (paris(2026, 11, 25, 10, 0), paris(2026, 11, 25, 10, 0)),  # Wednesday morning: now
        (paris(2026, 11, 25, 7, 59), paris(2026, 11, 25, 8, 0)),  # before opening
        (paris(2026, 11, 25, 20, 0), paris(2026, 11, 26, 8, 0)),  # 20:00 is closed
        (paris(2026, 11, 28, 19, 59), paris(2026, 11, 28, 19, 59)),  # Saturday evening: open
        (paris(2026, 11, 28, 21, 0), paris(2026, 11, 30, 8, 0)),  # Saturday night → Monday
        (paris(2026, 11, 29, 16, 0), paris(2026, 11, 30, 8, 0)),  # Sunday 16:00 → Monday 8:00
        (datetime(2026, 11, 25, 6, 30, tzinfo=UTC), paris(2026, 11, 25, 8, 0)),  # 7:30 Paris
        # Summer time: 2026-07-01 06:30 UTC is 08:30 in Paris.
        (datetime(2026, 7, 1, 6, 30, tzinfo=UTC), datetime(2026, 7, 1, 6, 30, tzinfo=UTC)),
    ],
)
def test_next_commercial_window(moment, expected):
    assert next_commercial_window(moment) == expected
    assert in_commercial_window(next_commercial_window(moment))
