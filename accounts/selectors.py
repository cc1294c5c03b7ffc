"""Reads of the accounts app that other apps share."""

from collections.abc import Iterable
from decimal import Decimal

from .models import DestinationRate


def rates_for(regions: Iterable[str]) -> dict[str, Decimal]:
    """Credits per SMS segment of each of these countries that has a rate; a country missing
    from the answer is not served. One query."""
    regions = set(regions)
    if not regions:
        return {}
    return dict(
        DestinationRate.objects.filter(country__in=regions).values_list(
            "country", "credits_per_segment"
        )
    )
