"""The panel's calendar: days, periods and file stamps are counted in Paris time."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


def day_start(day: date) -> datetime:
    """Midnight in Paris (a 23- or 25-hour day around the clock changes)."""
    return datetime.combine(day, time.min, tzinfo=PARIS)
