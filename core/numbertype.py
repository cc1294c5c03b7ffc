"""phonenumbers.number_type(), about three times faster, for bulk imports and sends.

The same metadata, tested in the same order as phonenumbers' _number_type_helper; what costs
there is the generic path around each pattern (optional descriptions, length lists, a regex
cache lookup), so each region's descriptions are turned once into (lengths, fullmatch) pairs.
tests/core/test_numbertype.py compares both on every region's example numbers and on
random numbers.
"""

from __future__ import annotations

import re

from phonenumbers import (
    PhoneNumber,
    PhoneNumberType,
    national_significant_number,
    region_code_for_number,
)
from phonenumbers.phonemetadata import PhoneMetadata

_SPECIAL = (
    ("premium_rate", PhoneNumberType.PREMIUM_RATE),
    ("toll_free", PhoneNumberType.TOLL_FREE),
    ("shared_cost", PhoneNumberType.SHARED_COST),
    ("voip", PhoneNumberType.VOIP),
    ("personal_number", PhoneNumberType.PERSONAL_NUMBER),
    ("pager", PhoneNumberType.PAGER),
    ("uan", PhoneNumberType.UAN),
    ("voicemail", PhoneNumberType.VOICEMAIL),
)
_NEVER = (frozenset(), None)


def _matcher(desc):
    """(possible lengths or None for any, fullmatch) — or _NEVER when nothing can match."""
    if desc is None or not desc.national_number_pattern:
        return _NEVER
    lengths = frozenset(desc.possible_length) or None
    return lengths, re.compile(desc.national_number_pattern).fullmatch


def _matches(matcher, number: str) -> bool:
    lengths, fullmatch = matcher
    if fullmatch is None or (lengths is not None and len(number) not in lengths):
        return False
    return fullmatch(number) is not None


class _Region:
    __slots__ = ("general", "special", "fixed", "mobile", "same_patterns")

    def __init__(self, metadata: PhoneMetadata):
        self.general = _matcher(metadata.general_desc)
        self.special = [
            (m, kind)
            for m, kind in ((_matcher(getattr(metadata, n)), k) for n, k in _SPECIAL)
            if m is not _NEVER
        ]
        self.fixed = _matcher(metadata.fixed_line)
        self.mobile = _matcher(metadata.mobile)
        self.same_patterns = metadata.same_mobile_and_fixed_line_pattern

    def kind(self, nsn: str) -> int:
        if not _matches(self.general, nsn):
            return PhoneNumberType.UNKNOWN
        for matcher, kind in self.special:
            if _matches(matcher, nsn):
                return kind
        if _matches(self.fixed, nsn):
            if self.same_patterns or _matches(self.mobile, nsn):
                return PhoneNumberType.FIXED_LINE_OR_MOBILE
            return PhoneNumberType.FIXED_LINE
        if not self.same_patterns and _matches(self.mobile, nsn):
            return PhoneNumberType.MOBILE
        return PhoneNumberType.UNKNOWN


_REGIONS: dict[tuple[int, str | None], _Region | None] = {}


def number_type(number: PhoneNumber) -> int:
    """What phonenumbers.number_type(number) answers."""
    region = region_code_for_number(number)
    key = (number.country_code, region)
    compiled = _REGIONS.get(key, _NEVER)
    if compiled is _NEVER:
        metadata = PhoneMetadata.metadata_for_region_or_calling_code(number.country_code, region)
        compiled = _REGIONS[key] = _Region(metadata) if metadata is not None else None
    if compiled is None:
        return PhoneNumberType.UNKNOWN
    return compiled.kind(national_significant_number(number))
