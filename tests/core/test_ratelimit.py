"""core.ratelimit: the cache counters behind login throttling and the API's request limits."""

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
