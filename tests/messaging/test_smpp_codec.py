"""SMPP payloads: the parts sent are exactly the parts count() bills, pairs never split."""

import random

import pytest

from messaging.encoding import GSM7_BASIC, GSM7_EXTENSION, count
from messaging.operator import smpp_codec as codec

TEXTS = [
    "Bonjour",
    "a" * 160,
    "a" * 161,
    "]" * 153,  # escape pairs at the boundary: 3 parts, not 2
    "a" * 152 + "€" + "b" * 200,
    "é" * 306 + "x",
    "😀" * 35,
    "😀" * 36,
    "a" * 66 + "😀" + "b" * 100,  # a surrogate pair at unit 67
    "Привет, мир! " * 20,
    "",
]


@pytest.mark.parametrize("text", TEXTS)
@pytest.mark.parametrize("packed", [False, True])
def test_parts_follow_count_and_reassemble(text, packed):
    counted = count(text)
    encoded = codec.encode(text, packed=packed, ref=0x1234)
    assert len(encoded.parts) == counted.segments
    assert encoded.esm_class == (codec.ESM_UDHI if counted.segments > 1 else 0)
    texts = []
    for seq, data in enumerate(encoded.parts, start=1):
        concat, body, udh_length = codec.split_udh(data, encoded.esm_class)
        if counted.segments > 1:
            assert (concat.ref, concat.total, concat.seq) == (0x34, counted.segments, seq)
        if encoded.data_coding == codec.DATA_CODING_UCS2:
            assert len(body) // 2 == counted.parts[seq - 1]
            texts.append(body.decode("utf-16-be"))  # fails on a split surrogate pair
        elif packed:
            fill = (7 - (udh_length * 8) % 7) % 7
            septets = codec.gsm7_unpack(body, counted.parts[seq - 1] if counted.parts else 0, fill)
            assert len(udh_length * b"x" + body) <= 140  # one real SMS
            assert not septets.endswith(b"\x1b")
            texts.append(codec.gsm7_decode(septets))
        else:
            assert len(body) == (counted.parts[seq - 1] if counted.parts else 0)
            assert not body.endswith(b"\x1b")  # an escape pair is never cut
            texts.append(codec.gsm7_decode(body))
    assert "".join(texts) == text


def test_gsm7_code_points():
    assert codec.gsm7_septets("@£$ΔA€{") == bytes([0, 1, 2, 0x10, 0x41, 0x1B, 0x65, 0x1B, 0x28])
    assert codec.gsm7_septets("ÆÉ") == bytes([0x1C, 0x1F])  # after the escape code
    assert codec.gsm7_pack(codec.gsm7_septets("hellohello")).hex() == "e8329bfd4697d9ec37"


def test_receipts_and_mo_texts():
    receipt = codec.parse_receipt(
        "id:m42 sub:001 dlvrd:000 submit date:2612041200 done date:2612041201 stat:UNDELIV err:069 text:Bonj"
    )
    assert receipt == codec.Receipt("m42", "UNDELIV", "069")
    assert codec.parse_receipt("stat:DELIVRD err:000", "abc").smsc_id == "abc"
    assert codec.parse_receipt("hello") is None
    assert codec.decode(codec.gsm7_septets("STOP €"), 0) == ("STOP €", None)
    assert codec.decode("Arrêt 😀".encode("utf-16-be"), 8)[0] == "Arrêt 😀"


def _random_text(rng: random.Random) -> str:
    pools = rng.sample(ALPHABETS, rng.randint(1, 3))
    # Lengths around the part boundaries (160/153, 70/67 units) and beyond.
    n = rng.choice([rng.randint(0, 400), rng.randint(150, 170), rng.randint(60, 75)])
    return "".join(rng.choice(rng.choice(pools)) for _ in range(n))


ALPHABETS = [GSM7_BASIC, GSM7_EXTENSION, "éèçàùÉ€", "😀🎉👍🏽", "ПриветЖ"]


@pytest.mark.parametrize("packed", [False, True])
def test_random_texts_split_exactly_as_count_says(packed):
    """Property: for random mixes of GSM-7, extension characters (escape pairs), accents,
    emoji (surrogate pairs) and Cyrillic, the parts are count()'s, one real SMS each, no pair
    cut, and they reassemble to the text."""
    for seed in range(400):
        text = _random_text(random.Random(seed))
        counted = count(text)
        encoded = codec.encode(text, packed=packed, ref=seed)
        assert len(encoded.parts) == counted.segments, seed
        texts = []
        for seq, data in enumerate(encoded.parts, start=1):
            _concat, body, udh = codec.split_udh(data, encoded.esm_class)
            size = counted.parts[seq - 1] if counted.parts else 0
            if encoded.data_coding == codec.DATA_CODING_UCS2:
                assert udh + len(body) <= 140 and len(body) == 2 * size, seed
                texts.append(body.decode("utf-16-be"))  # strict: a cut pair raises
            else:
                septets = codec.gsm7_unpack(body, size, (7 - udh * 8 % 7) % 7) if packed else body
                assert len(septets) == size and size <= (153 if udh else 160), seed
                assert not septets.endswith(b"\x1b"), seed
                if packed:
                    assert udh + len(body) <= 140, seed
                texts.append(codec.gsm7_decode(septets))
        assert "".join(texts) == text, seed
