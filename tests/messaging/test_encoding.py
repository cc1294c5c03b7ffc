"""Tests for messaging.encoding (SMS length / encoding, 3GPP TS 23.038 / 23.040).

Expected values are worked out by hand from the standard, not from the code:
a single part holds 160 septets (GSM-7) or 70 UTF-16 units (UCS-2); a
concatenated message holds 153 / 67 per part; an extension character costs
2 septets (ESC + code), an astral character 2 units (surrogate pair), and
neither pair is ever split across parts.
"""

from __future__ import annotations

import random

import pytest

from messaging.encoding import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    MAX_SEGMENTS,
    RECOMMENDED_MAX_SEGMENTS,
    STOP_CLAUSE,
    SmsCount,
    accent_runs,
    count,
    is_gsm7,
    smart_replace,
    strip_accents,
)

# --- reference tables, transcribed from the GSM 03.38 -> Unicode mapping -----

# GSM code -> Unicode code point, basic table (0x1B, the escape, has none).
# fmt: off
GSM_BASIC_MAP = {
    0x00: 0x0040, 0x01: 0x00A3, 0x02: 0x0024, 0x03: 0x00A5,
    0x04: 0x00E8, 0x05: 0x00E9, 0x06: 0x00F9, 0x07: 0x00EC,
    0x08: 0x00F2, 0x09: 0x00C7, 0x0A: 0x000A, 0x0B: 0x00D8,
    0x0C: 0x00F8, 0x0D: 0x000D, 0x0E: 0x00C5, 0x0F: 0x00E5,
    0x10: 0x0394, 0x11: 0x005F, 0x12: 0x03A6, 0x13: 0x0393,
    0x14: 0x039B, 0x15: 0x03A9, 0x16: 0x03A0, 0x17: 0x03A8,
    0x18: 0x03A3, 0x19: 0x0398, 0x1A: 0x039E,
    0x1C: 0x00C6, 0x1D: 0x00E6, 0x1E: 0x00DF, 0x1F: 0x00C9,
    0x24: 0x00A4,  # currency sign
    0x40: 0x00A1,  # inverted exclamation mark
    0x5B: 0x00C4, 0x5C: 0x00D6, 0x5D: 0x00D1, 0x5E: 0x00DC, 0x5F: 0x00A7,
    0x60: 0x00BF,  # inverted question mark
    0x7B: 0x00E4, 0x7C: 0x00F6, 0x7D: 0x00F1, 0x7E: 0x00FC, 0x7F: 0x00E0,
}
# fmt: on
# The rest of 0x20-0x7F maps to the same ASCII code point.
for _code in range(0x20, 0x80):
    GSM_BASIC_MAP.setdefault(_code, _code)

# GSM code after ESC -> Unicode code point, extension table.
GSM_EXTENSION_MAP = {
    0x0A: 0x000C,  # form feed
    0x14: 0x005E,  # ^
    0x28: 0x007B,  # {
    0x29: 0x007D,  # }
    0x2F: 0x005C,  # backslash
    0x3C: 0x005B,  # [
    0x3D: 0x007E,  # ~
    0x3E: 0x005D,  # ]
    0x40: 0x007C,  # |
    0x65: 0x20AC,  # euro sign
}

REF_BASIC = "".join(chr(GSM_BASIC_MAP[code]) for code in sorted(GSM_BASIC_MAP))
REF_EXTENSION = "".join(chr(GSM_EXTENSION_MAP[code]) for code in sorted(GSM_EXTENSION_MAP))
REF_BASIC_SET = frozenset(REF_BASIC)
REF_EXTENSION_SET = frozenset(REF_EXTENSION)


def reference_count(text: str, stop_clause: bool = False) -> tuple[str, int, list[int]]:
    """Obviously-correct per-character implementation: (encoding, units, parts)."""
    if stop_clause:
        text += "\nSTOP:36111"
    gsm = all(ch in REF_BASIC_SET or ch in REF_EXTENSION_SET for ch in text)
    if gsm:
        single, multi = 160, 153
        costs = [2 if ch in REF_EXTENSION_SET else 1 for ch in text]
    else:
        single, multi = 70, 67
        costs = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
    total = sum(costs)
    if total == 0:
        parts = []
    elif total <= single:
        parts = [total]
    else:
        parts, current = [], 0
        for cost in costs:
            if current + cost > multi:  # the item does not fit: close the part
                parts.append(current)
                current = 0
            current += cost
        parts.append(current)
    return ("GSM-7" if gsm else "UCS-2"), total, parts


# --- the tables ---------------------------------------------------------------


def test_basic_table_has_127_characters_in_gsm_code_order():
    assert len(GSM7_BASIC) == 127
    assert len(set(GSM7_BASIC)) == 127
    assert "\x1b" not in GSM7_BASIC
    assert GSM7_BASIC == REF_BASIC


def test_extension_table():
    assert len(GSM7_EXTENSION) == 10
    assert set(GSM7_EXTENSION) == REF_EXTENSION_SET
    assert not set(GSM7_EXTENSION) & set(GSM7_BASIC)


def test_stop_clause_constant():
    assert STOP_CLAUSE == "\nSTOP:36111"
    assert len(STOP_CLAUSE) == 11
    assert is_gsm7(STOP_CLAUSE)


@pytest.mark.parametrize("ch", list(REF_BASIC), ids=lambda c: f"U+{ord(c):04X}")
def test_every_basic_character_costs_one_septet(ch):
    result = count(ch)
    assert (result.encoding, result.units, list(result.parts)) == ("GSM-7", 1, [1])
    # 160 of them still fit in one part, 161 need two.
    assert count(ch * 160).segments == 1
    assert list(count(ch * 161).parts) == [153, 8]


@pytest.mark.parametrize("ch", list(REF_EXTENSION), ids=lambda c: f"U+{ord(c):04X}")
def test_every_extension_character_costs_two_septets(ch):
    result = count(ch)
    assert (result.encoding, result.units, list(result.parts)) == ("GSM-7", 2, [2])
    assert result.non_gsm == ()
    assert list(count(ch * 80).parts) == [160]
    # 81 x 2 = 162 septets; 76 pairs (152) fill part one, 153 cannot take a pair.
    assert list(count(ch * 81).parts) == [152, 10]


@pytest.mark.parametrize(
    "ch",
    [
        "ç",  # only capital Ç is in the table (0x09)
        "`",  # grave accent: not in GSM 03.38
        "\t",
        "\u00a0",
        "\x00",
        "\x1b",  # the escape itself is not a character
        "\x7f",
        "\u2206",  # INCREMENT, not GREEK CAPITAL DELTA
        "\u2126",  # OHM SIGN, not GREEK CAPITAL OMEGA
        "\u0301",
        "’",
        "ж",
        "á",
        "ê",
    ],
    ids=lambda c: f"U+{ord(c):04X}",
)
def test_characters_outside_the_alphabet_force_ucs2(ch):
    result = count(ch)
    assert result.encoding == "UCS-2"
    assert result.units == 1
    assert result.non_gsm == (ch,)
    assert not is_gsm7(ch)


def test_printable_ascii_except_grave_accent_is_gsm7():
    for code in range(0x20, 0x7F):
        assert is_gsm7(chr(code)) == (chr(code) != "`"), chr(code)


# --- table-driven counts ---------------------------------------------------------

GSM, UCS = "GSM-7", "UCS-2"
ZH = "ж"  # a BMP non-GSM character: 1 UTF-16 unit
EMOJI = "😀"  # U+1F600: astral, 2 UTF-16 units

CASES = [
    # id, text, stop_clause, encoding, units, parts, segments
    ("empty", "", False, GSM, 0, [], 1),
    ("empty+stop", "", True, GSM, 11, [11], 1),
    # GSM-7 thresholds
    ("gsm-1", "a", False, GSM, 1, [1], 1),
    ("gsm-160", "a" * 160, False, GSM, 160, [160], 1),
    ("gsm-161", "a" * 161, False, GSM, 161, [153, 8], 2),
    ("gsm-306", "a" * 306, False, GSM, 306, [153, 153], 2),
    ("gsm-307", "a" * 307, False, GSM, 307, [153, 153, 1], 3),
    ("gsm-459", "a" * 459, False, GSM, 459, [153, 153, 153], 3),
    ("gsm-460", "a" * 460, False, GSM, 460, [153, 153, 153, 1], 4),
    # UCS-2 thresholds
    ("ucs-70", ZH * 70, False, UCS, 70, [70], 1),
    ("ucs-71", ZH * 71, False, UCS, 71, [67, 4], 2),
    ("ucs-134", ZH * 134, False, UCS, 134, [67, 67], 2),
    ("ucs-135", ZH * 135, False, UCS, 135, [67, 67, 1], 3),
    ("ucs-201", ZH * 201, False, UCS, 201, [67, 67, 67], 3),
    ("ucs-202", ZH * 202, False, UCS, 202, [67, 67, 67, 1], 4),
    # Escape pairs at a boundary
    ("ext-at-152", "a" * 151 + "€" + "a" * 10, False, GSM, 163, [153, 10], 2),
    ("ext-at-153", "a" * 152 + "€" + "a" * 10, False, GSM, 164, [152, 12], 2),
    ("ext-after-153", "a" * 153 + "€" + "a" * 6, False, GSM, 161, [153, 8], 2),
    ("ext-at-153-161", "a" * 152 + "€" + "a" * 7, False, GSM, 161, [152, 9], 2),
    ("ext-single-part", "a" * 152 + "€", False, GSM, 154, [154], 1),
    ("ext-159+1", "a" * 158 + "€", False, GSM, 160, [160], 1),
    ("ext-160+1", "a" * 159 + "€", False, GSM, 161, [153, 8], 2),
    ("brackets-153", "]" * 153, False, GSM, 306, [152, 152, 2], 3),
    ("euro-80", "€" * 80, False, GSM, 160, [160], 1),
    ("euro-81", "€" * 81, False, GSM, 162, [152, 10], 2),
    # Surrogate pairs at a boundary
    ("astral-at-66", ZH * 65 + EMOJI + ZH * 10, False, UCS, 77, [67, 10], 2),
    ("astral-at-67", ZH * 66 + EMOJI + ZH * 10, False, UCS, 78, [66, 12], 2),
    ("astral-single-part", "a" * 66 + EMOJI, False, UCS, 68, [68], 1),
    ("astral-split", "a" * 66 + EMOJI + "a" * 5, False, UCS, 73, [66, 7], 2),
    ("emoji-35", EMOJI * 35, False, UCS, 70, [70], 1),
    ("emoji-36", EMOJI * 36, False, UCS, 72, [66, 6], 2),
    ("emoji-34+ext", EMOJI * 34 + "€", False, UCS, 69, [69], 1),  # € is 1 unit in UCS-2
    # Letters and line breaks
    ("C-cedilla", "Ç", False, GSM, 1, [1], 1),
    ("c-cedilla", "ç", False, UCS, 1, [1], 1),
    ("e-acute-precomposed", "é", False, GSM, 1, [1], 1),
    ("e-combining-acute", "e\u0301", False, UCS, 2, [2], 1),
    ("cr", "\r", False, GSM, 1, [1], 1),
    ("lf", "\n", False, GSM, 1, [1], 1),
    ("crlf", "\r\n", False, GSM, 2, [2], 1),
    ("form-feed", "\f", False, GSM, 2, [2], 1),
    ("tab", "a\tb", False, UCS, 3, [3], 1),
    ("nbsp", "a\u00a0b", False, UCS, 3, [3], 1),
    # Emoji sequences: astral = 2 units, ZWJ / VS16 / keycap = 1 unit
    ("zwj-family", "👩\u200d👩\u200d👧", False, UCS, 8, [8], 1),
    ("skin-tone", "👍🏽", False, UCS, 4, [4], 1),
    ("flag", "🇫🇷", False, UCS, 4, [4], 1),
    ("keycap", "1\ufe0f\u20e3", False, UCS, 3, [3], 1),
    # STOP clause
    ("stop-149", "a" * 149, True, GSM, 160, [160], 1),
    ("stop-150", "a" * 150, True, GSM, 161, [153, 8], 2),
    ("stop-300", "a" * 300, True, GSM, 311, [153, 153, 5], 3),
    ("stop-after-ext", "a" * 152 + "€", True, GSM, 165, [152, 13], 2),
    ("stop-ucs-59", ZH * 59, True, UCS, 70, [70], 1),
    ("stop-ucs-60", ZH * 60, True, UCS, 71, [67, 4], 2),
    ("stop-keeps-ucs2", EMOJI, True, UCS, 13, [13], 1),
]


@pytest.mark.parametrize(
    "text, stop_clause, encoding, units, parts, segments",
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_count_table(text, stop_clause, encoding, units, parts, segments):
    result = count(text, stop_clause=stop_clause)
    assert result.encoding == encoding
    assert result.units == units
    assert list(result.parts) == parts
    assert result.segments == segments
    assert sum(result.parts) == units
    assert result.too_long is False
    # The hand-written expectations agree with the reference implementation.
    assert reference_count(text, stop_clause) == (encoding, units, parts)


def test_result_is_frozen_with_tuple_parts():
    result = count("hello")
    assert isinstance(result, SmsCount)
    assert isinstance(result.parts, tuple)
    with pytest.raises(AttributeError):
        result.units = 3  # type: ignore[misc]


def test_empty_text():
    result = count("")
    assert result.encoding == "GSM-7"
    assert result.units == 0
    assert list(result.parts) == []
    assert result.segments == 1
    assert result.per_part == 160
    assert result.remaining == 160
    assert result.non_gsm == ()
    assert result.too_long is False
    assert result.characters == 0


@pytest.mark.parametrize(
    "text, per_part, remaining",
    [
        ("a" * 10, 160, 150),
        ("a" * 160, 160, 0),
        ("a" * 161, 153, 145),  # [153, 8]
        ("a" * 306, 153, 0),
        ("a" * 152 + "€" + "a" * 10, 153, 141),  # [152, 12]
        ("€" * 5, 160, 150),
        (ZH * 10, 70, 60),
        (ZH * 70, 70, 0),
        (ZH * 71, 67, 63),  # [67, 4]
        (ZH * 66 + EMOJI + ZH * 10, 67, 55),  # [66, 12]
        (EMOJI, 70, 68),
    ],
)
def test_per_part_and_remaining(text, per_part, remaining):
    result = count(text)
    assert result.per_part == per_part
    assert result.remaining == remaining


def test_characters_include_stop_clause():
    assert count("hello").characters == 5
    assert count("hello", stop_clause=True).characters == 16
    assert count(EMOJI).characters == 1


def test_non_gsm_distinct_in_order_of_first_appearance():
    text = "ça, ça va? 😀 ç\tжé😀 e\u0301 €"
    result = count(text)
    assert result.encoding == "UCS-2"
    assert result.non_gsm == ("ç", "😀", "\t", "ж", "\u0301")


def test_non_gsm_empty_for_gsm_text():
    assert count("Hello {name}, 5€ [ok] ~ |").non_gsm == ()


def test_non_gsm_with_many_distinct_characters():
    # More distinct offenders than the one-by-one scan handles.
    text = "".join(chr(0x4E00 + i) + "a" + chr(0x4E00 + i) for i in range(100)) + "€😀"
    expected = tuple(chr(0x4E00 + i) for i in range(100)) + ("😀",)
    assert count(text).non_gsm == expected


def test_stop_clause_never_changes_encoding():
    assert count("hello", stop_clause=True).encoding == "GSM-7"
    assert count("hello ç", stop_clause=True).encoding == "UCS-2"
    assert count("", stop_clause=True).encoding == "GSM-7"


def test_is_gsm7():
    assert is_gsm7("")
    assert is_gsm7("Hello world! 5€ {x}")
    assert not is_gsm7("façade")
    assert not is_gsm7("👍")


# --- 255 parts limit ---------------------------------------------------------------


def test_255_gsm_parts_is_not_too_long():
    result = count("a" * (153 * 255))
    assert result.units == 39015
    assert list(result.parts) == [153] * 255
    assert result.segments == MAX_SEGMENTS == 255
    assert result.too_long is False
    assert result.over_recommended is True


def test_256_gsm_parts_is_too_long():
    result = count("a" * 39016)
    assert result.segments == 256
    assert list(result.parts) == [153] * 255 + [1]
    assert result.too_long is True


def test_255_ucs2_parts_limit():
    assert count(ZH * (67 * 255)).segments == 255
    assert count(ZH * (67 * 255)).too_long is False
    result = count(ZH * (67 * 255 + 1))
    assert result.segments == 256
    assert result.too_long is True


def test_stop_clause_can_make_a_text_too_long():
    assert count("a" * (39015 - 11), stop_clause=True).too_long is False
    assert count("a" * (39015 - 10), stop_clause=True).too_long is True


def test_recommended_max_segments():
    assert RECOMMENDED_MAX_SEGMENTS == 8
    assert count("a" * (153 * 8)).over_recommended is False
    assert count("a" * (153 * 8 + 1)).over_recommended is True


# --- property-style comparison with the reference ------------------------------------

POOL_BASIC = REF_BASIC
POOL_EXTENSION = REF_EXTENSION
POOL_BMP = "çжá中\t\u00a0’“\u0301\u200d\ufe0f\u20e3`\x1b"
POOL_ASTRAL = "😀👍🏽🇫🇷𝄞🀄"


def _random_text(rng: random.Random) -> str:
    length = rng.randint(0, 700)
    mode = rng.random()
    if mode < 0.5:
        # GSM-7 only, with a random share of extension characters.
        share = rng.choice([0.0, 0.01, 0.1, 0.5, 1.0])
        return "".join(
            rng.choice(POOL_EXTENSION) if rng.random() < share else rng.choice(POOL_BASIC)
            for _ in range(length)
        )
    # Mixed: mostly GSM with some non-GSM BMP and astral characters.
    astral_share = rng.choice([0.0, 0.02, 0.2, 0.6, 1.0])
    bmp_share = rng.choice([0.0, 0.01, 0.3])
    chars = []
    for _ in range(length):
        roll = rng.random()
        if roll < astral_share:
            chars.append(rng.choice(POOL_ASTRAL))
        elif roll < astral_share + bmp_share:
            chars.append(rng.choice(POOL_BMP))
        elif roll < astral_share + bmp_share + 0.1:
            chars.append(rng.choice(POOL_EXTENSION))
        else:
            chars.append(rng.choice(POOL_BASIC))
    return "".join(chars)


@pytest.mark.parametrize("seed", range(4))
def test_matches_reference_on_random_texts(seed):
    rng = random.Random(seed)
    for _ in range(100):
        text = _random_text(rng)
        stop = rng.random() < 0.3
        result = count(text, stop_clause=stop)
        encoding, units, parts = reference_count(text, stop)
        assert (result.encoding, result.units, list(result.parts)) == (encoding, units, parts), text
        assert result.segments == (len(parts) or 1)
        assert result.remaining == result.per_part - (parts[-1] if parts else 0)
        expected_non_gsm = tuple(
            dict.fromkeys(
                ch for ch in text if ch not in REF_BASIC_SET and ch not in REF_EXTENSION_SET
            )
        )
        assert result.non_gsm == expected_non_gsm


# --- smart_replace -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source, expected",
    [
        ("\u2018", "'"),  # left single quotation mark
        ("\u2019", "'"),  # right single quotation mark
        ("\u201a", "'"),  # single low-9 quotation mark
        ("\u201b", "'"),  # single high-reversed-9 quotation mark
        ("\u2032", "'"),  # prime
        ("\u2039", "'"),  # single left-pointing angle quotation mark
        ("\u203a", "'"),  # single right-pointing angle quotation mark
        ("\u201c", '"'),  # left double quotation mark
        ("\u201d", '"'),  # right double quotation mark
        ("\u201e", '"'),  # double low-9 quotation mark
        ("\u201f", '"'),  # double high-reversed-9 quotation mark
        ("\u2033", '"'),  # double prime
        ("\u00ab", '"'),  # left guillemet
        ("\u00bb", '"'),  # right guillemet
        ("\u2010", "-"),  # hyphen
        ("\u2011", "-"),  # non-breaking hyphen
        ("\u2012", "-"),  # figure dash
        ("\u2013", "-"),  # en dash
        ("\u2014", "-"),  # em dash
        ("\u2015", "-"),  # horizontal bar
        ("\u2212", "-"),  # minus sign
        ("\u2022", "-"),  # bullet
        ("\u2026", "..."),  # horizontal ellipsis
        ("\t", " "),
        ("\u00a0", " "),  # no-break space
        ("\u202f", " "),  # narrow no-break space
        ("\u2000", " "),  # en quad
        ("\u2002", " "),  # en space
        ("\u2003", " "),  # em space
        ("\u2007", " "),  # figure space
        ("\u2008", " "),  # punctuation space
        ("\u2009", " "),  # thin space
        ("\u200a", " "),  # hair space
        ("\u3000", " "),  # ideographic space
        ("\u200b", ""),  # zero width space
        ("\u200c", ""),  # zero width non-joiner
        ("\u00bd", "1/2"),  # vulgar fraction one half
        ("\u00bc", "1/4"),  # vulgar fraction one quarter
        ("\u00be", "3/4"),  # vulgar fraction three quarters
        ("\u2153", "1/3"),  # vulgar fraction one third
        ("\u215e", "7/8"),  # vulgar fraction seven eighths
        ("\u2150", "1/7"),  # vulgar fraction one seventh
        ("\u215f", "1/"),  # fraction numerator one
        ("\u2189", "0/3"),  # vulgar fraction zero thirds
        ("\u2044", "/"),  # fraction slash
        ("\u02bc", "'"),  # modifier letter apostrophe
        ("\u00b4", "'"),  # acute accent
        ("\u02ba", '"'),  # modifier letter double prime
        ("\u275d", '"'),  # heavy double turned comma quotation mark ornament
        ("\u3001", ","),  # ideographic comma
        ("\u3002", "."),  # ideographic full stop
        ("\ufe56", "?"),  # small question mark
        ("\u2060", ""),  # word joiner
        ("\ufeff", ""),  # zero width no-break space / BOM
        ("\uff01", "!"),  # fullwidth exclamation mark
        ("\uff21", "A"),  # fullwidth A
        ("\uff41", "a"),  # fullwidth a
        ("\uff10", "0"),  # fullwidth 0
        ("\uff5b", "{"),  # fullwidth { (extension character)
        ("\uff5e", "~"),  # fullwidth tilde
        ("\uff40", "'"),  # fullwidth grave accent (` is not GSM-7)
        ("`", "'"),  # grave accent
    ],
    ids=lambda v: f"U+{ord(v):04X}" if len(v) == 1 else repr(v),
)
def test_smart_replace_mapping(source, expected):
    assert smart_replace(source) == expected
    assert smart_replace(f"a{source}b") == f"a{expected}b"


def test_smart_replace_sentence():
    text = "«\u00a0Bonjour\u00a0» \u2014 it\u2019s \u201cgreat\u201d\u2026 \u2022 10\u202f000\u200b"
    assert smart_replace(text) == '" Bonjour " - it\'s "great"... - 10 000'
    assert is_gsm7(smart_replace(text))


def test_smart_replace_leaves_gsm7_text_unchanged():
    text = REF_BASIC + REF_EXTENSION
    assert smart_replace(text) == text


def test_smart_replace_keeps_letters_and_emoji():
    text = "ça ñ Ñ ĉ жé 中 👩\u200d👩\u200d👧 👍🏽 🇫🇷 1\ufe0f\u20e3"
    assert smart_replace(text) == text


def test_smart_replace_output_is_gsm7_when_only_look_alikes():
    look_alikes = (
        "\u2018\u2019\u201a\u201b\u2032\u2039\u203a\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb"
        "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2022\u2026\t\u00a0\u202f\u3000"
        "\u200b\u200c\u2060\ufeff½¼¾⅓⅔⅕⅖⅗⅘⅙⅚⅛⅜⅝⅞⅐⅑⅒↉⅟"
        + "".join(map(chr, range(0x2000, 0x200B)))
        + "".join(map(chr, range(0xFF01, 0xFF5F)))
    )
    assert is_gsm7(smart_replace(look_alikes))


def test_smart_replace_a_recipe():
    text = "Ajoutez ½ verre de lait\u200c et ¼ de sucre \u2014 cuisson 1\u00bd h."
    assert smart_replace(text) == "Ajoutez 1/2 verre de lait et 1/4 de sucre - cuisson 1 1/2 h."
    assert is_gsm7(smart_replace(text))


# --- strip_accents (lossy, explicit) ----------------------------------------------------------


@pytest.mark.parametrize(
    "source, expected",
    [
        ("ç", "c"), ("â", "a"), ("ê", "e"), ("î", "i"), ("ô", "o"), ("û", "u"), ("ë", "e"),
        ("ï", "i"), ("ÿ", "y"), ("œ", "oe"), ("Œ", "OE"), ("Â", "A"), ("Ê", "E"), ("Î", "I"),
        ("Ô", "O"), ("Û", "U"), ("Ë", "E"), ("Ï", "I"), ("È", "E"), ("À", "A"), ("Ù", "U"),
        ("á", "a"), ("í", "i"), ("ó", "o"), ("ú", "u"), ("ĉ", "c"),
        # GSM-7 letters are kept, accents and all.
        ("é", "é"), ("è", "è"), ("à", "à"), ("ù", "ù"), ("ì", "ì"), ("ò", "ò"), ("Ç", "Ç"),
        ("É", "É"), ("ä", "ä"), ("ñ", "ñ"), ("ü", "ü"), ("ø", "ø"), ("æ", "æ"),
        # No GSM-7 form: left as they are.
        ("ж", "ж"), ("中", "中"), ("👍", "👍"), ("’", "’"),
    ],
)  # fmt: skip
def test_strip_accents(source, expected):
    assert strip_accents(source) == expected


def test_strip_accents_makes_french_seven_bit():
    text = "Noël : la crème brûlée et les œufs à la coque sont à 5 € à la Fête de l'Île !"
    before, after = count(text), count(strip_accents(text))
    assert before.encoding == "UCS-2" and after.encoding == "GSM-7"
    assert strip_accents(text) == (
        "Noel : la crème brulée et les oeufs à la coque sont à 5 € à la Fete de l'Ile !"
    )


def test_accent_runs_mark_what_changes():
    assert accent_runs("Garçon, un café crème") == [
        ("Gar", False), ("c", True), ("on, un café crème", False)
    ]
    assert accent_runs("Œuvre") == [("OE", True), ("uvre", False)]
    assert "".join(run for run, _ in accent_runs("Fête à Noël")) == strip_accents("Fête à Noël")


def test_smart_replace_reduces_segments():
    text = "a" * 99 + "\u2019"  # 100 characters, one curly apostrophe
    before = count(text)
    assert (before.encoding, list(before.parts), before.segments) == ("UCS-2", [67, 33], 2)
    after = count(smart_replace(text))
    assert (after.encoding, list(after.parts), after.segments) == ("GSM-7", [100], 1)
