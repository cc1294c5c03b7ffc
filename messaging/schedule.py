"""When a commercial SMS may go out: Monday to Saturday, 08:00 to 20:00, Paris time."""

from datetime import datetime, time, timedelta

from core.dates import PARIS

WINDOW_START = time(8, 0)
WINDOW_END = time(20, 0)
SUNDAY = 6


def in_commercial_window(moment: datetime) -> bool:
    local = moment.astimezone(PARIS)
    return local.weekday() != SUNDAY and WINDOW_START <= local.time() < WINDOW_END


def next_commercial_window(moment: datetime) -> datetime:
    """`moment` itself when inside the window, else the next opening (08:00 Paris)."""
    if in_commercial_window(moment):
        return moment
    local = moment.astimezone(PARIS)
    day = local.date() if local.time() < WINDOW_START else local.date() + timedelta(days=1)
    while day.weekday() == SUNDAY:
        day += timedelta(days=1)
    return datetime.combine(day, WINDOW_START, tzinfo=PARIS)


# How far ahead a send may be planned: its credits are held until then. OVHcloud documents no
# bound for differedPeriod; one year is the project's (api.schemas.JobIn says it in minutes).
MAX_PLANNED_AHEAD = timedelta(days=365)
