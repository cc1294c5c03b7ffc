"""CSV downloads: streamed, `;`-separated, UTF-8 with a BOM, cells safe from formula injection.

One rule for every export (history, received SMS, STOP list, address books, recipient lists):
a cell starting with = + - @ (or a tab or carriage return) gets a leading apostrophe, numbers
included. Why, for a number such as +33612345678:
- left bare, Excel and LibreOffice read it as the number 33612345678 (shown 3,36E+10): the +
  is lost, and a + or - cell is a formula trigger, so it cannot be told apart from a real
  formula by the rule;
- written as ="+33612345678" it is a formula: Excel shows the text, but LibreOffice shows the
  formula itself unless formulas are evaluated on import, and any other consumer of the file
  (a script, our own import) gets `="+33…"`;
- an apostrophe is the OWASP-recommended escape: the cell stays text in both spreadsheets, the
  number is readable with its +, and our imports take the apostrophe off again, so an exported
  book or list imports back unchanged. A leading tab would work too but is invisible, and many
  tools strip it silently.
"""

import csv
from collections.abc import Callable, Iterable

from django.http import StreamingHttpResponse
from django.utils import timezone

from .dates import PARIS

# A spreadsheet reads a cell starting with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value: str) -> str:
    """Against formula injection in spreadsheets: a leading ' makes the cell text."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def csv_cell(value) -> str:
    """A cell a spreadsheet shows as text: one starting like a formula (an E.164 number
    included) gets a leading apostrophe; None is an empty cell."""
    return escape_cell("" if value is None else str(value))


class _Echo:
    """A file-like object whose write() hands the line back, for csv.writer in a generator."""

    def write(self, value):
        return value


def stream_csv(
    rows: Iterable[Iterable], filename: str, escape: Callable[[object], str] = csv_cell
) -> StreamingHttpResponse:
    """`;`-separated, UTF-8 with a BOM (spreadsheets then read it as UTF-8), each cell passed
    through `escape` (formula-safe by default). `rows` is read as the response streams."""
    writer = csv.writer(_Echo(), delimiter=";", lineterminator="\r\n")

    def lines():
        buffer = ["\ufeff"]
        for row in rows:
            buffer.append(writer.writerow([escape(cell) for cell in row]))
            if len(buffer) >= 500:
                yield "".join(buffer)
                buffer = []
        yield "".join(buffer)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def paris_time(value) -> str:
    """A date and time as a CSV cell, in Paris time; empty for None."""
    return timezone.localtime(value, PARIS).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def export_stamp() -> str:
    """The current Paris time for a download's file name: 20260315-1420."""
    return timezone.localtime(timezone.now(), PARIS).strftime("%Y%m%d-%H%M")
