"""Excel workbooks (.xlsx, .xls) as contact files: read by the same pipeline as CSV."""

import io
import tracemalloc
from pathlib import Path

import openpyxl
import pytest
from django.core.files.base import ContentFile

from addressbooks import parsers, services
from addressbooks.models import Contact, ContactImport
from addressbooks.parsers import ImportFileError, open_contacts
from tests.addressbooks.factories import BookFactory

DATA = Path(__file__).parent / "data"


def xlsx(rows, *, sheets=None) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    for title, extra in (sheets or {}).items():
        other = book.create_sheet(title)
        for row in extra:
            other.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def read(content: bytes):
    contacts = open_contacts(io.BytesIO(content))
    rows = list(contacts)
    contacts.close()
    return contacts, rows


def test_xlsx_rows_with_their_sheet_row_numbers():
    content = xlsx(
        [
            ["Nom", "Prénom", "Société", "Mobile", "Fixe"],
            ["Durand", "Hélène", "Café", 33612345678, "01 40 00 00 00"],
            [None, None, None, None, None],  # a blank row is skipped
            ["Martin", "Éloïse", None, "+33612345679", None],
            ["Petit", "Jean", None, 612345670.0, None],  # a number cell without its 0
        ]
    )
    contacts, rows = read(content)
    assert contacts.kind == "xlsx"
    assert rows == [
        (2, {"surname": "Durand", "name": "Hélène", "group": "Café",
             "home_mobile": "33612345678", "home_phone": "01 40 00 00 00"}),
        (4, {"surname": "Martin", "name": "Éloïse", "group": "", "home_mobile": "+33612345679",
             "home_phone": ""}),
        (5, {"surname": "Petit", "name": "Jean", "group": "", "home_mobile": "612345670",
             "home_phone": ""}),
    ]  # fmt: skip


def test_xls_first_sheet_only():
    contacts, rows = read((DATA / "contacts.xls").read_bytes())
    assert contacts.kind == "xls"
    assert [(line, row["surname"], row["home_mobile"]) for line, row in rows] == [
        (2, "Durand", "33612345678"),
        (4, "Martin", "+33612345679"),
        (5, "Petit", "pas un numéro"),
    ]


def test_the_header_may_come_after_blank_rows():
    contacts, rows = read(xlsx([[], [None, None], ["number"], ["+33612345678"]]))
    assert rows == [(4, {"home_mobile": "+33612345678"})]


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (xlsx([]), parsers.EMPTY),
        (xlsx([], sheets={"Second": [["number"], ["+33612345678"]]}), parsers.EMPTY),
        (xlsx([["surname", "name"], ["Dupont", "Marie"]]), parsers.NO_NUMBER_COLUMN),
        (xlsx([["number"]]), parsers.NO_ROWS),
        (b"PK\x03\x04 this is no workbook", parsers.BAD_SPREADSHEET),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, parsers.BAD_SPREADSHEET),
    ],
    ids=["empty", "data-on-second-sheet", "no-number", "header-only", "fake-zip", "fake-ole"],
)
def test_unusable_workbooks_raise_a_file_error(content, code):
    with pytest.raises(ImportFileError) as error:
        read(content)
    assert error.value.code == code


def test_a_big_workbook_streams_in_flat_memory():
    content = xlsx([["number", "surname"]] + [[f"+336{i:08d}", "x" * 20] for i in range(20_000)])
    tracemalloc.start()
    contacts = open_contacts(io.BytesIO(content))
    count = sum(1 for _ in contacts)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert count == 20_000
    assert peak < 20 * 1024 * 1024, peak  # the 20,000 rows are never all held at once


@pytest.mark.django_db(transaction=True)
def test_import_an_xlsx_end_to_end(account):
    book = BookFactory(account=account, name="Clients")
    content = xlsx(
        [
            ["surname", "name", "homeMobile"],
            ["Durand", "Hélène", "+33612345678"],
            ["Martin", "Paul", "not a number"],
            ["Durand", "Copie", "0612345678"],  # the same number, nationally written
        ]
    )
    imp = ContactImport(book=book, original_name="clients.xlsx")
    imp.file.save("clients.xlsx", ContentFile(content), save=False)
    imp.save()

    services.contact_import_run(imp.pk)

    imp.refresh_from_db()
    assert imp.status == ContactImport.Status.DONE
    assert (imp.imported, imp.duplicates, imp.rejected) == (1, 1, 1)
    assert imp.errors[0]["line"] == 3
    assert list(Contact.objects.values_list("surname", "home_mobile")) == [
        ("Durand", "+33612345678")
    ]
