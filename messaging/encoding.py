"""SMS length and encoding calculation (3GPP TS 23.038 / TS 23.040).

Pure Python, no Django import, so it can be used from views, forms, Celery
tasks and benchmarks alike.

A text is sent in the GSM 7-bit default alphabet ("GSM-7") when every
character is in the basic table (1 septet each) or in the extension table
(escape 0x1B + code, 2 septets each).  A single other character switches the
whole text to UCS-2, counted in UTF-16 code units (characters outside the
Basic Multilingual Plane take a surrogate pair, i.e. 2 units).

Nothing is normalised: what is sent is what is counted ("é" precomposed is
GSM-7, "e" followed by U+0301 COMBINING ACUTE ACCENT is UCS-2).

Concatenated messages carry a User Data Header, so a part holds 153 septets
(GSM-7) or 67 units (UCS-2) instead of 160 / 70.  An escape pair or a
surrogate pair is never split across two parts: when such a 2-unit item would
straddle a boundary, the part is closed one unit early.

Performance: ``count()`` never loops over every character in Python.  It
relies on a precompiled regular expression, ``str.replace``, ``str.encode``
and arithmetic; the only Python loop runs over the part boundaries (at most
a few hundred), where a single unit is inspected to avoid splitting a pair.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "GSM7_BASIC",
    "GSM7_EXTENSION",
    "GSM7",
    "UCS2",
    "MAX_SEGMENTS",
    "RECOMMENDED_MAX_SEGMENTS",
    "STOP_CLAUSE",
    "SmsCount",
    "count",
    "is_gsm7",
    "smart_replace",
]

GSM7 = "GSM-7"
UCS2 = "UCS-2"

STOP_CLAUSE = "\nSTOP:36111"
MAX_SEGMENTS = 255
RECOMMENDED_MAX_SEGMENTS = 8

# Units per message: a single part, and each part of a concatenated message.
GSM7_SINGLE = 160
GSM7_MULTI = 153
UCS2_SINGLE = 70
UCS2_MULTI = 67

# GSM 03.38 basic character set, in GSM code order 0x00-0x7F.
# 0x1B is the escape to the extension table and is not a character.
GSM7_BASIC = (
    # 0x00-0x0F
    "@£$¥èéùìòÇ\nØø\rÅå"
    # 0x10-0x1F (0x1B = ESC omitted); Greek capitals, not math symbols
    "\u0394_\u03a6\u0393\u039b\u03a9\u03a0\u03a8\u03a3\u0398\u039eÆæßÉ"
    # 0x20-0x2F (0x24 is the currency sign, not the dollar sign)
    " !\"#¤%&'()*+,-./"
    # 0x30-0x3F
    "0123456789:;<=>?"
    # 0x40-0x5F
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    # 0x60-0x7F
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)

# GSM 03.38 extension table (reached through ESC 0x1B): 2 septets each.
# Codes 0x0A, 0x14, 0x28, 0x29, 0x2F, 0x3C, 0x3D, 0x3E, 0x40, 0x65.
GSM7_EXTENSION = "\f^{}\\[~]|€"

_GSM7_ALL = frozenset(GSM7_BASIC + GSM7_EXTENSION)

# Any character that cannot be encoded in GSM-7 at all.
_NOT_GSM_RE = re.compile("[^" + re.escape(GSM7_BASIC + GSM7_EXTENSION) + "]")
# Runs of GSM-7 characters (stripped to keep only the offending characters).
_GSM_RUN_RE = re.compile("[" + re.escape(GSM7_BASIC + GSM7_EXTENSION) + "]+")

_ESC = "\x1b"
# Distinct offending characters found one by one (search + str.replace) before
# falling back to a single dict.fromkeys() pass over the rest.
_NON_GSM_SCAN_LIMIT = 32


@dataclass(frozen=True, slots=True)
class SmsCount:
    """Result of :func:`count`.

    ``units`` are septets for GSM-7 and UTF-16 code units for UCS-2.
    """

    encoding: str
    units: int
    parts: tuple[int, ...]
    segments: int
    per_part: int
    remaining: int
    non_gsm: tuple[str, ...]
    too_long: bool
    # Number of Python characters counted (STOP clause included when asked).
    characters: int = 0

    @property
    def is_gsm7(self) -> bool:
        return self.encoding == GSM7

    @property
    def is_unicode(self) -> bool:
        return self.encoding == UCS2

    @property
    def unit_name(self) -> str:
        return "septets" if self.encoding == GSM7 else "UTF-16 units"

    @property
    def max_units(self) -> int:
        """Units available in :data:`MAX_SEGMENTS` parts of this encoding."""
        return MAX_SEGMENTS * (GSM7_MULTI if self.encoding == GSM7 else UCS2_MULTI)

    @property
    def over_recommended(self) -> bool:
        """More parts than :data:`RECOMMENDED_MAX_SEGMENTS` (still sendable)."""
        return self.segments > RECOMMENDED_MAX_SEGMENTS


def _split(
    total: int, single: int, multi: int, pair_starts_at: Callable[[int], bool] | None
) -> tuple[int, ...]:
    """Split ``total`` units into parts.

    ``pair_starts_at(u)`` tells whether unit ``u`` is the first half of a
    2-unit item (escape pair or surrogate pair), which is never cut in two.
    ``None`` means there is no such item.  Only the part boundaries are
    examined, never every unit.
    """
    if total == 0:
        return ()
    if total <= single:
        return (total,)
    if pair_starts_at is None:
        full, rest = divmod(total, multi)
        return (multi,) * full + ((rest,) if rest else ())
    parts = []
    append = parts.append
    start = 0
    while total - start > multi:
        end = start + multi
        # The last unit of this part would be the first half of a pair:
        # close the part one unit early, the whole pair goes to the next one.
        if pair_starts_at(end - 1):
            end -= 1
        append(end - start)
        start = end
    append(total - start)
    return tuple(parts)


def _non_gsm(text: str, pos: int) -> tuple[str, ...]:
    """Distinct non-GSM characters of ``text`` in order of first appearance.

    ``pos`` is the index of the first one.  Each distinct character is found
    with a regex search and then deleted with ``str.replace`` (both C loops);
    texts with very many distinct characters (e.g. CJK) finish with one
    ``dict.fromkeys()`` pass over what is left.
    """
    found = []
    search = _NOT_GSM_RE.search
    for _ in range(_NON_GSM_SCAN_LIMIT):
        match = search(text, pos)
        if match is None:
            return tuple(found)
        ch = match.group()
        found.append(ch)
        pos = match.start()
        text = text.replace(ch, "")
    rest = _GSM_RUN_RE.sub("", text[pos:])
    found.extend(dict.fromkeys(rest))
    return tuple(found)


def count(text: str, *, stop_clause: bool = False) -> SmsCount:
    """Count the encoding, units and parts of ``text`` as it would be sent.

    With ``stop_clause=True`` the :data:`STOP_CLAUSE` is appended before
    counting (it is plain GSM-7 and never changes the encoding on its own).
    """
    if stop_clause:
        text = text + STOP_CLAUSE
    chars = len(text)

    offender = _NOT_GSM_RE.search(text)
    if offender is None:
        # GSM-7: build the septet stream by prefixing every extension
        # character with ESC (one str.replace per extension character present).
        septets = text
        for ch in GSM7_EXTENSION:
            if ch in septets:
                septets = septets.replace(ch, _ESC + ch)
        units = len(septets)
        if units == chars:
            pair_starts_at = None
        else:

            def pair_starts_at(u: int) -> bool:
                return septets[u] == _ESC

        parts = _split(units, GSM7_SINGLE, GSM7_MULTI, pair_starts_at)
        return _result(GSM7, units, parts, (), chars)

    # UCS-2: the UTF-16 code units are exactly what is sent.  "surrogatepass"
    # keeps lone surrogates (1 unit each) countable instead of raising.
    data = text.encode("utf-16-le", "surrogatepass")
    units = len(data) // 2
    if units == chars:
        pair_starts_at = None
    else:

        def pair_starts_at(u: int) -> bool:
            # High byte of unit u is D8..DB: a high (leading) surrogate.
            return 0xD8 <= data[2 * u + 1] <= 0xDB

    parts = _split(units, UCS2_SINGLE, UCS2_MULTI, pair_starts_at)
    return _result(UCS2, units, parts, _non_gsm(text, offender.start()), chars)


def _result(
    encoding: str, units: int, parts: tuple[int, ...], non_gsm: tuple[str, ...], chars: int
) -> SmsCount:
    if encoding == GSM7:
        single, multi = GSM7_SINGLE, GSM7_MULTI
    else:
        single, multi = UCS2_SINGLE, UCS2_MULTI
    segments = len(parts) or 1
    per_part = single if segments == 1 else multi
    remaining = per_part - (parts[-1] if parts else 0)
    return SmsCount(
        encoding=encoding,
        units=units,
        parts=parts,
        segments=segments,
        per_part=per_part,
        remaining=remaining,
        non_gsm=non_gsm,
        too_long=segments > MAX_SEGMENTS,
        characters=chars,
    )


def is_gsm7(text: str) -> bool:
    """True when ``text`` can be sent in the GSM 7-bit default alphabet."""
    return _NOT_GSM_RE.search(text) is None


# --- smart replacement of typographic look-alikes ---------------------------

_SMART_MAP: dict[str, str] = {}


def _map(chars: str, target: str) -> None:
    for ch in chars:
        _SMART_MAP[ch] = target


# Single quotes and primes.
_map("\u2018\u2019\u201a\u201b\u2032", "'")
# Single guillemets.
_map("\u2039\u203a", "'")
# Double quotes, double prime and guillemets.
_map("\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb", '"')
# Dashes, minus sign, hyphens and bullet.
_map("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2022", "-")
# Ellipsis.
_map("\u2026", "...")
# Spaces: TAB, NBSP, en quad .. hair space, narrow NBSP, ideographic space.
_map("\t\u00a0" + "".join(map(chr, range(0x2000, 0x200B))) + "\u202f\u3000", " ")
# Invisible characters removed: zero width space, zero width non-joiner, word joiner, BOM /
# ZWNBSP. ZWJ (U+200D) is kept: it is part of emoji sequences, which stay Unicode anyway.
_map("\u200b\u200c\u2060\ufeff", "")
# Modifier letters and ornaments used as quotes (Twilio's smart-encoding map).
_map("\u02ba\u02ee\u275d\u275e\u301d\u301e", '"')
_map("\u02b9\u02bb\u02bc\u02bd\u02c8\u02ca\u02cb\u00b4\u275b\u275c", "'")
# Small and vertical presentation forms of punctuation, ideographic comma and full stop.
for _forms, _target in (
    ("\ufe50\ufe10\u3001", ","), ("\ufe52\u3002\uff61", "."), ("\ufe55\ufe13", ":"),
    ("\ufe54\ufe14", ";"), ("\ufe57\ufe15", "!"), ("\ufe56\ufe16", "?"), ("\ufe59", "("),
    ("\ufe5a", ")"), ("\ufe5f", "#"), ("\ufe60", "&"), ("\ufe61", "*"), ("\ufe62", "+"),
    ("\ufe63", "-"), ("\ufe64", "<"), ("\ufe65", ">"), ("\ufe66", "="), ("\ufe69", "$"),
    ("\ufe6a", "%"), ("\ufe6b", "@"), ("\u2043", "-"), ("\u2044\u2215", "/"),
):  # fmt: skip
    _map(_forms, _target)
# Vulgar fractions: ½ -> 1/2, ⅞ -> 7/8 (their compatibility decomposition, fraction slash
# written as /).
for _cp in [0xBC, 0xBD, 0xBE, *range(0x2150, 0x2160), 0x2189]:
    _SMART_MAP[chr(_cp)] = unicodedata.normalize("NFKD", chr(_cp)).replace("\u2044", "/")
# Fullwidth ASCII U+FF01..U+FF5E -> U+0021..U+007E.
for _cp in range(0xFF01, 0xFF5F):
    _SMART_MAP[chr(_cp)] = chr(_cp - 0xFEE0)
# The grave accent is not GSM-7: map it (and its fullwidth form) to an apostrophe.
_map("`\uff40", "'")
del _cp, _forms, _target

_SMART_TABLE = str.maketrans(_SMART_MAP)
_FRACTIONS = "".join(ch for ch, out in _SMART_MAP.items() if "/" in out and len(out) > 1)
_DIGIT_FRACTION = re.compile(f"(?<=[0-9])(?=[{_FRACTIONS}])")
# The table must only produce GSM-7 characters and never touch GSM-7 ones.
assert all(ch not in _GSM7_ALL for ch in _SMART_MAP)
assert all(ch in _GSM7_ALL for value in _SMART_MAP.values() for ch in value)


def smart_replace(text: str) -> str:
    """Replace typographic look-alikes by GSM-7 characters.

    Curly quotes, guillemets, dashes, ellipsis, exotic spaces, zero-width
    characters, bullets and fullwidth ASCII are mapped to their plain GSM-7
    equivalents.  GSM-7 characters, letters (e.g. "ç") and emoji are never
    changed, so the result may still need UCS-2.
    """
    # "1½" would read "11/2": a space keeps the whole number apart (1 1/2).
    return _DIGIT_FRACTION.sub(" ", text).translate(_SMART_TABLE)


# --- letters without accents (lossy, offered separately) -------------------------------------

_LIGATURES = {"œ": "oe", "Œ": "OE"}


def _unaccented(ch: str) -> str:
    """`ch` without its accents when that makes it GSM-7 (ç -> c, ê -> e, Ï -> I), else `ch`."""
    if ch in _GSM7_ALL:
        return ch
    if ch in _LIGATURES:
        return _LIGATURES[ch]
    base = "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c))
    return base if base and base != ch and all(c in _GSM7_ALL for c in base) else ch


def strip_accents(text: str) -> str:
    """Letters outside GSM-7 written without their accents: ç, â, ê, î, ô, û, ë, ï, ÿ, œ,
    á, í, ó, ú… become c, a, e, i, o, u, e, i, y, oe, a, i, o, u. Letters GSM-7 holds (é, è,
    à, ù, ì, ò, Ç, É, ä, ö, ñ, ü, ø, å, æ) stay. Lossy: only ever applied at the customer's
    explicit request, after a preview."""
    return "".join(_unaccented(ch) for ch in text)


def accent_runs(text: str) -> list[tuple[str, bool]]:
    """`strip_accents(text)` as runs of (text, changed), for a preview that shows what goes."""
    runs: list[tuple[str, bool]] = []
    for ch in text:
        out = _unaccented(ch)
        changed = out != ch
        if runs and runs[-1][1] == changed:
            runs[-1] = (runs[-1][0] + out, changed)
        else:
            runs.append((out, changed))
    return runs
