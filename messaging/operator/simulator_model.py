"""Deterministic fault model of the simulated mobile operator (SMSC).

`SimulatorModel.decide()` takes the messages submitted at `now` and tells, for each one,
whether the operator accepts it or rejects it (transiently: retry later; permanently: give up)
and, when it is accepted, which delivery reports and handset reply will follow, and when.

Every draw for one submission comes from `random.Random(f"{seed}:{message_id}:{attempt}")`,
so a result depends only on the seed and the submission, never on batching or call order; a
retry (next attempt) gets fresh draws. Draw order: u for the submit outcome (permanent <
transient < accepted), v for the final state (expired < undelivered < delivered), then the
delay, the per-part offsets, duplicates, the out-of-order "buffered" report and the reply.

The one piece of state is the throughput cap: a token bucket refilled over simulated time.
The model never sleeps and never reads the clock; `now` is the only time it knows.
"""

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from operator import attrgetter

TRANSIENT_CODES = ("THROTTLED", "SMSC_BUSY")
PERMANENT_CODES = ("UNKNOWN_SUBSCRIBER", "BARRED", "INVALID_DESTINATION")
UNDELIVERED_CODES = ("ABSENT_SUBSCRIBER", "HANDSET_FULL")
REPLY_TEXTS = ("Merci !", "OK", "Bien reçu", "Je confirme")
STOP_TEXT = "STOP"

MIN_DELAY_S = 0.2
PART_SPREAD_S = (0.05, 0.4)  # between the reports of two consecutive parts
LATE_COPY_S = (0.5, 5.0)  # how much later a duplicate or out-of-order report comes
REPLY_JITTER = (0.5, 1.5)  # factor applied to reply_delay_s

_RATES = (
    "transient_error_rate",
    "permanent_error_rate",
    "undelivered_rate",
    "expired_rate",
    "duplicate_report_rate",
    "out_of_order_rate",
    "reply_rate",
    "stop_reply_rate",
)
_DUE_AT = attrgetter("due_at")


@dataclass(frozen=True)
class SimulatorConfig:
    seed: int = 42
    transient_error_rate: float = 0.02
    permanent_error_rate: float = 0.01
    undelivered_rate: float = 0.02
    expired_rate: float = 0.01
    delay_median_s: float = 3.0
    delay_sigma: float = 0.8
    delay_max_s: float = 120.0
    expire_after_s: float = 300.0
    duplicate_report_rate: float = 0.01
    out_of_order_rate: float = 0.01
    report_per_part: bool = True
    reply_rate: float = 0.0
    stop_reply_rate: float = 0.0
    reply_delay_s: float = 20.0
    throughput_per_s: float | None = None

    def __post_init__(self) -> None:
        bad = [name for name in _RATES if not 0.0 <= getattr(self, name) <= 1.0]
        if self.transient_error_rate + self.permanent_error_rate > 1.0:
            bad.append("transient_error_rate + permanent_error_rate")
        if self.undelivered_rate + self.expired_rate > 1.0:
            bad.append("undelivered_rate + expired_rate")
        if self.reply_rate + self.stop_reply_rate > 1.0:
            bad.append("reply_rate + stop_reply_rate")
        if self.delay_median_s <= 0 or self.delay_sigma < 0 or self.delay_max_s < MIN_DELAY_S:
            bad.append("delay_*")
        if self.throughput_per_s is not None and self.throughput_per_s <= 0:
            bad.append("throughput_per_s")
        if bad:
            raise ValueError(f"Invalid simulator config: {', '.join(bad)}")

    @classmethod
    def errors_off(cls, **kw) -> "SimulatorConfig":
        """Every message accepted and delivered once, in order (kw still override)."""
        off = dict.fromkeys(_RATES[:6], 0.0)
        return cls(**{**off, **kw})


@dataclass(frozen=True)
class Submission:
    message_id: int  # the panel's id (idempotency key)
    receiver: str  # E.164
    parts: int
    reply_allowed: bool  # sent from a short number / virtual number
    attempt: int = 1  # 1 for the first try, 2.. for retries


@dataclass(frozen=True)
class SubmitOutcome:
    message_id: int
    accepted: bool
    operator_id: str = ""  # "sim-<message_id>" when accepted
    error_code: str = ""
    permanent: bool = False


@dataclass(frozen=True)
class ReportEvent:
    due_at: datetime
    operator_id: str
    status: str  # "delivered" | "undelivered" | "expired" | "buffered" (intermediate)
    part: int  # 1-based
    parts: int
    error_code: str = ""


@dataclass(frozen=True)
class ReplyEvent:
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
        self._mu = math.log(config.delay_median_s)
        # Token bucket of the throughput cap (infinite without a cap).
        rate = config.throughput_per_s
        self._capacity = math.inf if rate is None else max(rate, 1.0)
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
            rng = random.Random(f"{cfg.seed}:{sub.message_id}:{sub.attempt}")
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
        if rate is None:
            return
        if self._bucket_at is None or now > self._bucket_at:
            if self._bucket_at is not None:
                elapsed = (now - self._bucket_at).total_seconds()
                self._tokens = min(self._capacity, self._tokens + elapsed * rate)
            self._bucket_at = now

    def _delay(self, rng: random.Random) -> float:
        delay = rng.lognormvariate(self._mu, self.config.delay_sigma)
        return min(max(delay, MIN_DELAY_S), self.config.delay_max_s)

    def _schedule(
        self,
        sub: Submission,
        operator_id: str,
        rng: random.Random,
        now: datetime,
        events: list[Event],
    ) -> None:
        cfg = self.config
        v = rng.random()
        if v < cfg.expired_rate:
            status, code, offset = "expired", "VALIDITY_EXPIRED", cfg.expire_after_s
        elif v < self._failed:
            status, code = "undelivered", rng.choice(UNDELIVERED_CODES)
            offset = self._delay(rng)
        else:
            status, code, offset = "delivered", "", self._delay(rng)

        # Seconds after `now`; all parts share the outcome, their reports a few hundred ms apart.
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
                events.append(
                    ReportEvent(
                        now + timedelta(seconds=late), operator_id, status, part, count, code
                    )
                )
        latest = max(latest, offset)

        if cfg.out_of_order_rate and rng.random() < cfg.out_of_order_rate:
            # An intermediate report overtaken by the final one: the panel must ignore it.
            late = latest + rng.uniform(*LATE_COPY_S)
            events.append(
                ReportEvent(now + timedelta(seconds=late), operator_id, "buffered", count, count)
            )

        if status == "delivered" and sub.reply_allowed and self._replied:
            w = rng.random()
            if w < cfg.stop_reply_rate:
                text = STOP_TEXT
            elif w < self._replied:
                text = rng.choice(REPLY_TEXTS)
            else:
                return
            delay = offset + cfg.reply_delay_s * rng.uniform(*REPLY_JITTER)
            events.append(
                ReplyEvent(now + timedelta(seconds=delay), operator_id, sub.receiver, text)
            )
