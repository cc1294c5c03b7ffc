"""Read a contacts file (CSV, TXT or an Excel workbook) as a stream of rows. No Django.

- Encoding: UTF-8 with or without BOM, else Windows-1252 (decided by one streaming pass).
- Separator: `;`, `,` or tab, whichever the header line holds most (a single column has none).
- Header names case- and accent-insensitive: the API names (surname, name, group, homePhone,
  homeMobile, workPhone, workMobile), `number`, and the French titles of the manager.
- TXT files are the same thing with one column: `number` on the first line, then one per line.

`ContactFile(binary_file)` checks the file at once (raises ImportFileError) and iterates
`(line_number, {field: value})` in constant memory; it raises ImportFileError(NO_ROWS) at the
end when the file held no data row. `open_contacts()` picks it or `SpreadsheetFile` (.xlsx
through openpyxl's streaming reader, .xls through xlrd) from the file's first bytes; a
workbook's first sheet is read, and its line numbers are the sheet's row numbers.

Hostile files: a NUL byte anywhere refuses a text file (PostgreSQL cannot store one); a line
longer than the field limit is a line error; an .xlsx is a zip, so its directory is checked
(`check_zip`: member count, declared sizes, compression ratio) before anything is inflated.
`check()` is what a web request may run: a text file's first lines, a zip's directory, never
a whole workbook (that is the worker's job).
"""

from __future__ import annotations

import codecs
import csv
import io
import struct
import unicodedata
import zipfile
from collections.abc import Iterator
from typing import BinaryIO

FIELDS = ("surname", "name", "group", "home_phone", "home_mobile", "work_phone", "work_mobile")
# The phone number fields, mobiles first: the first one filled is a contact's primary number.
NUMBER_FIELDS = ("home_mobile", "work_mobile", "home_phone", "work_phone")
LANDLINE_FIELDS = frozenset({"home_phone", "work_phone"})  # these also take landline numbers
# Names of the export (and of the OVHcloud API), in this order.
EXPORT_HEADER = ("surname", "name", "group", "homePhone", "homeMobile", "workPhone", "workMobile")

# Error codes (the web layer translates them).
NOT_TEXT = "not_text"
EMPTY = "empty"
NO_NUMBER_COLUMN = "no_number_column"
NO_ROWS = "no_rows"
BAD_LINE = "bad_line"
BAD_SPREADSHEET = "bad_spreadsheet"
WORKBOOK_TOO_BIG = "workbook_too_big"

SNIFF_BYTES = 64 * 1024
MAX_FIELD = 100_000  # characters; csv.Error beyond (a binary or broken file, not a contact)
MAX_HEADER = 64 * 1024  # characters of the header line (7 column titles need a few dozen)
# Characters of one physical line: a contact needs a few hundred; read no further, so that a
# line of millions of separators never becomes millions of cells in memory.
MAX_LINE = 256 * 1024

# An .xlsx is a zip of XML parts. Legitimate ones inflate about 15 times (openpyxl's and
# Excel's output); a "zip bomb" inflates thousands of times. Limits, checked on the zip's
# directory before anything is inflated (zipfile never inflates a member past the size its
# directory declares, so the declared sizes bound the work):
ZIP_MAX_DIRECTORY = 1024 * 1024  # bytes of central directory (about 10,000 members)
ZIP_MAX_MEMBERS = 10_000
ZIP_MAX_TOTAL = 1024**3  # bytes, all members inflated (worksheets are streamed by openpyxl)
ZIP_MAX_PART = 64 * 1024**2  # bytes of any part openpyxl reads whole (shared strings, styles…)
ZIP_MAX_RATIO = 100  # inflated / compressed, for members of more than ZIP_RATIO_FROM bytes
ZIP_RATIO_FROM = 1024 * 1024

_ALIASES = {
    "surname": ["surname", "nom", "lastname", "nomdefamille", "familyname"],
    "name": ["name", "prenom", "firstname", "givenname"],
    "group": ["group", "groupe", "societe", "company", "entreprise", "organisation"],
    "home_phone": ["homephone", "fixe", "fixedomicile", "telephonefixe", "telephone",
                   "telephonedomicile", "phone"],
    "home_mobile": ["homemobile", "mobile", "mobiledomicile", "portable", "number", "numero",
                    "telephonemobile", "gsm"],
    "work_phone": ["workphone", "fixeprofessionnel", "fixepro", "telephoneprofessionnel",
                   "fixebureau"],
    "work_mobile": ["workmobile", "mobileprofessionnel", "mobilepro", "portableprofessionnel"],
}  # fmt: skip
HEADER_ALIASES = {alias: field for field, aliases in _ALIASES.items() for alias in aliases}


class ImportFileError(Exception):
    def __init__(self, code: str, line: int | None = None):
        super().__init__(code if line is None else f"{code} (line {line})")
        self.code = code
        self.line = line


def header_key(title: str) -> str:
    """ "Prénom " → "prenom", "homePhone" → "homephone", "Mobile professionnel" → …"""
    folded = unicodedata.normalize("NFKD", title.strip().strip("\ufeff").lower())
    return "".join(c for c in folded if c.isalnum())


def detect_encoding(binary: BinaryIO) -> str:
    """Rewinds the file. Raises ImportFileError for an empty or binary file.

    One streaming pass over the whole file, whatever its start: a NUL byte anywhere makes it
    binary (also after a BOM or past the first bytes that are not UTF-8)."""
    binary.seek(0)
    head = binary.read(SNIFF_BYTES)
    if not head.strip(b" \t\r\n\xef\xbb\xbf"):
        raise ImportFileError(EMPTY)
    bom = head.startswith(codecs.BOM_UTF8)
    decoder = None if bom else codecs.getincrementaldecoder("utf-8")()
    encoding = "utf-8-sig" if bom else "utf-8"
    chunk = head
    while chunk:
        if b"\x00" in chunk:
            raise ImportFileError(NOT_TEXT)
        if decoder is not None:
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                encoding, decoder = "cp1252", None
        chunk = binary.read(1 << 20)
    if decoder is not None:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            encoding = "cp1252"
    binary.seek(0)
    return encoding


def detect_delimiter(header_line: str) -> str:
    counts = {sep: header_line.count(sep) for sep in (";", ",", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ";"


def map_columns(header: list[str]) -> list[tuple[int, str]]:
    """(index in the row, field) for each known column title; the first of twins wins."""
    columns, taken = [], set()
    for index, title in enumerate(header):
        field = HEADER_ALIASES.get(header_key(title))
        if field and field not in taken:
            taken.add(field)
            columns.append((index, field))
    if not taken & set(NUMBER_FIELDS):
        raise ImportFileError(NO_NUMBER_COLUMN)
    return columns


def _unwrapped(binary: BinaryIO) -> BinaryIO:
    """The file object under Django's wrappers (FieldFile, File, an upload's temporary file),
    which share its position: TextIOWrapper asks its file `closed` on each readline(), through
    a chain of Python properties with the wrappers (~1 s of CPU per 1,000,000 lines)."""
    while not isinstance(binary, io.IOBase) and hasattr(getattr(binary, "file", None), "read"):
        binary = binary.file
    return binary


class ContactFile:
    def __init__(self, binary: BinaryIO):
        self.binary = binary
        self.encoding = detect_encoding(binary)
        # cp1252 leaves 5 bytes undefined: replace them rather than fail the whole file.
        self.text = io.TextIOWrapper(
            _unwrapped(binary), encoding=self.encoding, errors="replace", newline=""
        )
        self._skipped = 0
        header_line = ""
        while not header_line.strip():
            header_line = self.text.readline(MAX_HEADER + 1)
            self._skipped += 1
            if not header_line:
                raise ImportFileError(EMPTY)
            if len(header_line) > MAX_HEADER:
                raise ImportFileError(BAD_LINE, self._skipped)
        self.delimiter = detect_delimiter(header_line)
        old_limit = csv.field_size_limit(MAX_FIELD)
        try:
            header = next(csv.reader([header_line], delimiter=self.delimiter))
        except csv.Error:  # a quote opened and not closed on the header line
            raise ImportFileError(BAD_LINE, self._skipped) from None
        finally:
            csv.field_size_limit(old_limit)
        self.columns = map_columns(header)
        self.header = header

    def close(self) -> None:
        """Let go of the binary file without closing it."""
        self.text.detach()

    def _lines(self, offset: int) -> Iterator[str]:
        """The physical lines, each at most MAX_LINE characters (else a line error)."""
        readline, number = self.text.readline, offset
        while line := readline(MAX_LINE + 1):
            number += 1
            if len(line) > MAX_LINE:
                raise ImportFileError(BAD_LINE, number)
            yield line

    def __iter__(self) -> Iterator[tuple[int, dict[str, str]]]:
        old_limit = csv.field_size_limit()
        csv.field_size_limit(MAX_FIELD)
        offset = self._skipped  # physical lines before the data (header, leading blank lines)
        reader = csv.reader(self._lines(offset), delimiter=self.delimiter)
        previous_end = 0
        rows = 0
        columns = self.columns
        width = max(index for index, _ in columns) + 1
        try:
            while True:
                try:
                    cells = next(reader)
                except StopIteration:
                    break
                except csv.Error:
                    raise ImportFileError(BAD_LINE, offset + previous_end + 1) from None
                start = offset + previous_end + 1
                previous_end = reader.line_num
                if not cells:
                    continue
                if len(cells) >= width:
                    row = {field: cells[index].strip() for index, field in columns}
                else:  # a short line: the missing cells are empty
                    row = {
                        field: (cells[index].strip() if index < len(cells) else "")
                        for index, field in columns
                    }
                if not any(row.values()):
                    continue  # ";;;;;" lines
                rows += 1
                yield start, row
        finally:
            csv.field_size_limit(old_limit)
        if not rows:
            raise ImportFileError(NO_ROWS)


XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a number typed in a cell: 33612345678.0 → "33612345678"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    # An .xls string may hold NUL characters, which PostgreSQL cannot store: they show nothing.
    return str(value).replace("\x00", "").strip()


def check_zip(binary: BinaryIO) -> None:
    """Refuse an .xlsx whose zip would inflate too much, reading only its directory.

    Raises ImportFileError(BAD_SPREADSHEET) for a file that is no workbook zip, and
    ImportFileError(WORKBOOK_TOO_BIG) past a limit. Rewinds the file."""
    binary.seek(0, io.SEEK_END)
    size = binary.tell()
    # The end-of-directory record sits in the last 22 bytes + a comment of up to 64 KiB; its
    # directory size is read before zipfile builds one object per member (a 50 MB file of
    # empty members would make a million).
    tail_start = max(0, size - 22 - 65535)
    binary.seek(tail_start)
    tail = binary.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        raise ImportFileError(BAD_SPREADSHEET)
    members, directory = struct.unpack("<HI", tail[at + 10 : at + 16])
    if members > ZIP_MAX_MEMBERS or directory > ZIP_MAX_DIRECTORY:
        raise ImportFileError(WORKBOOK_TOO_BIG)
    binary.seek(0)
    try:
        with zipfile.ZipFile(binary) as archive:
            infos = archive.infolist()
    except Exception:  # BadZipFile, NotImplementedError for an odd version, struct errors…
        raise ImportFileError(BAD_SPREADSHEET) from None
    finally:
        binary.seek(0)
    names = {info.filename for info in infos}
    if "[Content_Types].xml" not in names or len(infos) > ZIP_MAX_MEMBERS:
        raise ImportFileError(BAD_SPREADSHEET)
    total = 0
    for info in infos:
        total += info.file_size
        streamed = info.filename.startswith("xl/worksheets/")
        if not streamed and info.file_size > ZIP_MAX_PART:
            raise ImportFileError(WORKBOOK_TOO_BIG)
        if info.file_size > ZIP_RATIO_FROM and (
            info.file_size > ZIP_MAX_RATIO * max(info.compress_size, 1)
        ):
            raise ImportFileError(WORKBOOK_TOO_BIG)
    if total > ZIP_MAX_TOTAL:
        raise ImportFileError(WORKBOOK_TOO_BIG)


class SpreadsheetFile:
    """The first sheet of an .xlsx or .xls workbook, read like a ContactFile."""

    def __init__(self, binary: BinaryIO, kind: str):
        binary.seek(0)
        self.kind = kind
        try:
            self._rows, self._close = _open_sheet(binary, kind)
            header, self._header_row = [], 0
            for number, cells in self._rows:
                header = [_cell_text(c) for c in cells]
                if any(header):
                    self._header_row = number
                    break
        except ImportFileError:
            raise
        except Exception:  # any library error: a damaged, encrypted or fake workbook
            raise ImportFileError(BAD_SPREADSHEET) from None
        if not any(header):
            raise ImportFileError(EMPTY)
        self.columns = map_columns(header)
        self.header = header

    def __iter__(self) -> Iterator[tuple[int, dict[str, str]]]:
        rows = 0
        columns = self.columns
        try:
            for number, cells in self._rows:
                width = len(cells)
                row = {
                    field: (_cell_text(cells[index]) if index < width else "")
                    for index, field in columns
                }
                if not any(row.values()):
                    continue
                if any(len(v) > MAX_FIELD for v in row.values()):
                    raise ImportFileError(BAD_LINE, number)
                rows += 1
                yield number, row
        except ImportFileError:
            raise
        except Exception:
            raise ImportFileError(BAD_SPREADSHEET) from None
        if not rows:
            raise ImportFileError(NO_ROWS)

    def close(self) -> None:
        self._close()


def _open_sheet(binary: BinaryIO, kind: str):
    """(iterator of (row number, cells), close function) for the workbook's first sheet.

    openpyxl and xlrd are imported here, on the first workbook, not with this module: every web
    and worker process reads this module, and the two take ~150 ms to import."""
    if kind == "xlsx":
        import openpyxl

        check_zip(binary)
        # read_only streams the sheet's XML: memory stays flat whatever the row count.
        book = openpyxl.load_workbook(binary, read_only=True, data_only=True)
        sheet = book.worksheets[0]
        rows = (
            (number, cells)
            for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1)
        )
        return rows, book.close
    import xlrd

    # .xls holds at most 65,536 rows: xlrd reads it whole.
    book = xlrd.open_workbook(file_contents=binary.read(), on_demand=True)
    sheet = book.sheet_by_index(0)
    rows = (
        (number + 1, [_xls_value(xlrd, cell, book.datemode) for cell in sheet.row(number)])
        for number in range(sheet.nrows)
    )
    return rows, book.release_resources


def _xls_value(xlrd, cell, datemode):
    """A cell's value as openpyxl gives it (a date as a datetime, nothing as None)."""
    if cell.ctype == xlrd.XL_CELL_DATE:
        return xlrd.xldate.xldate_as_datetime(cell.value, datemode)
    if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK, xlrd.XL_CELL_ERROR):
        return None
    return cell.value


def open_contacts(binary: BinaryIO, *, spreadsheets: bool = True) -> ContactFile | SpreadsheetFile:
    if not spreadsheets:
        return ContactFile(binary)
    binary.seek(0)
    head = binary.read(8)
    binary.seek(0)
    if head.startswith(XLSX_MAGIC):
        return SpreadsheetFile(binary, "xlsx")
    if head == XLS_MAGIC:
        return SpreadsheetFile(binary, "xls")
    return ContactFile(binary)


def check(binary: BinaryIO, *, spreadsheets: bool = True) -> None:
    """The checks a web request runs before queuing, in bounded memory and time: a text file's
    encoding (one streaming pass) and first lines; an .xlsx's zip directory. A workbook is
    never opened here: openpyxl and xlrd run in the worker, after check_zip. Rewinds the file."""
    binary.seek(0)
    head = binary.read(8)
    binary.seek(0)
    if spreadsheets and head.startswith(XLSX_MAGIC):
        check_zip(binary)
        return
    if spreadsheets and head == XLS_MAGIC:
        return  # an OLE2 file is not compressed: its size is its size
    contacts = ContactFile(binary)
    for _ in contacts:
        break
    else:  # pragma: no cover - __iter__ raises NO_ROWS itself
        raise ImportFileError(NO_ROWS)
    contacts.close()
    binary.seek(0)
