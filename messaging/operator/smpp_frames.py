"""The two PDUs a busy bind exchanges most, built and read with struct.

smpplib builds and parses every PDU through generic per-field machinery that costs about
0.2 ms each on this project's machines: for a submit_sm, its answer, and the deliver_sm_resp
of each receipt, that alone capped a bind near 1,500 messages/s. submit_sm, submit_sm_resp,
deliver_sm_resp, enquire_link(_resp) and generic_nack are fixed layouts (SMPP 3.4 §4.4, §4.6,
§4.11, §4.3), so they are packed here; every other PDU (bind, deliver_sm with its TLVs,
unbind…) stays smpplib's. Pure Python, no Django.
"""

from __future__ import annotations

import struct

HEADER = struct.Struct(">IIII")  # command_length, command_id, command_status, sequence_number
SUBMIT_SM = 0x00000004
SUBMIT_SM_RESP = 0x80000004
DELIVER_SM = 0x00000005
DELIVER_SM_RESP = 0x80000005
ENQUIRE_LINK = 0x00000015
ENQUIRE_LINK_RESP = 0x80000015
UNBIND = 0x00000006
UNBIND_RESP = 0x80000006
GENERIC_NACK = 0x80000000
MAX_PDU = 64 * 1024  # far above any real PDU; a larger length is garbage


def _cstr(value) -> bytes:
    if isinstance(value, str):
        value = value.encode("ascii")
    return value + b"\0"


def submit_sm(sequence: int, params: dict) -> bytes:
    """A submit_sm from the keyword parameters smpplib's submit_sm takes (the ones used)."""
    short_message = params.get("short_message", b"")
    if len(short_message) > 254:
        raise ValueError("short_message over 254 octets")
    body = b"".join(
        (
            _cstr(params.get("service_type", "")),
            bytes((params.get("source_addr_ton", 0), params.get("source_addr_npi", 0))),
            _cstr(params.get("source_addr", "")),
            bytes((params.get("dest_addr_ton", 0), params.get("dest_addr_npi", 0))),
            _cstr(params["destination_addr"]),
            bytes(
                (
                    params.get("esm_class", 0),
                    params.get("protocol_id", 0),
                    params.get("priority_flag", 0),
                )
            ),
            _cstr(params.get("schedule_delivery_time", "")),
            _cstr(params.get("validity_period", "")),
            bytes(
                (
                    params.get("registered_delivery", 0),
                    params.get("replace_if_present_flag", 0),
                    params.get("data_coding", 0),
                    params.get("sm_default_msg_id", 0),
                    len(short_message),
                )
            ),
            short_message,
        )
    )
    return HEADER.pack(16 + len(body), SUBMIT_SM, 0, sequence) + body


def response(command_id: int, sequence: int, status: int = 0, body: bytes = b"") -> bytes:
    return HEADER.pack(16 + len(body), command_id, status, sequence) + body


def deliver_sm_resp(sequence: int, status: int = 0) -> bytes:
    return response(DELIVER_SM_RESP, sequence, status, b"\0")


def split(buffer: bytearray) -> list[bytes]:
    """Take the whole PDUs off the front of `buffer`; ValueError on a length no PDU has."""
    pdus = []
    while len(buffer) >= 4:
        length = int.from_bytes(buffer[:4], "big")
        if not 16 <= length <= MAX_PDU:
            raise ValueError(f"not an SMPP PDU (length {length})")
        if len(buffer) < length:
            break
        pdus.append(bytes(buffer[:length]))
        del buffer[:length]
    return pdus


def message_id(pdu: bytes) -> str:
    """The message_id of a submit_sm_resp (empty when the SMSC sent none)."""
    end = pdu.find(b"\0", 16)
    return pdu[16 : end if end >= 0 else len(pdu)].decode("ascii", "replace")
