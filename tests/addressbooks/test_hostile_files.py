"""Hostile contact files: each is refused with its own reason (and line), in bounded memory."""

import io
import tracemalloc

import pytest
from django.core.files.base import ContentFile

from addressbooks import parsers, services
from addressbooks.models import Contact, ContactImport
from addressbooks.parsers import ImportFileError
from tests.addressbooks import hostile
from tests.addressbooks.factories import BookFactory


def refused(content: bytes, *, spreadsheets=True):
    """The error of the web check, else of a full read (what the worker does)."""
    with pytest.raises(ImportFileError) as error:
        parsers.check(io.BytesIO(content), spreadsheets=spreadsheets)
        contacts = parsers.open_contacts(io.BytesIO(content), spreadsheets=spreadsheets)
        list(contacts)
    return error.value


class TestText:
    def test_a_nul_after_64_kib_in_a_file_with_a_bom_is_binary(self):
        assert refused(hostile.bom_with_late_nul()).code == parsers.NOT_TEXT

    def test_a_nul_after_a_windows_1252_byte_is_binary(self):
        content = b"number\n+33612345678 \xe9\n" + b"+33612345678\n" * 10_000 + b"\x00\n"
        assert refused(content).code == parsers.NOT_TEXT

    @pytest.mark.parametrize("length", [131_073, parsers.MAX_HEADER + 1])
    def test_an_over_long_header_is_a_line_error(self, length):
        error = refused(hostile.long_header(length))
        assert (error.code, error.line) == (parsers.BAD_LINE, 1)

    def test_an_unclosed_quote_in_the_header_is_a_line_error(self):
        error = refused(b'\n"number;name\n+33612345678;a\n')
        assert error.code in (parsers.BAD_LINE, parsers.NO_NUMBER_COLUMN)

    def test_an_over_long_field_is_an_error_on_its_line(self):
        content = b"number;name\n+33612345678;a\n+33612345679;" + b"b" * 200_000 + b"\n"
        error = refused(content)
        assert (error.code, error.line) == (parsers.BAD_LINE, 3)

    def test_a_line_of_separators_is_not_read_whole(self):
        content = b"number;name\n+33612345678;a\n" + b";" * 5_000_000 + b"\n"
        tracemalloc.start()
        error = refused(content)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert (error.code, error.line) == (parsers.BAD_LINE, 3)
        assert peak < 8 * 1024 * 1024, peak


class TestWorkbooks:
    def test_a_zip_bomb_sheet_is_refused_from_its_directory(self):
        content = hostile.bomb_sheet(200 * 1024 * 1024)
        assert len(content) < 1024 * 1024
        tracemalloc.start()
        error = refused(content)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert error.code == parsers.WORKBOOK_TOO_BIG
        assert peak < 4 * 1024 * 1024, peak

    def test_big_shared_strings_are_refused(self, monkeypatch):
        monkeypatch.setattr(parsers, "ZIP_MAX_RATIO", 10_000)  # only the part size is at stake
        content = hostile.bomb_shared_strings(parsers.ZIP_MAX_PART + 1024)
        assert refused(content).code == parsers.WORKBOOK_TOO_BIG

    def test_the_inflated_total_is_bounded(self, monkeypatch):
        monkeypatch.setattr(parsers, "ZIP_MAX_TOTAL", 1024 * 1024)
        content = hostile.bomb_sheet(2 * 1024 * 1024)
        monkeypatch.setattr(parsers, "ZIP_MAX_RATIO", 10_000)
        assert refused(content).code == parsers.WORKBOOK_TOO_BIG

    def test_a_zip_of_many_members_is_refused_before_zipfile_lists_them(self):
        assert refused(hostile.many_members(parsers.ZIP_MAX_MEMBERS + 1)).code == (
            parsers.WORKBOOK_TOO_BIG
        )

    def test_sizes_that_lie_make_a_damaged_workbook(self):
        content = hostile.lying_sizes(hostile.xlsx([["number"], ["+33612345678"]]))
        assert refused(content).code == parsers.BAD_SPREADSHEET

    @pytest.mark.parametrize("cut", [30, 500, -300, -22])
    def test_a_truncated_workbook_is_damaged(self, cut):
        content = hostile.xlsx([["number"], ["+33612345678"]])
        assert refused(content[:cut]).code == parsers.BAD_SPREADSHEET

    def test_the_web_check_does_not_open_a_workbook(self, monkeypatch):
        opened = []
        monkeypatch.setattr(parsers, "_open_sheet", lambda *a: opened.append(a))
        parsers.check(io.BytesIO(hostile.xlsx([["number"], ["+33612345678"]])))
        parsers.check(io.BytesIO(parsers.XLS_MAGIC + b"\x00" * 600))
        assert opened == []


@pytest.mark.django_db
def test_an_import_with_a_late_nul_fails_clearly_and_imports_nothing(account):
    """On PostgreSQL this was an "internal error": the NUL reached the INSERT."""
    book = BookFactory(account=account)
    imp = ContactImport(book=book, original_name="bom.csv")
    imp.file.save("bom.csv", ContentFile(hostile.bom_with_late_nul()), save=False)
    imp.save()

    services.contact_import_run(imp.pk)

    imp.refresh_from_db()
    assert (imp.status, imp.failure) == (ContactImport.Status.ERROR, parsers.NOT_TEXT)
    assert not Contact.objects.filter(book=book).exists()
