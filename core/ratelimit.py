"""Counters in the cache, shared by every process: failed logins, API requests per second,
a route's messages per second."""

import functools
import time

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache

# Adding to a counter on Redis: one command, so one round trip (the API counts every request),
# and atomic, so a new counter always gets its expiry. Django's cache API takes two or three
# round trips (add(), then incr()'s EXISTS and INCRBY), and a counter that expires between
# EXISTS and INCRBY comes back without an expiry: a login throttle's counter would then never
# be reset.
_ADD_SCRIPT = """
local count = redis.call('INCRBY', KEYS[1], ARGV[1])
if redis.call('TTL', KEYS[1]) == -1 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return count
"""
# Options of Django's Redis cache that are its own, not the redis client's.
_DJANGO_ONLY_OPTIONS = {"pool_class", "parser_class", "serializer"}


@functools.cache
def _redis_add_script(location: str):
    import redis

    options = settings.CACHES["default"].get("OPTIONS", {})
    kept = {k: v for k, v in options.items() if k not in _DJANGO_ONLY_OPTIONS}
    pool = redis.ConnectionPool.from_url(location, **kept)
    return redis.Redis(connection_pool=pool).register_script(_ADD_SCRIPT)


def _redis_add():
    """The add script on the default cache's Redis (its first server, the one Django writes
    to, with the cache's options), or None when the default cache is not Redis (the tests'
    local memory)."""
    if not isinstance(caches["default"], RedisCache):
        return None
    location = settings.CACHES["default"]["LOCATION"]
    if isinstance(location, str):
        location = location.split(",")
    return _redis_add_script(location[0])


def _add(key: str, amount: int, *, timeout: int) -> int:
    """Add `amount` to the counter `key` and return its new value; a new counter lives
    `timeout` seconds."""
    script = _redis_add()
    if script is not None:
        # The key the cache itself uses, so cache.get() and decr() see the same counter
        # (Django stores integers as plain Redis integers).
        return script(keys=[cache.make_key(key)], args=[amount, timeout])
    if cache.add(key, amount, timeout=timeout):
        return amount
    try:
        return cache.incr(key, amount)
    except ValueError:  # the counter expired between add() and incr()
        cache.add(key, amount, timeout=timeout)
        return amount


def hit(key: str, *, timeout: int) -> int:
    """Add one to the counter `key` and return its new value; a new counter lives `timeout`
    seconds from its first hit."""
    return _add(key, 1, timeout=timeout)


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
    count = _add(key, want, timeout=int(period) + 5)
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
