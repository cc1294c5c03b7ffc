"""The simulated operator's fault model: pure Python, no database."""

import statistics
from collections import Counter, defaultdict
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from messaging.operator.simulator_model import (
    PERMANENT_CODES,
    REPLY_TEXTS,
    TRANSIENT_CODES,
    UNDELIVERED_CODES,
    ReplyEvent,
    ReportEvent,
    SimulatorConfig,
    SimulatorModel,
    Submission,
)

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
FINAL = {"delivered", "undelivered", "expired"}


def subs(n, *, parts=1, reply_allowed=False, attempt=1, first_id=1):
    return [
        Submission(i, f"+336{i:08d}", parts, reply_allowed, attempt)
        for i in range(first_id, first_id + n)
    ]


def decide(config, submissions, now=NOW):
    return SimulatorModel(config).decide(submissions, now)


def finals(events):
    return [e for e in events if isinstance(e, ReportEvent) and e.status in FINAL]


def by_operator(events, kind=ReportEvent):
    grouped = defaultdict(list)
    for e in events:
        if isinstance(e, kind):
            grouped[e.operator_id].append(e)
    return grouped


def seconds(event, now=NOW):
    return (event.due_at - now).total_seconds()


# --- determinism --------------------------------------------------------------------------


MIXED = [Submission(i, f"+336{i:08d}", 1 + i % 4, i % 2 == 0, 1 + i % 3) for i in range(1, 3001)]
NOISY = SimulatorConfig(
    duplicate_report_rate=0.2, out_of_order_rate=0.2, reply_rate=0.3, stop_reply_rate=0.1
)


def test_same_seed_same_results():
    assert decide(NOISY, MIXED) == decide(NOISY, MIXED)


def test_different_seed_different_results():
    outcomes_a, events_a = decide(NOISY, MIXED)
    outcomes_b, events_b = decide(replace(NOISY, seed=43), MIXED)
    rejected_a = {o.message_id for o in outcomes_a if not o.accepted}
    rejected_b = {o.message_id for o in outcomes_b if not o.accepted}
    assert rejected_a and rejected_b and rejected_a != rejected_b
    assert events_a != events_b


def test_retry_gets_fresh_draws_and_same_attempt_repeats():
    config = SimulatorConfig.errors_off()
    _, first = decide(config, subs(200, attempt=1))
    _, second = decide(config, subs(200, attempt=2))
    _, second_again = decide(config, subs(200, attempt=2))
    assert second == second_again
    assert {e.due_at for e in first}.isdisjoint({e.due_at for e in second})


def test_independent_of_batching():
    model = SimulatorModel(NOISY)
    chunks = [model.decide(part, NOW) for part in (MIXED[:1], MIXED[1:1000], MIXED[1000:])]
    whole_outcomes, whole_events = decide(NOISY, MIXED)
    assert [o for outcomes, _ in chunks for o in outcomes] == whole_outcomes
    assert Counter(e for _, events in chunks for e in events) == Counter(whole_events)


def test_order_within_a_batch_does_not_matter():
    outcomes, events = decide(NOISY, MIXED[::-1])
    whole_outcomes, whole_events = decide(NOISY, MIXED)
    assert outcomes[::-1] == whole_outcomes
    assert Counter(events) == Counter(whole_events)


# --- rates over 20,000 messages -----------------------------------------------------------

N = 20_000


@pytest.fixture(scope="module")
def measured():
    config = SimulatorConfig(reply_rate=0.10, stop_reply_rate=0.05)
    outcomes, events = decide(config, subs(N, reply_allowed=True))
    accepted = [o for o in outcomes if o.accepted]
    final_reports = finals(events)
    status = {e.operator_id: e.status for e in final_reports}
    delivered = sum(s == "delivered" for s in status.values())
    replies = [e for e in events if isinstance(e, ReplyEvent)]
    return {
        "transient": sum(not o.accepted and not o.permanent for o in outcomes) / N,
        "permanent": sum(o.permanent for o in outcomes) / N,
        "undelivered": sum(s == "undelivered" for s in status.values()) / len(accepted),
        "expired": sum(s == "expired" for s in status.values()) / len(accepted),
        "duplicate": (len(final_reports) - len(accepted)) / len(accepted),
        "out_of_order": sum(getattr(e, "status", "") == "buffered" for e in events) / len(accepted),
        "stop_reply": sum(r.text == "STOP" for r in replies) / delivered,
        "reply": sum(r.text != "STOP" for r in replies) / delivered,
    }


@pytest.mark.parametrize(
    ("rate", "expected", "tolerance"),
    [
        ("transient", 0.02, 0.005),
        ("permanent", 0.01, 0.004),
        ("undelivered", 0.02, 0.005),
        ("expired", 0.01, 0.004),
        ("duplicate", 0.01, 0.004),
        ("out_of_order", 0.01, 0.004),
        ("stop_reply", 0.05, 0.01),
        ("reply", 0.10, 0.01),
    ],
)
def test_rates_within_tolerance(measured, rate, expected, tolerance):
    assert measured[rate] == pytest.approx(expected, abs=tolerance)


def test_error_codes():
    config = SimulatorConfig(
        transient_error_rate=0.3, permanent_error_rate=0.3, undelivered_rate=0.3, expired_rate=0.3
    )
    outcomes, events = decide(config, subs(2000))
    transient = {o.error_code for o in outcomes if not o.accepted and not o.permanent}
    permanent = {o.error_code for o in outcomes if o.permanent}
    codes = defaultdict(set)
    for e in finals(events):
        codes[e.status].add(e.error_code)
    assert transient == set(TRANSIENT_CODES) == {"THROTTLED", "SMSC_BUSY"}
    assert permanent == set(PERMANENT_CODES)
    assert permanent == {"UNKNOWN_SUBSCRIBER", "BARRED", "INVALID_DESTINATION"}
    assert codes == {
        "delivered": {""},
        "undelivered": {"ABSENT_SUBSCRIBER", "HANDSET_FULL"},
        "expired": {"VALIDITY_EXPIRED"},
    }
    assert set(UNDELIVERED_CODES) == codes["undelivered"]
    assert all(o.operator_id == "" for o in outcomes if not o.accepted)


# --- errors off, delays -------------------------------------------------------------------


def test_errors_off_accepts_and_delivers_everything_once():
    outcomes, events = decide(SimulatorConfig.errors_off(), subs(5000))
    assert all(o.accepted and o.error_code == "" and not o.permanent for o in outcomes)
    assert len(events) == 5000
    assert {(e.status, e.error_code, e.part, e.parts) for e in events} == {("delivered", "", 1, 1)}
    assert sorted(e.operator_id for e in events) == sorted(f"sim-{i}" for i in range(1, 5001))


def test_errors_off_zeroes_error_rates_only():
    config = SimulatorConfig.errors_off(seed=7, reply_rate=0.5, expired_rate=0.1)
    assert (config.seed, config.reply_rate, config.expired_rate) == (7, 0.5, 0.1)
    assert config.transient_error_rate == config.permanent_error_rate == 0.0
    assert config.undelivered_rate == config.duplicate_report_rate == 0.0
    assert config.out_of_order_rate == 0.0
    assert config.delay_median_s == 3.0 and config.expire_after_s == 300.0


def test_delay_is_lognormal_around_the_median():
    _, events = decide(SimulatorConfig.errors_off(), subs(N))
    delays = [seconds(e) for e in events]
    deciles = statistics.quantiles(delays, n=10)
    assert statistics.median(delays) == pytest.approx(3.0, rel=0.05)
    assert deciles[-1] == pytest.approx(3.0 * 2.786, rel=0.06)  # exp(0.8 * 1.2816)
    assert 0.2 <= min(delays) and max(delays) <= 120.0


@pytest.mark.parametrize(
    ("overrides", "low", "high", "clamped_share"),
    [
        ({"delay_max_s": 4.0}, 0.2, 4.0, 0.36),  # P(z > ln(4/3) / 0.8)
        ({"delay_median_s": 0.2}, 0.2, 120.0, 0.5),
    ],
)
def test_delay_clamped(overrides, low, high, clamped_share):
    _, events = decide(SimulatorConfig.errors_off(**overrides), subs(5000))
    delays = [seconds(e) for e in events]
    assert min(delays) >= low and max(delays) <= high
    clamped = sum(d in (low, high) for d in delays) / len(delays)
    assert clamped == pytest.approx(clamped_share, abs=0.03)


# --- reports: parts, duplicates, out of order, expiry --------------------------------------


@pytest.mark.parametrize("parts", [1, 2, 3, 6])
def test_one_report_per_part(parts):
    _, events = decide(SimulatorConfig.errors_off(), subs(300, parts=parts))
    grouped = by_operator(events)
    assert len(grouped) == 300
    for reports in grouped.values():
        assert [(r.part, r.parts) for r in reports] == [(p, parts) for p in range(1, parts + 1)]
        gaps = [seconds(b) - seconds(a) for a, b in zip(reports, reports[1:], strict=False)]
        assert all(0.05 <= gap <= 0.4 for gap in gaps)


def test_parts_share_the_outcome():
    config = SimulatorConfig.errors_off(undelivered_rate=0.5)
    _, events = decide(config, subs(500, parts=4))
    outcomes = {
        op: {(r.status, r.error_code) for r in rs} for op, rs in by_operator(events).items()
    }
    assert all(len(o) == 1 for o in outcomes.values())
    assert {next(iter(o))[0] for o in outcomes.values()} == {"delivered", "undelivered"}


def test_single_report_when_not_per_part():
    _, events = decide(SimulatorConfig.errors_off(report_per_part=False), subs(100, parts=4))
    assert len(events) == 100
    assert {(e.part, e.parts) for e in events} == {(1, 1)}


def test_duplicates_repeat_the_report_a_bit_later():
    config = SimulatorConfig.errors_off(duplicate_report_rate=1.0)
    _, events = decide(config, subs(200, parts=2))
    for reports in by_operator(events).values():
        assert len(reports) == 4
        for part in (1, 2):
            first, copy = sorted((r for r in reports if r.part == part), key=seconds)
            assert (copy.status, copy.error_code, copy.parts) == ("delivered", "", 2)
            assert 0.5 <= seconds(copy) - seconds(first) <= 5.0


def test_out_of_order_buffered_report_comes_after_the_final_ones():
    config = SimulatorConfig.errors_off(duplicate_report_rate=0.5, out_of_order_rate=1.0)
    _, events = decide(config, subs(300, parts=3))
    for reports in by_operator(events).values():
        buffered = [r for r in reports if r.status == "buffered"]
        assert [(b.part, b.parts, b.error_code) for b in buffered] == [(3, 3, "")]
        last_final = max(seconds(r) for r in reports if r.status == "delivered")
        assert 0.5 <= seconds(buffered[0]) - last_final <= 5.0


@pytest.mark.parametrize("expire_after_s", [300.0, 60.0])
def test_expired_reports_come_at_validity_end(expire_after_s):
    config = SimulatorConfig.errors_off(expired_rate=1.0, expire_after_s=expire_after_s)
    _, events = decide(config, subs(100, parts=2))
    for first, second in by_operator(events).values():
        assert (first.status, first.error_code) == ("expired", "VALIDITY_EXPIRED")
        assert first.due_at == NOW + timedelta(seconds=expire_after_s)
        assert 0.05 <= seconds(second) - expire_after_s <= 0.4


# --- replies ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "reply_allowed", "texts"),
    [
        ({"reply_rate": 1.0}, False, set()),
        ({"stop_reply_rate": 1.0}, False, set()),
        ({"reply_rate": 1.0}, True, set(REPLY_TEXTS)),
        ({"stop_reply_rate": 1.0}, True, {"STOP"}),
        ({"reply_rate": 1.0, "undelivered_rate": 1.0}, True, set()),
        ({"reply_rate": 1.0, "expired_rate": 1.0}, True, set()),
        ({"reply_rate": 0.0, "stop_reply_rate": 0.0}, True, set()),
    ],
)
def test_replies(overrides, reply_allowed, texts):
    config = SimulatorConfig.errors_off(**overrides)
    submissions = subs(400, reply_allowed=reply_allowed)
    _, events = decide(config, submissions)
    replies = [e for e in events if isinstance(e, ReplyEvent)]
    assert {r.text for r in replies} == texts
    assert len(replies) == (400 if texts else 0)


def test_replies_come_from_the_handset_after_the_final_report():
    config = SimulatorConfig.errors_off(reply_rate=0.5, stop_reply_rate=0.5, reply_delay_s=20.0)
    _, events = decide(config, subs(500, parts=2, reply_allowed=True))
    receivers = {f"sim-{i}": f"+336{i:08d}" for i in range(1, 501)}
    reports = by_operator(events)
    replies = by_operator(events, ReplyEvent)
    assert len(replies) == 500
    for operator_id, (reply,) in replies.items():
        assert reply.sender == receivers[operator_id]
        assert reply.text in {"STOP", *REPLY_TEXTS}
        last_part = seconds(reports[operator_id][-1])
        assert 10.0 <= seconds(reply) - last_part <= 30.0
    assert Counter(r.text == "STOP" for (r,) in replies.values())[True] == pytest.approx(
        250, abs=40
    )


# --- throughput cap -----------------------------------------------------------------------


def test_throughput_cap():
    model = SimulatorModel(SimulatorConfig.errors_off(throughput_per_s=100))
    outcomes, events = model.decide(subs(250), NOW)
    assert [o.accepted for o in outcomes] == [True] * 100 + [False] * 150
    assert {(o.error_code, o.permanent, o.operator_id) for o in outcomes[100:]} == {
        ("THROTTLED", False, "")
    }
    assert {e.operator_id for e in events} == {f"sim-{i}" for i in range(1, 101)}

    for now, first_id, accepted in [
        (NOW, 251, 0),  # no time passed: still empty
        (NOW + timedelta(seconds=1), 301, 100),
        (NOW + timedelta(seconds=1.5), 601, 50),
        (NOW + timedelta(seconds=1), 901, 0),  # time going back refills nothing
        (NOW + timedelta(seconds=60), 1201, 100),  # the bucket holds 100 at most
    ]:
        outcomes, _ = model.decide(subs(250, first_id=first_id), now)
        assert sum(o.accepted for o in outcomes) == accepted, now


def test_throughput_cap_counts_accepted_messages_only():
    outcomes, events = decide(SimulatorConfig(throughput_per_s=100), subs(250))
    codes = Counter(o.error_code for o in outcomes if not o.accepted)
    assert sum(o.accepted for o in outcomes) == 100
    assert codes["THROTTLED"] > 100 and len(codes) > 1
    # The cap decides nothing else: accepted messages get the same events as uncapped.
    _, uncapped = decide(SimulatorConfig(), subs(250))
    accepted_ids = {o.operator_id for o in outcomes if o.accepted}
    assert events == [e for e in uncapped if e.operator_id in accepted_ids]


def test_throughput_below_one_per_second():
    model = SimulatorModel(SimulatorConfig.errors_off(throughput_per_s=0.5))
    accepted = [
        model.decide(subs(1, first_id=i), NOW + timedelta(seconds=i))[0][0].accepted
        for i in range(5)
    ]
    assert accepted == [True, False, True, False, True]


# --- identifiers, ordering, time ----------------------------------------------------------


def test_operator_id_is_deterministic():
    for attempt in (1, 2, 5):
        outcomes, _ = decide(SimulatorConfig(), subs(1000, attempt=attempt))
        for o in outcomes:
            assert o.operator_id == (f"sim-{o.message_id}" if o.accepted else "")


def test_events_sorted_by_due_at():
    _, events = decide(NOISY, MIXED)
    due = [e.due_at for e in events]
    assert len(events) > 6000 and due == sorted(due)
    assert {e.status for e in events if isinstance(e, ReportEvent)} == FINAL | {"buffered"}


def test_uses_the_given_time_only():
    past = datetime(2001, 1, 1)  # naive, long ago
    _, events = decide(NOISY, MIXED, now=past)
    assert all(past < e.due_at <= past + timedelta(seconds=400) for e in events)


@pytest.mark.parametrize(
    "overrides",
    [
        {"transient_error_rate": -0.1},
        {"reply_rate": 1.5},
        {"transient_error_rate": 0.6, "permanent_error_rate": 0.6},
        {"undelivered_rate": 0.6, "expired_rate": 0.6},
        {"reply_rate": 0.7, "stop_reply_rate": 0.5},
        {"delay_median_s": 0.0},
        {"throughput_per_s": 0},
    ],
)
def test_invalid_config(overrides):
    with pytest.raises(ValueError, match="Invalid simulator config"):
        SimulatorConfig(**overrides)
