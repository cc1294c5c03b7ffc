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


def _alternative(name: str | None, matcher) -> str | None:
    """A description as a pattern (a named branch of a region's combined pattern, or the
    unnamed general one): its lengths as a lookahead, then its own pattern."""
    lengths, fullmatch = matcher
    if lengths is not None:
        lengths = sorted(n for n in lengths if n > 0)  # [-1]: no such numbers in the region
    if fullmatch is None or lengths == []:
        return None
    pattern = fullmatch.__self__.pattern
    if lengths is not None:
        ahead = "|".join(f"\\d{{{n}}}" for n in lengths)
        pattern = f"(?=(?:{ahead})\\Z)(?:{pattern})"
    return f"(?P<{name}>{pattern})" if name else f"(?:{pattern})"


class _Region:
    """A region's descriptions as one alternation, tried in phonenumbers' order (special
    types, fixed line, mobile): fullmatch() backtracks through the branches in order, so the
    first description that matches the whole number names its type, in one call instead of one
    per description (nine for a French mobile)."""

    __slots__ = ("mobile", "same_patterns", "combined", "kinds")

    def __init__(self, metadata: PhoneMetadata):
        self.mobile = _matcher(metadata.mobile)
        self.same_patterns = metadata.same_mobile_and_fixed_line_pattern
        branches = [
            (f"s{i}", _matcher(getattr(metadata, name)), kind)
            for i, (name, kind) in enumerate(_SPECIAL)
        ]
        branches.append(("fixed", _matcher(metadata.fixed_line), PhoneNumberType.FIXED_LINE))
        if not self.same_patterns:
            branches.append(("mobile", self.mobile, PhoneNumberType.MOBILE))
        parts, self.kinds = [], {}
        for name, matcher, kind in branches:
            part = _alternative(name, matcher)
            if part is not None:
                parts.append(part)
                self.kinds[name] = kind
        general = _alternative(None, _matcher(metadata.general_desc))
        # The general description first, as a lookahead: a number it refuses is UNKNOWN.
        self.combined = (
            re.compile(f"(?={general}\\Z)(?:{'|'.join(parts)})").fullmatch
            if parts and general
            else None
        )

    def kind(self, nsn: str) -> int:
        found = self.combined(nsn) if self.combined is not None else None
        if found is None:
            return PhoneNumberType.UNKNOWN
        kind = self.kinds[found.lastgroup]
        if kind == PhoneNumberType.FIXED_LINE and (
            self.same_patterns or _matches(self.mobile, nsn)
        ):
            return PhoneNumberType.FIXED_LINE_OR_MOBILE
        return kind


_REGIONS: dict[tuple[int, str | None], _Region | None] = {}


def number_type(number: PhoneNumber) -> int:
    """What phonenumbers.number_type(number) answers."""
    region = region_code_for_number(number)
    return region_number_type(number.country_code, region, national_significant_number(number))


def region_number_type(country_code: int, region: str | None, nsn: str) -> int:
    """The type of a national significant number in a region (or a non-geographic calling
    code, region "001"), for callers that know both without a PhoneNumber."""
    key = (country_code, region)
    compiled = _REGIONS.get(key, _NEVER)
    if compiled is _NEVER:
        metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code, region)
        compiled = _REGIONS[key] = _Region(metadata) if metadata is not None else None
    if compiled is None:
        return PhoneNumberType.UNKNOWN
    return compiled.kind(nsn)
