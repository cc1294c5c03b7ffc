"""Reads of the accounts app that other apps share."""

from collections.abc import Iterable
from decimal import Decimal

from django.db.models import Count, Sum

from .models import DestinationRate, SmsUser


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


def quota_totals(account) -> dict:
    """OVH's creditsHoldByQuota and userQuantityWithQuota: what the SMS users with a quota on
    may still spend, and how many they are."""
    totals = SmsUser.objects.filter(
        account=account, quota_status=SmsUser.QuotaStatus.ACTIVE
    ).aggregate(held=Sum("quota_left"), users=Count("pk"))
    return {
        "creditsHoldByQuota": float(totals["held"] or 0),
        "userQuantityWithQuota": totals["users"],
    }
