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
"""

from __future__ import annotations

import codecs
import csv
import io
import unicodedata
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

SNIFF_BYTES = 64 * 1024
MAX_FIELD = 100_000  # characters; csv.Error beyond (a binary or broken file, not a contact)

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
    """Rewinds the file. Raises ImportFileError for an empty or binary file."""
    binary.seek(0)
    head = binary.read(SNIFF_BYTES)
    if not head.strip(b" \t\r\n\xef\xbb\xbf"):
        raise ImportFileError(EMPTY)
    if b"\x00" in head:
        raise ImportFileError(NOT_TEXT)
    if head.startswith(codecs.BOM_UTF8):
        binary.seek(0)
        return "utf-8-sig"
    decoder = codecs.getincrementaldecoder("utf-8")()
    chunk = head
    encoding = "utf-8"
    try:
        while chunk:
            if b"\x00" in chunk:
                raise ImportFileError(NOT_TEXT)
            decoder.decode(chunk)
            chunk = binary.read(1 << 20)
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


class ContactFile:
    def __init__(self, binary: BinaryIO):
        self.binary = binary
        self.encoding = detect_encoding(binary)
        # cp1252 leaves 5 bytes undefined: replace them rather than fail the whole file.
        self.text = io.TextIOWrapper(binary, encoding=self.encoding, errors="replace", newline="")
        self._skipped = 0
        header_line = ""
        while not header_line.strip():
            header_line = self.text.readline()
            self._skipped += 1
            if not header_line:
                raise ImportFileError(EMPTY)
        self.delimiter = detect_delimiter(header_line)
        header = next(csv.reader([header_line], delimiter=self.delimiter))
        self.columns = map_columns(header)
        self.header = header

    def close(self) -> None:
        """Let go of the binary file without closing it."""
        self.text.detach()

    def __iter__(self) -> Iterator[tuple[int, dict[str, str]]]:
        old_limit = csv.field_size_limit()
        csv.field_size_limit(MAX_FIELD)
        reader = csv.reader(self.text, delimiter=self.delimiter)
        offset = self._skipped  # physical lines before the data (header, leading blank lines)
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
    return str(value).strip()


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


def check(binary: BinaryIO, *, spreadsheets: bool = True) -> ContactFile | SpreadsheetFile:
    """Open and read up to the first data row: the checks a form can run before queuing."""
    contacts = open_contacts(binary, spreadsheets=spreadsheets)
    for _ in contacts:
        break
    else:  # pragma: no cover - __iter__ raises NO_ROWS itself
        raise ImportFileError(NO_ROWS)
    contacts.close()
    binary.seek(0)
    return contacts
