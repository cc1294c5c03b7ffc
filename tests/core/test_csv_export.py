"""core.csv_export: formula-safe cells and the streamed `;` CSV response."""

import pytest

from core.csv_export import csv_cell, escape_cell, stream_csv


@pytest.mark.parametrize(
    ("value", "escaped"),
    [("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"), ("+33612345678", "'+33612345678"),
     ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("Dupont", "Dupont"), ("", "")],
)  # fmt: skip
def test_escape_cell(value, escaped):
    assert escape_cell(value) == escaped


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1+1", "'+1+1"),
        ("-1", "'-1"),
        ("@x", "'@x"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("+33612345678", "'+33612345678"),  # a number, as any other cell starting with +
        ("Bonjour", "Bonjour"),
        (None, ""),
        (12, "12"),
    ],
)
def test_csv_cell_escapes_every_formula_start(value, expected):
    assert csv_cell(value) == expected


def test_stream_csv_writes_a_bom_semicolons_and_escaped_cells():
    rows = iter([("Nom", "Numéro"), ("=cmd", "+33612345678"), (None, 3)])

    response = stream_csv(rows, "out.csv")

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="out.csv"'
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body == "\ufeffNom;Numéro\r\n'=cmd;'+33612345678\r\n;3\r\n"


def test_stream_csv_reads_the_rows_as_it_streams():
    read = []

    def rows():
        for i in range(1200):
            read.append(i)
            yield (i,)

    response = stream_csv(rows(), "out.csv")
    assert read == []  # nothing read before the response is sent
    first = next(iter(response.streaming_content))
    assert 0 < len(read) < 1200
    assert first.decode().startswith("\ufeff0\r\n1\r\n")
