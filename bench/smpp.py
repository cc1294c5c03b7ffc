"""Benchmark the SMPP link: messages through one transceiver bind on loopback, window 1 then
window 10, against the test SMSC (tests/smsc, the npm `smpp` package; `npm ci --prefix
tests/smsc` first). Each message is a one-part GSM-7 submit_sm asking for a receipt; the SMSC
answers and sends the receipts over the same bind, which the link reads and acknowledges.

Run from the repository root:  .venv/bin/python bench/smpp.py [--smoke] [--messages N]
Prints messages/s per window, the ratio, and submit latency percentiles (submit_sm sent →
submit_sm_resp read). The SMSC answers each submit_sm after --smsc-latency-ms (2 ms by
default: a real SMSC stores a message before answering, and loopback alone answers in ~0.1 ms,
where no window has anything to hide); --smsc-latency-ms 0 measures the bare link.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from messaging.operator import smpp_codec  # noqa: E402
from messaging.operator.smpp_link import Part, SmppLink  # noqa: E402
from tests.smsc import harness  # noqa: E402


def parts(n: int) -> list[Part]:
    encoded = smpp_codec.encode("Votre code de connexion est 482913. Il expire dans 10 minutes.")
    params = {
        "source_addr_ton": 5,
        "source_addr": "PANEL",
        "dest_addr_ton": 1,
        "dest_addr_npi": 1,
        "data_coding": encoded.data_coding,
        "esm_class": encoded.esm_class,
        "registered_delivery": 1,
        "short_message": encoded.parts[0],
    }
    return [Part(key=i, params={**params, "destination_addr": f"336{i:08d}"}) for i in range(n)]


def run(smsc: harness.Smsc, n: int, window: int) -> tuple[float, list[float], int]:
    receipts = 0

    def delivered(pdu):
        nonlocal receipts
        receipts += 1
        return 0

    link = SmppLink(
        host="127.0.0.1",
        port=smsc.port,
        system_id="panel",
        password="secret",
        window=window,
        throughput=1_000_000,
        on_deliver=delivered,
    )
    link.bind()
    batch = parts(n)
    start = time.perf_counter()
    answers = link.submit(batch)
    elapsed = time.perf_counter() - start
    link.poll(0.2)  # the last receipts
    link.unbind()
    assert len(answers) == n and all(a.status == 0 for a in answers), "every submit accepted"
    return n / elapsed, sorted(a.latency for a in answers), receipts


def percentile(values: list[float], p: float) -> float:
    return values[min(len(values) - 1, int(len(values) * p / 100))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--smoke", action="store_true", help="tiny run (CI): prints, checks nothing"
    )
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument(
        "--smsc-latency-ms",
        type=float,
        default=2.0,
        help="the SMSC's time to answer a submit_sm (storing it); 0 = loopback alone",
    )
    args = parser.parse_args()
    ok, why = harness.available()
    if not ok:
        sys.exit(f"bench/smpp.py: {why}")
    logging.getLogger("smpp").setLevel(logging.ERROR)
    n = 200 if args.smoke else args.messages
    smsc = harness.Smsc()
    print(f"SMSC answers each submit_sm after {args.smsc_latency_ms:g} ms (loopback otherwise)")
    try:
        results = {}
        for window in (1, 10):
            smsc.configure(latency_ms=args.smsc_latency_ms)
            rate, latencies, receipts = run(smsc, n, window)
            results[window] = rate
            print(
                f"window {window:>2}: {n:,} messages in {n / rate:6.2f} s = {rate:8,.0f} msg/s; "
                f"submit latency ms p50 {percentile(latencies, 50) * 1000:.2f} "
                f"p90 {percentile(latencies, 90) * 1000:.2f} "
                f"p99 {percentile(latencies, 99) * 1000:.2f} "
                f"max {latencies[-1] * 1000:.2f}; receipts read {receipts:,}"
            )
        print(
            f"window 10 / window 1: {results[10] / results[1]:.1f}x "
            f"(target: >= 2,000 msg/s with the window and >= 5x window 1)"
        )
    finally:
        smsc.kill()


if __name__ == "__main__":
    main()
