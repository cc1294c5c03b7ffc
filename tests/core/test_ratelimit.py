"""core.ratelimit: the cache counters behind login throttling, the API's request limits and
routes' throughput."""

import uuid

import pytest
from django.conf import settings

from core import ratelimit


def test_hit_counts_from_one():
    assert [ratelimit.hit("k", timeout=60) for _ in range(3)] == [1, 2, 3]
    assert ratelimit.hit("other", timeout=60) == 1


def test_hit_starts_again_after_the_timeout():
    from django.core.cache import cache

    ratelimit.hit("k", timeout=60)
    cache.delete("k")  # what the expiry does

    assert ratelimit.hit("k", timeout=60) == 1


def test_window_hit_counts_per_window_and_says_when_the_next_opens(monkeypatch):
    now = [1_000_000.25]
    monkeypatch.setattr(ratelimit.time, "time", lambda: now[0])

    assert ratelimit.window_hit("api", period=60) == (1, 20)  # the window ends at 1,000,020
    assert ratelimit.window_hit("api", period=60) == (2, 20)
    now[0] = 1_000_020.0
    assert ratelimit.window_hit("api", period=60) == (1, 60)
    assert ratelimit.window_hit("api", period=1) == (1, 1)


def test_take_grants_up_to_the_limit_in_each_window():
    from django.core.cache import cache

    now = 2_000_000.25

    assert ratelimit.take("route", 3, limit=5, now=now) == (3, 0.75)
    assert ratelimit.take("route", 3, limit=5, now=now + 0.5) == (2, 0.25)
    assert ratelimit.take("route", 9, limit=5, now=now + 0.5)[0] == 0
    assert ratelimit.take("route", 9, limit=5, now=now + 0.75) == (5, 1.0)  # the next window
    # What was asked beyond the limit was given back: the counters hold what was granted.
    assert (cache.get("route:2000000"), cache.get("route:2000001")) == (5, 5)


CHILD = """
import sys

import django

django.setup()
from core import ratelimit

name, limit = sys.argv[1], int(sys.argv[2])
sys.stdin.readline()  # both start together
taken = 0
while ratelimit.take(name, 1, limit=limit, now=3_000_000.5)[0]:
    taken += 1
print(taken)
"""


def test_two_processes_share_one_limit_through_redis(settings):
    """The deployment's cache (Redis, as settings say, not the tests' local one): two
    processes taking one unit at a time in one window get `limit` units between them."""
    import os
    import subprocess
    import sys
    import uuid

    name = f"test-share-{uuid.uuid4().hex}"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "smspanel.settings"}
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, name, "300"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            text=True,
        )
        for _ in range(2)
    ]
    for child in children:
        child.stdin.write("go\n")
        child.stdin.flush()
    taken = [int(child.communicate(timeout=60)[0].strip().splitlines()[-1]) for child in children]

    assert sum(taken) == 300


class TestOnRedis:
    """The production cache: each addition is one atomic script on Redis (the embedded one, or
    REDIS_URL's), under a key the cache's own get() and decr() read."""

    @pytest.fixture
    def redis_cache(self, settings):
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": settings.REDIS_URL,
                "KEY_PREFIX": f"test-ratelimit-{uuid.uuid4().hex}",
            }
        }
        from django.core.cache import cache

        used = []
        yield cache, used
        cache.delete_many(used)

    def test_hit_counts_from_one_and_the_cache_reads_the_counter(self, redis_cache):
        cache, used = redis_cache
        used += ["k", "other"]

        assert [ratelimit.hit("k", timeout=60) for _ in range(3)] == [1, 2, 3]
        assert ratelimit.hit("other", timeout=60) == 1
        assert cache.get("k") == 3
        ratelimit.give_back("k")
        assert cache.get("k") == 2
        assert ratelimit.hit("k", timeout=60) == 3

    def test_a_new_counter_gets_its_timeout(self, redis_cache):
        import redis

        cache, used = redis_cache
        used.append("k")
        ratelimit.hit("k", timeout=60)
        ratelimit.hit("k", timeout=60)

        client = redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])
        assert 0 < client.ttl(cache.make_key("k")) <= 60
        ratelimit.hit("k", timeout=600)  # the expiry counts from the first hit
        assert 0 < client.ttl(cache.make_key("k")) <= 60

    def test_take_grants_up_to_the_limit_in_each_window(self, redis_cache):
        cache, used = redis_cache
        used += ["route:2000000", "route:2000001"]
        now = 2_000_000.25

        assert ratelimit.take("route", 3, limit=5, now=now) == (3, 0.75)
        assert ratelimit.take("route", 3, limit=5, now=now + 0.5) == (2, 0.25)
        assert ratelimit.take("route", 9, limit=5, now=now + 0.5)[0] == 0
        assert ratelimit.take("route", 9, limit=5, now=now + 0.75) == (5, 1.0)
        assert (cache.get("route:2000000"), cache.get("route:2000001")) == (5, 5)

    def test_hit_starts_again_after_the_timeout(self, redis_cache):
        cache, used = redis_cache
        used.append("k")
        ratelimit.hit("k", timeout=60)
        cache.delete("k")  # what the expiry does

        assert ratelimit.hit("k", timeout=60) == 1
