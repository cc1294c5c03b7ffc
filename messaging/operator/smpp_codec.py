"""SMPP 3.4 payloads: text → short_message parts, delivery receipts and MO texts → values.

Pure Python (no Django, no socket). The split follows messaging.encoding.count() exactly: the
parts sent are the parts counted, billed and shown, and an escape pair or a surrogate pair is
never cut (count() closes a part one unit early instead).

- GSM-7 → data_coding 0, one septet per octet ("unpacked", what most SMSCs expect over SMPP)
  or packed 7-bit (`packed=True`, the route's `gsm7_packed`), with the UDH's fill bits;
- UCS-2 → data_coding 8, UTF-16 big-endian (astral characters as surrogate pairs);
- more than one part: a UDH with the 8-bit concatenation element (00 03 ref total seq) and
  esm_class 0x40 (UDHI).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..encoding import GSM7, GSM7_BASIC, GSM7_EXTENSION, count

DATA_CODING_GSM7 = 0
DATA_CODING_LATIN1 = 3
DATA_CODING_UCS2 = 8
ESM_UDHI = 0x40
ESM_RECEIPT = 0x04  # deliver_sm: an SMSC delivery receipt
ESC = 0x1B

# Code points of the default alphabet: 0x1B is the escape, not a character.
_BASIC = {ch: (i if i < ESC else i + 1) for i, ch in enumerate(GSM7_BASIC)}
_EXTENSION = dict(
    zip(GSM7_EXTENSION, (0x0A, 0x14, 0x28, 0x29, 0x2F, 0x3C, 0x3D, 0x3E, 0x40, 0x65), strict=True)
)
_DECODE_BASIC = {code: ch for ch, code in _BASIC.items()}
_DECODE_EXTENSION = {code: ch for ch, code in _EXTENSION.items()}


@dataclass(frozen=True, slots=True)
class Encoded:
    data_coding: int
    esm_class: int
    parts: tuple[bytes, ...]  # each part's short_message (UDH included)


def gsm7_septets(text: str) -> bytes:
    """One septet value per octet; extension characters as ESC + code. ValueError if a
    character is not in the GSM-7 alphabet."""
    out = bytearray()
    for ch in text:
        code = _BASIC.get(ch)
        if code is not None:
            out.append(code)
        elif ch in _EXTENSION:
            out += bytes((ESC, _EXTENSION[ch]))
        else:
            raise ValueError(f"not GSM-7: {ch!r}")
    return bytes(out)


def gsm7_pack(septets: bytes, fill_bits: int = 0) -> bytes:
    """Pack septets 7 bits each, least significant first (3GPP TS 23.038 §6.1.2.1), after
    `fill_bits` zero bits (which align the text on a septet boundary after a UDH)."""
    value = 0
    for i, septet in enumerate(septets):
        value |= septet << (fill_bits + 7 * i)
    length = (fill_bits + 7 * len(septets) + 7) // 8
    return value.to_bytes(length, "little")


def gsm7_unpack(data: bytes, septet_count: int, fill_bits: int = 0) -> bytes:
    value = int.from_bytes(data, "little") >> fill_bits
    return bytes((value >> (7 * i)) & 0x7F for i in range(septet_count))


def gsm7_decode(septets: bytes) -> str:
    out, escaped = [], False
    for code in septets:
        if escaped:
            out.append(_DECODE_EXTENSION.get(code, " "))
            escaped = False
        elif code == ESC:
            escaped = True
        else:
            out.append(_DECODE_BASIC.get(code, "?"))
    return "".join(out)


def encode(text: str, *, packed: bool = False, ref: int = 0) -> Encoded:
    """The short_message of each part of `text`, as many as count(text).segments."""
    counted = count(text)
    sizes = counted.parts or (0,)
    if counted.encoding == GSM7:
        units, width, coding = gsm7_septets(text), 1, DATA_CODING_GSM7
    else:
        units, width, coding = text.encode("utf-16-be", "surrogatepass"), 2, DATA_CODING_UCS2
    assert len(units) == sum(sizes) * width, "encoding and count() disagree"
    chunks, start = [], 0
    for size in sizes:
        chunks.append(units[start : start + size * width])
        start += size * width
    total = len(chunks)
    parts = []
    for seq, chunk in enumerate(chunks, start=1):
        udh = bytes((5, 0x00, 3, ref & 0xFF, total, seq)) if total > 1 else b""
        if coding == DATA_CODING_GSM7 and packed:
            # The text starts on the septet boundary after the UDH: 6 octets = 48 bits, so
            # 1 fill bit brings it to 49 = 7 × 7.
            fill = (7 - (len(udh) * 8) % 7) % 7
            parts.append(udh + gsm7_pack(chunk, fill))
        else:
            parts.append(udh + chunk)
    return Encoded(coding, ESM_UDHI if total > 1 else 0, tuple(parts))


@dataclass(frozen=True, slots=True)
class Concat:
    ref: int
    total: int
    seq: int


def split_udh(data: bytes, esm_class: int) -> tuple[Concat | None, bytes, int]:
    """(concatenation info, payload after the UDH, UDH length in octets)."""
    if not esm_class & ESM_UDHI or not data:
        return None, data, 0
    length = data[0] + 1
    header, body = data[1:length], data[length:]
    concat, i = None, 0
    while i + 1 < len(header):
        iei, size = header[i], header[i + 1]
        element = header[i + 2 : i + 2 + size]
        if iei == 0x00 and size == 3:
            concat = Concat(element[0], element[1], element[2])
        elif iei == 0x08 and size == 4:
            concat = Concat(element[0] << 8 | element[1], element[2], element[3])
        i += 2 + size
    return concat, body, length


def decode(data: bytes, data_coding: int, esm_class: int = 0) -> tuple[str, Concat | None]:
    """The text of an incoming short_message (GSM-7 unpacked, Latin-1 or UCS-2)."""
    concat, body, _length = split_udh(data, esm_class)
    if data_coding == DATA_CODING_UCS2:
        return body.decode("utf-16-be", "replace"), concat
    if data_coding == DATA_CODING_LATIN1:
        return body.decode("latin-1"), concat
    return gsm7_decode(body), concat


_RECEIPT_FIELD = re.compile(r"(id|sub|dlvrd|submit date|done date|stat|err):\s*(\S*)", re.I)
# Receipt states (SMPP 3.4 appendix B) → the panel's report statuses; ENROUTE, ACCEPTD and
# UNKNOWN are not final.
RECEIPT_STATUS = {
    "DELIVRD": "delivered",
    "UNDELIV": "undelivered",
    "REJECTD": "undelivered",
    "DELETED": "undelivered",
    "EXPIRED": "expired",
}


@dataclass(frozen=True, slots=True)
class Receipt:
    smsc_id: str
    stat: str
    err: str


def parse_receipt(text: str, receipted_message_id: str = "") -> Receipt | None:
    """The receipt text "id:… sub:… dlvrd:… submit date:… done date:… stat:… err:… text:…";
    the receipted_message_id TLV, when present, wins over the text's id."""
    fields = {k.lower(): v for k, v in _RECEIPT_FIELD.findall(text or "")}
    smsc_id = receipted_message_id or fields.get("id", "")
    if not smsc_id or "stat" not in fields:
        return None
    return Receipt(smsc_id, fields["stat"].upper()[:8], fields.get("err", "")[:8])
