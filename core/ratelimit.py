"""Counters in the cache, shared by every process: failed logins, API requests per second."""

import time

from django.core.cache import cache


def hit(key: str, *, timeout: int) -> int:
    """Add one to the counter `key` and return its new value; a new counter lives `timeout`
    seconds from its first hit."""
    if cache.add(key, 1, timeout=timeout):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # the counter expired between add() and incr()
        cache.add(key, 1, timeout=timeout)
        return 1


def window_hit(name: str, *, period: int) -> tuple[int, int]:
    """One more request in the current fixed window of `period` seconds for `name`.

    Returns (requests in this window so far, seconds until the next window opens)."""
    now = time.time()
    window = int(now // period)
    count = hit(f"{name}:{window}", timeout=period + 5)
    return count, max(1, int((window + 1) * period - now + 0.999))
