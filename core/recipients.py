"""Turn what a customer typed into E.164 numbers, with a reason for each rejected entry.

Plain module (phonenumbers only): used by forms, services and the API alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import phonenumbers
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneNumberType
from phonenumbers.phonemetadata import PhoneMetadata

from .numbertype import number_type, region_number_type

# Entries are separated by new lines, commas or semicolons; spaces, dots and dashes inside
# a number are allowed ("06 12 34 56 78").
_SEPARATORS = re.compile(r"[\n\r,;]+")
_NOISE = re.compile(r"[\s.\-()/]")
_PLAUSIBLE = re.compile(r"^\+?[0-9]{3,20}$")

# Types that cannot receive an SMS.
_NOT_SMS_TYPES = {
    PhoneNumberType.FIXED_LINE,
    PhoneNumberType.TOLL_FREE,
    PhoneNumberType.PREMIUM_RATE,
    PhoneNumberType.SHARED_COST,
    PhoneNumberType.UAN,
    PhoneNumberType.VOICEMAIL,
}

# Reasons are codes; the web layer translates them (see messaging.forms.INVALID_REASONS).
NOT_A_NUMBER = "not_a_number"
INVALID = "invalid"
NOT_MOBILE = "not_mobile"


@dataclass(frozen=True, slots=True)
class Recipient:
    number: str  # E.164, "+33612345678"
    region: str  # ISO country of the number, "FR"
    source: str = ""  # where it came from: "typed", "book:12"
    # Personalisation fields, from an address-book contact.
    name: str = ""
    surname: str = ""
    group: str = ""


@dataclass
class ParsedRecipients:
    valid: list[Recipient] = field(default_factory=list)
    invalid: list[tuple[str, str]] = field(default_factory=list)  # (as typed, reason code)
    duplicates: int = 0

    def add(self, entries, default_region: str, source: str, *, stored: bool = False) -> None:
        """Add numbers (typed entries, or a book's (number, name, surname, group) tuples),
        skipping those already there. `stored`: numbers an address book or a list kept,
        checked as mobile numbers when they entered: E.164 ones whose calling code is one
        country's are taken as they are (`stored_region`), the rest checked again."""
        seen = {r.number for r in self.valid}
        for entry in entries:
            number, *fields = (entry,) if isinstance(entry, str) else entry
            region = stored_region(number) if stored else None
            outcome = (number, region) if region else _normalised(number, default_region)
            if isinstance(outcome, str):
                self.invalid.append((number, outcome))
            elif outcome[0] in seen:
                self.duplicates += 1
            else:
                seen.add(outcome[0])
                self.valid.append(Recipient(*outcome, source, *fields))


# Calling code of an E.164 number by its first characters ("+336" → (33, "FR")), the region
# "" for a calling code shared by several countries: calling codes have at most three digits.
_CODE_BY_PREFIX: dict[str, tuple[int, str]] = {}


def _calling_code(number: str) -> tuple[int, str] | None:
    """(calling code, its one country or "") of a well-formed E.164 number, else None."""
    digits = number[1:]
    if not (7 <= len(digits) <= 15 and number[0] == "+" and digits.isascii() and digits.isdigit()):
        return None
    prefix = number[:4]
    known = _CODE_BY_PREFIX.get(prefix)
    if known is None:
        known = (0, "")
        for length in (1, 2, 3):
            code = int(prefix[1 : 1 + length])
            regions = COUNTRY_CODE_TO_REGION_CODE.get(code)
            if regions:
                one = len(regions) == 1 and regions[0] != "001"
                known = (code, regions[0] if one else "")
                break
        _CODE_BY_PREFIX[prefix] = known
    return known


def stored_region(number: str) -> str | None:
    """The country of a stored E.164 number when its calling code belongs to one country
    (+33: FR), without phonenumbers; None otherwise (+1, +7, +44…: the number tells which).
    A million-recipient campaign spent a third of its preparation checking again, number by
    number, what its address books had checked at import (bench/campaigns.py)."""
    known = _calling_code(number)
    return known[1] or None if known else None


def _fast_international(typed: str) -> tuple[int, str, str] | None:
    """ "+<country code><national number>" of a calling code that belongs to one country,
    checked without phonenumbers.parse(), a PhoneNumber or formatting (each cost more than
    validation itself): (type, E.164, region), or None for the slow path (shared calling codes
    such as +1 and +7, national parts starting with 0 as in Italy, invalid numbers)."""
    known = _calling_code(typed)
    if not known or not known[1]:
        return None
    code, region = known
    national = typed[len(str(code)) + 1 :]
    if national[0] == "0":
        return None
    kind = region_number_type(code, region, national)
    if kind == PhoneNumberType.UNKNOWN:
        return None  # the slow path also knows national prefixes after the code (+7 8…)
    return kind, typed, region


# Per region: (calling code, national prefix, international call prefix) when a number written
# nationally is simply that prefix then the national number (France: 0 6 12 34 56 78) and the
# calling code is that country's alone; None when phonenumbers' own rules are needed (prefix
# patterns, carrier codes, shared calling codes).
_NATIONAL: dict[str, tuple | None] = {}


def _national_rule(region: str) -> tuple | None:
    if region not in _NATIONAL:
        rule = None
        meta = PhoneMetadata.metadata_for_region(region)
        prefix = meta.national_prefix if meta else None
        if (
            prefix
            and prefix.isdigit()
            and meta.national_prefix_for_parsing in (None, prefix)
            and meta.national_prefix_transform_rule is None
            and COUNTRY_CODE_TO_REGION_CODE.get(meta.country_code) == (region,)
        ):
            # Israel's 019…: an international call prefix, not 0 then 19….
            idd = re.compile(meta.international_prefix or "(?!)").match
            rule = (meta.country_code, prefix, idd)
        _NATIONAL[region] = rule
    return _NATIONAL[region]


def _fast_national(typed: str, region: str) -> tuple[int, str, str] | None:
    """A number written nationally in the sender's country, checked as _fast_international
    does: (type, E.164, region) of valid numbers only, else None for the slow path."""
    rule = _national_rule(region)
    if rule is None or not typed.startswith(rule[1]) or not typed.isdigit() or rule[2](typed):
        return None
    code, prefix, _idd = rule
    national = typed[len(prefix) :]
    if not 4 <= len(national) <= 14 or national[0] == "0":
        return None
    kind = region_number_type(code, region, national)
    if kind == PhoneNumberType.UNKNOWN:
        return None
    return kind, f"+{code}{national}", region


def plain_e164(typed: str, *, allow_landline: bool = False) -> str | None:
    """normalise(typed).number, or its reason code, for what is typed as a plain E.164 number
    ("+" and digits only) of a calling code that belongs to one country; None when normalise()
    must decide. For bulk imports, where most numbers are such: it skips the cleaning, the
    plausibility pattern and the Recipient (together ~45% of normalise()'s time for them)."""
    fast = _fast_international(typed)
    if fast is None:
        return None
    if fast[0] in _NOT_SMS_TYPES and not allow_landline:
        return NOT_MOBILE
    return typed


def compact(raw: str) -> str:
    """What was typed without spaces, dots, dashes, brackets and slashes; "00" read as "+"."""
    text = _NOISE.sub("", raw)
    return "+" + text[2:] if text.startswith("00") else text


def normalise(raw: str, default_region: str, *, allow_landline: bool = False) -> Recipient | str:
    """One number → Recipient, or a reason code when it cannot receive an SMS (landlines and
    other non-SMS numbers too, unless `allow_landline`: address books store them)."""
    outcome = _normalised(raw, default_region, allow_landline=allow_landline)
    return outcome if isinstance(outcome, str) else Recipient(*outcome)


def _normalised(raw: str, default_region: str, *, allow_landline: bool = False):
    """normalise() as (E.164, region) or a reason code."""
    typed = compact(raw)
    if not _PLAUSIBLE.match(typed):
        return NOT_A_NUMBER
    if typed[0] == "+":
        fast = _fast_international(typed)
    else:
        fast = _fast_national(typed, default_region)
    if fast is not None:
        kind, number, region = fast
    else:
        # The slow path also knows national prefixes written after the country code (+7 8…).
        try:
            parsed = phonenumbers.parse(typed, default_region)
        except phonenumbers.NumberParseException:
            return NOT_A_NUMBER
        # number_type() is UNKNOWN exactly when is_valid_number() is false: one check, not two.
        kind = number_type(parsed)
        if kind != PhoneNumberType.UNKNOWN:
            number = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
            region = phonenumbers.region_code_for_number(parsed) or default_region
    if kind == PhoneNumberType.UNKNOWN:
        return INVALID
    if kind in _NOT_SMS_TYPES and not allow_landline:
        return NOT_MOBILE
    return number, region


def split_entries(text: str) -> list[str]:
    return [entry.strip() for entry in _SEPARATORS.split(text or "") if entry.strip()]


def parse(text: str, default_region: str, source: str = "typed") -> ParsedRecipients:
    result = ParsedRecipients()
    result.add(split_entries(text), default_region, source)
    return result
