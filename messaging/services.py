"""Messaging workflows: cost estimates now; jobs and dispatch build on these."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from accounts.models import DestinationRate, SmsAccount

from . import recipients as rcpt
from .encoding import SmsCount


@dataclass
class Estimate:
    recipients: int
    segments: int
    credits_needed: Decimal
    credits_left: Decimal
    credits_after: Decimal
    invalid: list[tuple[str, str]] = field(default_factory=list)  # (as typed, reason code)
    duplicates: int = 0

    @property
    def insufficient(self) -> bool:
        return self.credits_after < 0


def rates_for(regions) -> dict[str, Decimal]:
    return dict(
        DestinationRate.objects.filter(country__in=set(regions)).values_list(
            "country", "credits_per_segment"
        )
    )


def estimate_build(
    *, account: SmsAccount, sms: SmsCount, parsed: rcpt.ParsedRecipients
) -> Estimate:
    """What sending `sms` to the parsed recipients would cost, per destination rate."""
    rates = rates_for(r.region for r in parsed.valid) if parsed.valid else {}
    invalid = list(parsed.invalid)
    served = 0
    needed = Decimal("0.00")
    for recipient in parsed.valid:
        rate = rates.get(recipient.region)
        if rate is None:
            invalid.append((recipient.number, "no_rate"))
            continue
        served += 1
        needed += rate * sms.segments
    return Estimate(
        recipients=served,
        segments=sms.segments,
        credits_needed=needed,
        credits_left=account.credits,
        credits_after=account.credits - needed,
        invalid=invalid,
        duplicates=parsed.duplicates,
    )
