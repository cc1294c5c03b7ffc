from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class OutboundSms:
    message_id: int  # the panel's OutgoingMessage id, also the operator's idempotency key
    receiver: str  # E.164
    sender: str  # "" for the short number that allows replies
    text: str  # the whole text, STOP mention included
    parts: int
    sms_class: str
    reply_allowed: bool
    attempt: int = 1


@dataclass(frozen=True, slots=True)
class SubmitResult:
    message_id: int
    accepted: bool
    operator_id: str = ""
    error_code: str = ""
    # For a rejection: permanent (never retry) or transient (retry later).
    permanent: bool = False


class Operator(Protocol):
    def submit(self, messages: Sequence[OutboundSms]) -> list[SubmitResult]:
        """Submit messages; one result per message, in any order.

        Submitting the same message_id again must not send it twice (the operator answers
        with the operator id it gave the first time).
        """
