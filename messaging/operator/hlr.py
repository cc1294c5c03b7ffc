"""Number lookups (HLR) as the simulated operator answers them: pure Python over phonenumbers.

A real HLR query asks the home network whether a number exists, is reachable, was ported to
another operator or is roaming. The simulator answers from the number's own data (country,
type, the operator its prefix was allocated to) and a seeded draw per number, so the same seed
always gives the same answers for the same number."""

import hashlib
from dataclasses import dataclass

import phonenumbers
from phonenumbers import carrier, geocoder

MOBILE_TYPES = (phonenumbers.PhoneNumberType.MOBILE,
                phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)  # fmt: skip
# Shares among valid mobile numbers, as seen on French networks.
PORTED = 0.12
UNREACHABLE = 0.05
ROAMING = 0.03


@dataclass(frozen=True)
class NumberInfo:
    """What the numbering plan says of a number (OVH `sms.Hlr`)."""

    country: str  # ISO code, "FR"
    country_code: str  # calling code, "33"
    network: str  # "mobile", "fixed", "other"
    operator: str  # the operator the prefix belongs to ("" if unknown)
    region: str  # the place a geographic number belongs to, else the country


@dataclass(frozen=True)
class Lookup:
    """One HLR answer (OVH `sms.HlrLookupNumber`)."""

    valid: bool
    reachable: bool
    ported: bool
    roaming: bool
    operator_code: str  # MCC+MNC of the network serving the number ("" if none)


def _parse(number: str):
    try:
        return phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return None


def number_info(number: str) -> NumberInfo:
    parsed = _parse(number)
    if parsed is None:
        return NumberInfo("", "", "other", "", "")
    kind = phonenumbers.number_type(parsed)
    network = ("mobile" if kind in MOBILE_TYPES
               else "fixed" if kind == phonenumbers.PhoneNumberType.FIXED_LINE
               else "other")  # fmt: skip
    return NumberInfo(
        country=phonenumbers.region_code_for_number(parsed) or "",
        country_code=str(parsed.country_code),
        network=network,
        operator=carrier.name_for_number(parsed, "en"),
        region=geocoder.description_for_number(parsed, "en"),
    )


def _draw(seed: int, number: str, what: str) -> float:
    digest = hashlib.sha256(f"{seed}:{number}:{what}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _operator_code(parsed, seed: int, number: str, ported: bool) -> str:
    """An MCC+MNC for the serving network: the country's first networks, drawn per number."""
    mcc = {"FR": "208", "BE": "206", "CH": "228", "DE": "262", "ES": "214", "GB": "234",
           "IT": "222", "PL": "260"}.get(phonenumbers.region_code_for_number(parsed), "901")  # fmt: skip
    mncs = ("01", "10", "15", "20")
    pick = int(_draw(seed, number, "mnc" if ported else "home") * len(mncs))
    return mcc + mncs[pick]


def lookup(number: str, *, seed: int) -> Lookup:
    parsed = _parse(number)
    if parsed is None or not phonenumbers.is_valid_number(parsed):
        return Lookup(valid=False, reachable=False, ported=False, roaming=False, operator_code="")
    if phonenumbers.number_type(parsed) not in MOBILE_TYPES:
        # A landline has no HLR entry: it exists but cannot receive an SMS.
        return Lookup(valid=True, reachable=False, ported=False, roaming=False, operator_code="")
    ported = _draw(seed, number, "ported") < PORTED
    reachable = _draw(seed, number, "reachable") >= UNREACHABLE
    roaming = reachable and _draw(seed, number, "roaming") < ROAMING
    return Lookup(valid=True, reachable=reachable, ported=ported, roaming=roaming,
                  operator_code=_operator_code(parsed, seed, number, ported))  # fmt: skip
