"""The credit packs and their prices (OVH /sms/rates/packs, seeOffers): smspanel takes no
payment (staff credit accounts), so this is the price list it shows, euros excluding tax per
credit, cheaper by the quantity. One SMS to a country costs that country's DestinationRate in
credits (France: 1)."""

from decimal import Decimal

# Credits in a pack -> euros per credit.
PACKS = {
    100: Decimal("0.079"),
    200: Decimal("0.077"),
    250: Decimal("0.076"),
    500: Decimal("0.074"),
    1000: Decimal("0.071"),
    2500: Decimal("0.068"),
    5000: Decimal("0.066"),
    10000: Decimal("0.063"),
    25000: Decimal("0.060"),
    50000: Decimal("0.058"),
    100000: Decimal("0.055"),
    1000000: Decimal("0.050"),
}
CURRENCY = "EUR"


def credit_price(quantity: int) -> Decimal:
    """Euros per credit when buying `quantity` credits: the price of the largest pack it fills."""
    fitting = [size for size in PACKS if size <= quantity]
    return PACKS[max(fitting)] if fitting else PACKS[min(PACKS)]


def pack_ranges() -> list[tuple[int, int | None, Decimal]]:
    """(minimum, maximum or None, euros per credit) for each pack size."""
    sizes = sorted(PACKS)
    return [(size, nxt - 1 if nxt else None, PACKS[size])
            for size, nxt in zip(sizes, sizes[1:] + [None], strict=True)]  # fmt: skip
