"""Deterministic fault model of the simulated mobile operator (SMSC).

`SimulatorModel.decide()` takes the messages submitted at `now` and tells, for each one,
whether the operator accepts it or rejects it (transiently: retry later; permanently: give up)
and, when it is accepted, which delivery reports and handset reply will follow, and when.

Every draw for one submission comes from a stream keyed by f"{seed}:{message_id}:{attempt}",
so a result depends only on the seed and the submission, never on batching or call order; a
retry (next attempt) gets fresh draws. Draw order: u for the submit outcome (permanent <
transient < accepted), v for the final state (expired < undelivered < delivered), then the
delay, the per-part offsets, duplicates, the out-of-order "buffered" report and the reply.

The one piece of state is the throughput cap: a token bucket refilled over simulated time.
The model never sleeps and never reads the clock; `now` is the only time it knows.
"""

import struct
from dataclasses import dataclass
from datetime import datetime, timedelta
from hashlib import blake2b
from math import cos, exp, inf, log, pi, sqrt
from operator import attrgetter
from typing import NamedTuple

TRANSIENT_CODES = ("THROTTLED", "SMSC_BUSY")
PERMANENT_CODES = ("UNKNOWN_SUBSCRIBER", "BARRED", "INVALID_DESTINATION")
UNDELIVERED_CODES = ("ABSENT_SUBSCRIBER", "HANDSET_FULL")
REPLY_TEXTS = ("Merci !", "OK", "Bien reçu", "Je confirme")
STOP_TEXT = "STOP"

MIN_DELAY_S = 0.2
PART_SPREAD_S = (0.05, 0.4)  # between the reports of two consecutive parts
LATE_COPY_S = (0.5, 5.0)  # how much later a duplicate or out-of-order report comes
REPLY_JITTER = (0.5, 1.5)  # factor applied to reply_delay_s

_ERROR_RATES = ("transient_error_rate", "permanent_error_rate", "undelivered_rate")
_ERROR_RATES += ("expired_rate", "duplicate_report_rate", "out_of_order_rate")
_RATES = (*_ERROR_RATES, "reply_rate", "stop_reply_rate")
_DUE_AT = attrgetter("due_at")
_UNPACK = struct.Struct("<8Q").unpack
_SCALE = 2.0**-53  # 53-bit integer -> float in [0, 1)


class _Draws:
    """The random.Random methods the model uses, drawn from blake2b(key, block counter).

    As deterministic as random.Random(key), and ~10x cheaper to set up: seeding a Mersenne
    Twister costs ~5 µs, i.e. 0.5 s per 100k messages on its own.
    """

    __slots__ = ("_key", "_block", "_pool")

    def __init__(self, key: str):
        self._key = key.encode()
        self._block = 0
        self._pool = list(_UNPACK(blake2b(self._key).digest()))

    def random(self) -> float:
        pool = self._pool
        if not pool:
            self._block += 1
            pool.extend(_UNPACK(blake2b(b"%s#%d" % (self._key, self._block)).digest()))
        return (pool.pop() >> 11) * _SCALE

    def uniform(self, a: float, b: float) -> float:
        return a + (b - a) * self.random()

    def choice(self, seq: tuple[str, ...]) -> str:
        return seq[int(self.random() * len(seq))]

    def lognormvariate(self, mu: float, sigma: float) -> float:
        # Box-Muller; 1 - random() is in (0, 1].
        z = sqrt(-2.0 * log(1.0 - self.random())) * cos(2.0 * pi * self.random())
        return exp(mu + sigma * z)


@dataclass(frozen=True)
class SimulatorConfig:
    seed: int = 42
    transient_error_rate: float = 0.02  # rejected at submit: THROTTLED / SMSC_BUSY
    permanent_error_rate: float = 0.01  # rejected at submit for good: PERMANENT_CODES
    undelivered_rate: float = 0.02  # accepted, then "undelivered": UNDELIVERED_CODES
    expired_rate: float = 0.01  # accepted, then "expired" after expire_after_s
    delay_median_s: float = 3.0  # delivery delay: lognormal, clamped to [0.2, delay_max_s]
    delay_sigma: float = 0.8
    delay_max_s: float = 120.0
    expire_after_s: float = 300.0
    duplicate_report_rate: float = 0.01  # a report sent twice
    out_of_order_rate: float = 0.01  # a "buffered" report arriving after the final one
    report_per_part: bool = True  # else one report per message (part=1, parts=1)
    reply_rate: float = 0.0  # share of delivered, reply-allowed messages answered
    stop_reply_rate: float = 0.0  # share of them answered "STOP"
    reply_delay_s: float = 20.0
    throughput_per_s: float | None = None  # accepted messages per simulated second

    def __post_init__(self) -> None:
        bad = [name for name in _RATES if not 0.0 <= getattr(self, name) <= 1.0]
        if self.transient_error_rate + self.permanent_error_rate > 1.0:
            bad.append("transient_error_rate + permanent_error_rate")
        if self.undelivered_rate + self.expired_rate > 1.0:
            bad.append("undelivered_rate + expired_rate")
        if self.reply_rate + self.stop_reply_rate > 1.0:
            bad.append("reply_rate + stop_reply_rate")
        if self.delay_median_s <= 0 or self.delay_sigma < 0 or self.delay_max_s < MIN_DELAY_S:
            bad.append("delay_median_s / delay_sigma / delay_max_s")
        if self.throughput_per_s is not None and self.throughput_per_s <= 0:
            bad.append("throughput_per_s")
        if bad:
            raise ValueError(f"Invalid simulator config: {', '.join(bad)}")

    @classmethod
    def errors_off(cls, **kw) -> "SimulatorConfig":
        """Every message accepted and delivered, reported once and in order (kw still apply)."""
        return cls(**{**dict.fromkeys(_ERROR_RATES, 0.0), **kw})


# Named tuples rather than frozen dataclasses: several are built per message on every send, and
# a frozen dataclass costs several times more to build.
class Submission(NamedTuple):
    message_id: int  # the panel's id (idempotency key)
    receiver: str  # E.164
    parts: int
    reply_allowed: bool  # sent from a short number / virtual number
    attempt: int = 1  # 1 for the first try, 2.. for retries


class SubmitOutcome(NamedTuple):
    message_id: int
    accepted: bool
    operator_id: str = ""  # "sim-<message_id>" when accepted
    error_code: str = ""
    permanent: bool = False


class ReportEvent(NamedTuple):
    due_at: datetime
    operator_id: str
    status: str  # "delivered" | "undelivered" | "expired" | "buffered" (intermediate)
    part: int  # 1-based
    parts: int
    error_code: str = ""


class ReplyEvent(NamedTuple):
    due_at: datetime
    operator_id: str  # the message answered
    sender: str  # the handset number (the receiver of the original)
    text: str


Event = ReportEvent | ReplyEvent


class SimulatorModel:
    def __init__(self, config: SimulatorConfig):
        self.config = config
        self._rejected = config.permanent_error_rate + config.transient_error_rate
        self._failed = config.expired_rate + config.undelivered_rate
        self._replied = config.stop_reply_rate + config.reply_rate
        self._mu = log(config.delay_median_s)
        # Throughput token bucket; a cap below 1/s still lets a message through now and then.
        rate = config.throughput_per_s
        self._capacity = inf if rate is None else max(rate, 1.0)
        self._tokens = self._capacity
        self._bucket_at: datetime | None = None

    def decide(
        self, submissions: list[Submission], now: datetime
    ) -> tuple[list[SubmitOutcome], list[Event]]:
        """Outcomes in submission order, and the events they cause sorted by due_at."""
        cfg = self.config
        self._refill(now)
        outcomes: list[SubmitOutcome] = []
        events: list[Event] = []
        for sub in submissions:
            rng = _Draws(f"{cfg.seed}:{sub.message_id}:{sub.attempt}")
            u = rng.random()
            if u < cfg.permanent_error_rate:
                code = rng.choice(PERMANENT_CODES)
                outcomes.append(SubmitOutcome(sub.message_id, False, "", code, True))
            elif u < self._rejected:
                code = rng.choice(TRANSIENT_CODES)
                outcomes.append(SubmitOutcome(sub.message_id, False, "", code))
            elif self._tokens < 1.0:
                outcomes.append(SubmitOutcome(sub.message_id, False, "", "THROTTLED"))
            else:
                self._tokens -= 1.0
                operator_id = f"sim-{sub.message_id}"
                outcomes.append(SubmitOutcome(sub.message_id, True, operator_id))
                self._schedule(sub, operator_id, rng, now, events)
        events.sort(key=_DUE_AT)
        return outcomes, events

    def _refill(self, now: datetime) -> None:
        rate = self.config.throughput_per_s
        if rate is None or (self._bucket_at is not None and now <= self._bucket_at):
            return
        if self._bucket_at is not None:
            elapsed = (now - self._bucket_at).total_seconds()
            self._tokens = min(self._capacity, self._tokens + elapsed * rate)
        self._bucket_at = now

    def _schedule(
        self, sub: Submission, operator_id: str, rng: _Draws, now: datetime, events: list[Event]
    ) -> None:
        cfg = self.config
        v = rng.random()
        if v < cfg.expired_rate:
            status, code, offset = "expired", "VALIDITY_EXPIRED", cfg.expire_after_s
        else:
            if v < self._failed:
                status, code = "undelivered", rng.choice(UNDELIVERED_CODES)
            else:
                status, code = "delivered", ""
            delay = rng.lognormvariate(self._mu, cfg.delay_sigma)
            offset = min(max(delay, MIN_DELAY_S), cfg.delay_max_s)

        # Offsets are seconds after `now`; the parts' reports come a few hundred ms apart.
        count = sub.parts if cfg.report_per_part else 1
        latest = offset
        for part in range(1, count + 1):
            if part > 1:
                offset += rng.uniform(*PART_SPREAD_S)
            events.append(
                ReportEvent(now + timedelta(seconds=offset), operator_id, status, part, count, code)
            )
            if cfg.duplicate_report_rate and rng.random() < cfg.duplicate_report_rate:
                late = offset + rng.uniform(*LATE_COPY_S)
                latest = max(latest, late)
                due = now + timedelta(seconds=late)
                events.append(ReportEvent(due, operator_id, status, part, count, code))
        latest = max(latest, offset)  # an earlier part's duplicate may come after the last part

        if cfg.out_of_order_rate and rng.random() < cfg.out_of_order_rate:
            # An intermediate report overtaken by the final ones: the panel must ignore it.
            due = now + timedelta(seconds=latest + rng.uniform(*LATE_COPY_S))
            events.append(ReportEvent(due, operator_id, "buffered", count, count))

        if status == "delivered" and sub.reply_allowed and self._replied:
            w = rng.random()  # one draw: STOP first, then a normal reply
            if w < cfg.stop_reply_rate:
                text = STOP_TEXT
            elif w < self._replied:
                text = rng.choice(REPLY_TEXTS)
            else:
                return
            due = now + timedelta(seconds=offset + cfg.reply_delay_s * rng.uniform(*REPLY_JITTER))
            events.append(ReplyEvent(due, operator_id, sub.receiver, text))
