"""Hostile contact files, made in memory: zip bombs, truncated and lying workbooks, NULs,
over-long fields. Shared by the parser tests and the upload fuzz."""

import io
import struct
import zipfile

import openpyxl

from addressbooks import parsers

# Fixed dates in the zip and the document properties: the same rows give the same bytes, so
# a seeded fuzz makes the same files on every run.
_STAMP = (2026, 1, 1, 0, 0, 0)
_CORE = (
    b'<?xml version="1.0"?><cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/'
    b'package/2006/metadata/core-properties"/>'
)


def xlsx(rows) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return _replace_member(out.getvalue(), "docProps/core.xml", _CORE)


def _replace_member(content: bytes, name: str, data: bytes) -> bytes:
    """The workbook `content` with member `name` replaced by `data` (deflated)."""
    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename != name:
                member = zipfile.ZipInfo(info.filename, _STAMP)
                member.compress_type = zipfile.ZIP_DEFLATED
                target.writestr(member, source.read(info.filename))
        member = zipfile.ZipInfo(name, _STAMP)
        member.compress_type = zipfile.ZIP_DEFLATED
        target.writestr(member, data)
    return out.getvalue()


def bomb_sheet(inflated: int) -> bytes:
    """A real workbook whose first sheet inflates to `inflated` bytes of one cell repeated:
    a few kilobytes to upload, far past the compression ratio a spreadsheet has."""
    row = b'<row><c t="inlineStr"><is><t>+33612345678</t></is></c></row>'
    body = row * (inflated // len(row))
    sheet = (
        b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/'
        b'spreadsheetml/2006/main"><sheetData>' + body + b"</sheetData></worksheet>"
    )
    return _replace_member(xlsx([["number"]]), "xl/worksheets/sheet1.xml", sheet)


def bomb_shared_strings(inflated: int) -> bytes:
    """Shared strings (read whole by openpyxl) inflating to `inflated` bytes."""
    one = b"<si><t>" + b"A" * 1000 + b"</t></si>"
    table = (
        b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
        b'2006/main">' + one * (inflated // len(one)) + b"</sst>"
    )
    return _replace_member(xlsx([["number"]]), "xl/sharedStrings.xml", table)


def many_members(count: int) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        for n in range(count):
            archive.writestr(f"x/{n}", b"")
    return out.getvalue()


def lying_sizes(content: bytes) -> bytes:
    """`content` with every member declaring 1 byte inflated in the zip's directory: past it,
    zipfile stops and the CRC check fails (a bomb hidden behind small declared sizes)."""
    data = bytearray(content)
    at = data.rfind(b"PK\x05\x06")
    directory = struct.unpack("<I", data[at + 16 : at + 20])[0]
    pos = directory
    while data[pos : pos + 4] == b"PK\x01\x02":
        struct.pack_into("<I", data, pos + 24, 1)
        name, extra, comment = struct.unpack("<HHH", data[pos + 28 : pos + 34])
        pos += 46 + name + extra + comment
    return bytes(data)


def long_header(length: int = 131_073) -> bytes:
    return b"number;" + b"x" * length + b"\n+33612345678;a\n"


def bom_with_late_nul() -> bytes:
    """UTF-8 with a BOM, valid lines, and a NUL past the first 64 KiB."""
    lines = b"".join(b"+3361234%04d\n" % (n % 10_000) for n in range(6_000))
    assert len(lines) > parsers.SNIFF_BYTES
    return b"\xef\xbb\xbfnumber\n" + lines + b"+33612\x0045678\n"
