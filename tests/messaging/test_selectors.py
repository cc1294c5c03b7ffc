"""messaging.selectors: the served recipients of a send, the number and date filters."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from accounts.models import DestinationRate
from core import recipients
from messaging import selectors
from messaging.models import IncomingMessage, StopListEntry

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")


def test_recipients_served_splits_by_destination_rate():
    DestinationRate.objects.filter(country="CH").delete()
    parsed = recipients.parse("+33612345678, +41791234567, +32470123456", "FR")

    served = selectors.recipients_served(parsed.valid)

    assert [r.number for r in served.recipients] == ["+33612345678", "+32470123456"]
    assert served.unserved == [["+41791234567", "no_rate"]]
    assert served.rates == {"FR": Decimal("1.00"), "BE": Decimal("1.65")}


def test_with_number_matches_a_whole_number_or_its_start(account):
    for number in ("+33612345678", "+33612345679", "+33699999999", "+3270000000"):
        StopListEntry.objects.create(account=account, number=number)

    def numbers(value):
        qs = selectors.stoplist_entries(account, {"number": value})
        return sorted(qs.values_list("number", flat=True))

    assert numbers("06 12 34 56 78") == ["+33612345678"]
    assert numbers("061234567") == ["+33612345678", "+33612345679"]
    assert numbers("+3369") == ["+33699999999"]
    assert numbers("not a number") == []
    assert len(numbers("")) == 4


def test_received_messages_keeps_both_days_of_the_range(account):
    def received(ref, when):
        IncomingMessage.objects.create(
            account=account, sender="+33612345678", text=ref, received_at=when, ref=ref
        )

    received("before", datetime(2026, 3, 9, 23, 59, tzinfo=PARIS))
    received("first day", datetime(2026, 3, 10, 0, 0, tzinfo=PARIS))
    received("last day", datetime(2026, 3, 11, 23, 59, tzinfo=PARIS))
    received("after", datetime(2026, 3, 12, 0, 0, tzinfo=PARIS))

    qs = selectors.received_messages(
        account, {"date_from": date(2026, 3, 10), "date_to": date(2026, 3, 11)}
    )

    assert sorted(qs.values_list("text", flat=True)) == ["first day", "last day"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"before": "12", "after": "x"}, {"before": 12}),
        ({"after": "-1"}, {}),
        ({"before": str(2**63)}, {}),
        ({}, {}),
    ],
)
def test_cursors_keep_only_usable_ids(params, expected):
    assert selectors.cursors(params) == expected
