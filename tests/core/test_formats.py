"""core.formats: credits in sentences, number and noun in the page's language."""

from decimal import Decimal

import pytest
from django.utils import translation

from core.formats import credits_number, credits_plural


@pytest.mark.parametrize(
    ("amount", "n"), [("1", 1), ("1.00", 1), ("0", 0), ("1.5", 2), ("0.25", 2), ("5", 5)]
)
def test_whole_amounts_follow_the_language_rule_others_are_plural(amount, n):
    assert credits_plural(Decimal(amount)) == n


@pytest.mark.parametrize(
    ("amount", "fr", "en"),
    [("5", "5,00", "5.00"), ("1234.5", "1\xa0234,50", "1,234.50"), ("-2", "-2,00", "-2.00")],
)
def test_the_number_has_two_decimals_and_the_locale_separators(amount, fr, en):
    with translation.override("fr"):
        assert credits_number(Decimal(amount)) == fr
    with translation.override("en"):
        assert credits_number(Decimal(amount)) == en
