"""CSV downloads: streamed, `;`-separated, UTF-8 with a BOM, cells safe from formula injection."""

import csv
import re
from collections.abc import Callable, Iterable

from django.http import StreamingHttpResponse
from django.utils import timezone

from .dates import PARIS

# A spreadsheet reads a cell starting with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_E164 = re.compile(r"\+[0-9]{1,15}")


def escape_cell(value: str) -> str:
    """Against formula injection in spreadsheets: a leading ' makes the cell text."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def csv_cell(value) -> str:
    """A cell a spreadsheet shows as text: one starting like a formula gets a leading quote.

    A bare E.164 number ("+33612345678") is left alone: it can only ever read as a number.
    """
    text = "" if value is None else str(value)
    return text if _E164.fullmatch(text) else escape_cell(text)


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
