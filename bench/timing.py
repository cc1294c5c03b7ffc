"""Shared by the request benchmarks."""

import time


def measure(fn, seconds: float) -> float:
    """Calls per second of fn() over `seconds`, after a warm-up."""
    for _ in range(20):
        fn()
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        n += 1
    return n / (time.perf_counter() - start)
