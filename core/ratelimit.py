"""Counters in the cache, shared by every process: failed logins, API requests per second,
a route's messages per second."""

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


def take(name: str, want: int, *, limit: int, now: float, period: float = 1.0) -> tuple[int, float]:
    """Take up to `want` of the `limit` units `name` may use in the fixed window of `period`
    seconds that holds `now` (a time.time()), shared by every process that uses this cache.

    Returns (units granted, seconds until the next window opens). Every caller adds what it
    wants in one atomic INCR and keeps only what lay under the limit before its own
    increment, then gives the rest back: the units granted in a window never add up to more
    than `limit`, whatever the concurrency. The cache's errors are raised: without the
    counter nobody knows what the others took, and the caller decides how to wait."""
    window = int(now // period)
    key = f"{name}:{window}"
    ttl = int(period) + 5
    if cache.add(key, want, timeout=ttl):
        count = want
    else:
        try:
            count = cache.incr(key, want)
        except ValueError:  # the counter expired between add() and incr()
            cache.add(key, want, timeout=ttl)
            count = want
    granted = max(0, min(want, limit - (count - want)))
    if granted < want:
        try:
            cache.decr(key, want - granted)
        except ValueError:  # expired meanwhile: nothing to give back
            pass
    return granted, max(0.0, (window + 1) * period - now)


def give_back(key: str) -> None:
    """Return one unit reserved with hit() (the attempt turned out not to count)."""
    try:
        cache.decr(key)
    except ValueError:  # expired meanwhile: nothing to give back
        pass


def client_ip(request) -> str:
    """The client's address: REMOTE_ADDR, or behind a reverse proxy the header it sets.

    settings.CLIENT_IP_HEADER names a header only the trusted proxy can set (a client can send
    any header, so never name one the proxy passes through untouched). For a list such as
    X-Forwarded-For the right-most entry is taken: the address the proxy itself appended.
    """
    from django.conf import settings

    header = getattr(settings, "CLIENT_IP_HEADER", "")
    if header:
        meta_key = "HTTP_" + header.upper().replace("-", "_")
        value = request.META.get(meta_key, "")
        addresses = [part.strip() for part in value.split(",") if part.strip()]
        if addresses:
            return addresses[-1]
    return request.META.get("REMOTE_ADDR") or "unknown"
