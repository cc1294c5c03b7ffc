"""Amounts of credits in sentences, in the page's language: "1,00 crédit", "5,00 crédits",
"2.50 credits" (the number formatted by the locale, the noun agreeing with it)."""

from decimal import Decimal

from django.utils.formats import number_format


def credits_plural(amount) -> int:
    """The count to give ngettext for an amount of credits: a whole amount follows the
    language's own rule (1,00 crédit; 0 crédit in French, 0 credits in English), any other is
    plural (1,50 crédits, 1.50 credits)."""
    amount = Decimal(amount)
    return int(amount) if amount == amount.to_integral_value() else 2


def credits_number(amount) -> str:
    """The amount with two decimals and the locale's separators: 1 234,50 or 1,234.50."""
    return number_format(Decimal(amount), 2, use_l10n=True, force_grouping=True)
