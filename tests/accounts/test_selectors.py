"""accounts.selectors.rates_for: credits per segment of the countries that have a rate."""

from decimal import Decimal

import pytest

from accounts.models import DestinationRate
from accounts.selectors import rates_for

pytestmark = pytest.mark.django_db


def test_it_gives_the_rate_of_each_served_country():
    DestinationRate.objects.filter(country="BE").update(credits_per_segment=Decimal("1.65"))

    assert rates_for(["FR", "BE", "FR"]) == {"FR": Decimal("1.00"), "BE": Decimal("1.65")}


def test_a_country_without_a_rate_is_missing():
    DestinationRate.objects.filter(country="CH").delete()

    assert rates_for(["CH", "FR"]) == {"FR": Decimal("1.00")}


def test_no_country_costs_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert rates_for([]) == {}
