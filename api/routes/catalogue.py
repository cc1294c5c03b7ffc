"""What OVHcloud publishes about its offer, answered from smspanel's own data: /sms/ptts (what
a ptt code means), /sms/rates/destinations and /sms/rates/packs (credits per SMS from the
destination rates, the packs' prices), /sms/{serviceName}/seeOffers, and
/sms/{serviceName}/exceptions (routing restrictions towards a receiver)."""

from decimal import Decimal
from typing import Literal

from django.http import Http404
from ninja import Router, Schema

from accounts import pricing
from accounts.models import DestinationRate
from core import recipients as rcpt

from ..errors import ApiError
from ..schemas import responses
from .base import account_for

router = Router(tags=["sms"])

# What each ptt code smspanel writes means (sms.PttDetails).
PTT_DETAILS = {
    0: ("Waiting or sent", "The SMS is waiting to be sent or waits for its delivery report",
        "temporary"),
    1: ("Delivered", "The handset received the SMS", "permanent"),
    2: ("Not delivered", "The operator could not deliver the SMS (handset off, absent, full)",
        "permanent"),
    3: ("Expired", "No delivery report came within the validity period", "permanent"),
    4: ("Failed", "The SMS was refused before or by the operator; its credits were refunded",
        "permanent"),
    5: ("STOP list", "The receiver replied STOP: the SMS was not sent nor charged", "permanent"),
}  # fmt: skip

CountryCode = str  # sms.CountryEnum: ISO codes in lower case ("fr", "gb"), "all"
BillingCountry = Literal["es", "fr", "gb", "ie", "it", "pl"]


class Price(Schema):
    currencyCode: Literal["EUR"]
    text: str
    value: float


class PttDetails(Schema):
    comment: str
    description: str
    duration: Literal["indeterminated", "permanent", "temporary"]


class DestinationRates(Schema):
    country: str
    countryCode: CountryCode
    credit: float
    price: Price


class PackDetails(Schema):
    countryCode: CountryCode
    credit: float
    creditPrice: Price
    creditQuantityMax: int | None = None
    creditQuantityMin: int
    discountCreditPrice: Price | None = None
    discountPercentage: int | None = None
    discountSmsPrice: Price | None = None
    smsPrice: Price
    smsQuantityMax: int | None = None
    smsQuantityMin: int


class PackOffer(Schema):
    countryDestination: str
    giftPrice: float | None = None
    giftQuantity: float | None = None
    language: str
    price: float
    quantity: int
    smsQuantity: float
    totalPrice: float | None = None


class RoutingException(Schema):
    countrySuffixe: str
    messages: list[str]
    operators: str
    restrictionCode: Literal["ALPHA", "BAD_DLR", "BLOCKED", "CODING", "DLR", "FLASHONLY",
                             "MSISDN"]  # fmt: skip
    substitution: str | None = None


def _price(value: Decimal) -> dict:
    value = value.quantize(Decimal("0.0001"))
    return {"currencyCode": pricing.CURRENCY, "text": f"{value.normalize()} €", "value": float(value)}


def _rate(country: str) -> DestinationRate:
    # "gb" in OVHcloud's enum is the United Kingdom, stored as GB.
    rate = DestinationRate.objects.filter(country=country.upper()).first()
    if rate is None:
        raise ApiError(404, f"No SMS is sent to this country: {country}", "NOT_FOUND")
    return rate


@router.get("/sms/ptts", response=responses(PttDetails))
def ptts(request, ptt: int):
    if ptt not in PTT_DETAILS:
        raise Http404
    comment, description, duration = PTT_DETAILS[ptt]
    return {"comment": comment, "description": description, "duration": duration}


@router.get("/sms/rates/destinations", response=responses(DestinationRates))
def rates_destinations(request, country: str, billingCountry: BillingCountry | None = None):
    """Credits per SMS part to `country`, and their price at the smallest pack's rate."""
    rate = _rate(country)
    price = rate.credits_per_segment * pricing.credit_price(0)
    return {"country": rate.name, "countryCode": rate.country.lower(),
            "credit": float(rate.credits_per_segment), "price": _price(price)}  # fmt: skip


@router.get("/sms/rates/packs", response=responses(list[PackDetails]))
def rates_packs(request, country: str, billingCountry: BillingCountry | None = None):
    rate = _rate(country)
    per_sms = rate.credits_per_segment
    return [
        {
            "countryCode": rate.country.lower(),
            "credit": float(per_sms),
            "creditPrice": _price(price),
            "creditQuantityMin": low,
            "creditQuantityMax": high,
            "smsPrice": _price(price * per_sms),
            "smsQuantityMin": int(low / per_sms),
            "smsQuantityMax": int(high / per_sms) if high else None,
        }
        for low, high, price in pricing.pack_ranges()
    ]


@router.get("/sms/{serviceName}/seeOffers", response=responses(list[PackOffer]))
def see_offers(
    request,
    serviceName: str,
    countryDestination: str,
    countryCurrencyPrice: str,
    quantity: Literal["100", "200", "250", "500", "1000", "2500", "5000", "10000", "25000",
                      "50000", "100000", "1000000"],  # fmt: skip
):
    """The pack of `quantity` credits: its price and how many SMS it sends to the country."""
    account_for(request, serviceName)
    rate = _rate(countryDestination)
    credits = int(quantity)
    price = pricing.credit_price(credits)
    return [{"countryDestination": rate.country.lower(), "language": countryCurrencyPrice,
             "price": float(price), "quantity": credits,
             "smsQuantity": float(credits / rate.credits_per_segment),
             "totalPrice": float(price * credits)}]  # fmt: skip


@router.get("/sms/{serviceName}/exceptions", response=responses(list[RoutingException]))
def exceptions(request, serviceName: str, receiver: str):
    """Restrictions on sending to `receiver`: none where a rate exists (the route takes
    alphanumeric senders, any encoding, delivery reports); the country blocked otherwise."""
    account = account_for(request, serviceName)
    outcome = rcpt.normalise(receiver, account.default_region, allow_landline=True)
    if isinstance(outcome, str):
        raise ApiError.invalid(f"Invalid receiver: {outcome}")
    if DestinationRate.objects.filter(country=outcome.region).exists():
        return []
    return [{"countrySuffixe": outcome.region.lower(), "operators": "all",
             "messages": ["No route serves this country: SMS to it are refused"],
             "restrictionCode": "BLOCKED", "substitution": None}]  # fmt: skip
