"""Benchmark messaging.encoding.count().

Run from the repository root:  .venv/bin/python bench/encoding.py [--smoke]
Times are CPU time (time.process_time) per call, averaged over many calls (--smoke: a few).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from messaging.encoding import (  # noqa: E402
    GSM7_BASIC,
    GSM7_EXTENSION,
    MAX_SEGMENTS,
    count,
)

_GSM_ALL = frozenset(GSM7_BASIC + GSM7_EXTENSION)
_EXT = frozenset(GSM7_EXTENSION)


def naive_parts(text: str) -> list[int]:
    """Per-character reference loop (what count() avoids)."""
    gsm = all(ch in _GSM_ALL for ch in text)
    if gsm:
        single, multi = 160, 153
        costs = [2 if ch in _EXT else 1 for ch in text]
    else:
        single, multi = 70, 67
        costs = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
    total = sum(costs)
    if total == 0:
        return []
    if total <= single:
        return [total]
    parts, current = [], 0
    for cost in costs:
        if current + cost > multi:
            parts.append(current)
            current = 0
        current += cost
    parts.append(current)
    return parts


def per_call(func, text: str, min_seconds: float = 0.3) -> float:
    """CPU seconds per call of func(text)."""
    calls = 0
    start = time.process_time()
    elapsed = 0.0
    while elapsed < min_seconds:
        for _ in range(10):
            func(text)
        calls += 10
        elapsed = time.process_time() - start
    return elapsed / calls


def fmt(seconds: float) -> str:
    return f"{seconds * 1e3:.3f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke", action="store_true", help="a few calls: checks it runs")
    args = parser.parse_args()
    seconds = 0.01 if args.smoke else 0.3

    sentence = "Hello Marie, your appointment is confirmed for 10:30 at 12 rue de la Paix. "
    gsm_39015 = (sentence * (39015 // len(sentence) + 1))[:39015]
    gsm_1000 = gsm_39015[:1000]
    # 10% extension characters, spread through the text.
    ext_chars = list(gsm_39015)
    for i in range(0, len(ext_chars), 10):
        ext_chars[i] = GSM7_EXTENSION[(i // 10) % len(GSM7_EXTENSION)]
    ext_39015 = "".join(ext_chars)
    # UCS-2 text with emoji: 17,085 UTF-16 units (255 x 67).
    chunk = "Привет, как дела? 😀 До встречи! 👍🏽 "
    ucs = ""
    while len(ucs.encode("utf-16-le")) // 2 < MAX_SEGMENTS * 67:
        ucs += chunk
    while len(ucs.encode("utf-16-le")) // 2 > MAX_SEGMENTS * 67:
        ucs = ucs[:-1]

    checks = [
        ("count() 39015 GSM chars", gsm_39015, True),
        ("count() 1000 GSM chars", gsm_1000, False),
        ("count() 39015 chars, 10% extension", ext_39015, True),
        (f"count() {len(ucs.encode('utf-16-le')) // 2} UCS-2 units with emoji", ucs, True),
    ]
    for label, text, with_naive in checks:
        result = count(text)
        assert list(result.parts) == naive_parts(text), label
        fast = per_call(count, text, min_seconds=seconds)
        line = f"{label}: {fmt(fast)}/call"
        if with_naive:
            slow = per_call(naive_parts, text, min_seconds=seconds * 5 / 3)
            line += f" (naive loop: {fmt(slow)}, {slow / fast:.1f}x)"
        line += f"  [{result.encoding}, {result.units} units, {result.segments} segments]"
        print(line)


if __name__ == "__main__":
    main()
