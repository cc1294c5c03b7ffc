"""contact_import_run end to end: files on disk, numbers validated, counts, the report."""

import codecs

import pytest
from django.core.files.base import ContentFile
from django.db import connection

from addressbooks import services
from addressbooks.models import AddressBook, Contact, ContactImport
from core import bulk
from tests.addressbooks.factories import BookFactory, ContactFactory

pytestmark = pytest.mark.django_db(transaction=True)

HEADER = "surname;name;group;homePhone;homeMobile;workPhone;workMobile"


def start(book, content: bytes, name="contacts.csv") -> ContactImport:
    imp = ContactImport(book=book, original_name=name)
    imp.file.save(name, ContentFile(content), save=False)
    imp.save()
    return imp


def numbers_file(book, count: int) -> ContactImport:
    """An import of `count` different mobile numbers, one a line."""
    lines = ["number"] + [f"+3361{i:07d}" for i in range(count)]
    return start(book, "\n".join(lines).encode())


def assert_nothing_imported(imp, book, failure: str) -> None:
    imp.refresh_from_db()
    assert (imp.status, imp.failure, imp.imported) == ("error", failure, 0)
    assert not Contact.objects.filter(book=book).exists()


@pytest.fixture
def book(account):
    return BookFactory(account=account, name="Clients")


@pytest.fixture(params=[1, 2], ids=["inline", "two-processes"])
def processes(request, settings):
    settings.CONTACT_IMPORT_PROCESSES = request.param
    return request.param


def test_import_rows_counts_and_rejected_lines(book, processes):
    text = "\r\n".join(
        [
            HEADER,
            "Durand;Hélène;Café;0140000000;06 12 34 56 78;;",  # landline + national mobile
            "Martin;Léa;;;+33612345679;;+33756789012",
            "Bad;Number;;;hello;;",  # 4: not a number
            "Fixe;Only;;;+33140000001;;",  # 5: a landline in a mobile column
            "",
            "Dupont;Jean;;;0033612345678;;",  # 7: the same as line 2 → duplicate
            "Short;Num;;;+336123;;",  # 8: invalid
            "No;Number;;;;;",  # 9
            '=HYPERLINK("http://evil");x;;;+33612345680;;',
        ]
    )
    imp = start(book, codecs.BOM_UTF8 + text.encode())

    imp = services.contact_import_run(imp.pk)

    imp.refresh_from_db()
    assert imp.status == "done"
    assert (imp.total_lines, imp.imported, imp.duplicates, imp.rejected) == (8, 3, 1, 4)
    assert [(e["line"], e["reason"]) for e in imp.errors] == [
        (4, "not_a_number"),
        (5, "not_mobile"),
        (8, "invalid"),
        (9, "no_number"),
    ]
    contacts = list(Contact.objects.filter(book=book).order_by("pk"))
    assert [(c.surname, c.home_phone, c.home_mobile, c.work_mobile, c.primary_number)
            for c in contacts] == [
        ("Durand", "+33140000000", "+33612345678", "", "+33612345678"),
        ("Martin", "", "+33612345679", "+33756789012", "+33612345679"),
        ('=HYPERLINK("http://evil")', "", "+33612345680", "", "+33612345680"),
    ]  # fmt: skip
    assert contacts[0].name == "Hélène" and contacts[0].group == "Café"
    assert AddressBook.objects.get(pk=book.pk).contacts_count == 3
    assert imp.report.read().decode().splitlines()[0] == "4;not_a_number;homeMobile;hello"


def test_existing_contacts_of_the_book_are_duplicates(book):
    services.contact_save(ContactFactory.build(book=book, home_mobile="+33612345678"))
    imp = start(book, b"number\n+33612345678\n+33612345679\n")

    services.contact_import_run(imp.pk)

    imp.refresh_from_db()
    assert (imp.imported, imp.duplicates) == (1, 1)
    assert AddressBook.objects.get(pk=book.pk).contacts_count == 2


def test_ten_thousand_duplicates(book, processes):
    lines = ["number"] + ["+33612345678"] * 10_001
    imp = start(book, "\n".join(lines).encode(), name="dups.txt")

    services.contact_import_run(imp.pk)

    imp.refresh_from_db()
    assert (imp.total_lines, imp.imported, imp.duplicates) == (10_001, 1, 10_000)
    assert Contact.objects.filter(book=book).count() == 1


def test_errors_are_capped_but_the_report_has_every_line(book):
    lines = ["number"] + ["nope"] * 1500 + ["+33612345678"]
    imp = start(book, "\n".join(lines).encode())

    services.contact_import_run(imp.pk)

    imp.refresh_from_db()
    assert imp.rejected == 1500
    assert len(imp.errors) == ContactImport.MAX_ERRORS_KEPT
    assert len(imp.report.read().decode().splitlines()) == 1500


@pytest.mark.parametrize(
    ("content", "code"),
    [(b"", "empty"), (b"\x00\x01binary\x00", "not_text"), (b"number\n", "no_rows"),
     (b"surname;name\nA;B\n", "no_number_column")],
)  # fmt: skip
def test_a_bad_file_fails_with_a_reason_and_imports_nothing(book, content, code):
    imp = start(book, content)

    services.contact_import_run(imp.pk)

    assert_nothing_imported(imp, book, code)


def test_all_or_nothing_when_the_insert_fails_half_way(book, monkeypatch):
    monkeypatch.setattr(services, "INSERT_BATCH", 100)
    real_insert = bulk.insert
    calls = []

    def failing_insert(table, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("disk full")
        real_insert(table, **kwargs)

    monkeypatch.setattr(bulk, "insert", failing_insert)
    imp = numbers_file(book, 1000)

    with pytest.raises(RuntimeError):
        services.contact_import_run(imp.pk)

    assert_nothing_imported(imp, book, "internal")
    assert AddressBook.objects.get(pk=book.pk).contacts_count == 0


def test_a_bad_line_half_way_imports_nothing(book):
    content = b"number\n+33612345678\n" + b"x" * 200_000 + b"\n+33612345679\n"
    imp = start(book, content)

    services.contact_import_run(imp.pk)

    imp.refresh_from_db()
    assert (imp.status, imp.failure, imp.errors) == (
        "error", "bad_line", [{"line": 3, "reason": "bad_line", "value": ""}])  # fmt: skip
    assert not Contact.objects.exists()


def test_running_twice_imports_once(book):
    imp = start(book, b"number\n+33612345678\n")

    services.contact_import_run(imp.pk)
    services.contact_import_run(imp.pk)

    assert Contact.objects.filter(book=book).count() == 1


def test_the_task_runs_the_service(book):
    from addressbooks.tasks import contact_import

    imp = start(book, b"number\n+33612345678\n")

    assert contact_import.apply(args=[imp.pk]).get() == 1


def test_book_contacts_gives_each_mobile_once(book):
    ContactFactory(book=book, home_mobile="+33612345678", work_mobile="+33756789012", name="A")
    ContactFactory(book=book, home_mobile="", home_phone="+33140000000", work_mobile="+33612345678")
    ContactFactory(book=book, home_mobile="+33612345679", name="C")
    ContactFactory(book=BookFactory(account=book.account), home_mobile="+33699999999")

    assert [(number, name) for number, name, *_ in services.book_contacts(book, chunk=2)] == [
        ("+33612345678", "A"),
        ("+33756789012", "A"),
        ("+33612345679", "C"),
    ]


def test_validation_helpers_start_inside_a_daemonic_worker(book, settings, monkeypatch, caplog):
    """Celery's prefork children are daemonic: multiprocessing would refuse them children. The
    helpers are plain subprocesses, so a large import still uses every CPU there."""
    import multiprocessing
    import subprocess

    settings.CONTACT_IMPORT_PROCESSES = 2
    monkeypatch.setattr(multiprocessing.current_process(), "daemon", True)
    started = []
    real_popen = subprocess.Popen

    def popen(*args, **kwargs):
        started.append(real_popen(*args, **kwargs))
        return started[-1]

    monkeypatch.setattr(subprocess, "Popen", popen)
    imp = numbers_file(book, 12_000)

    services.contact_import_run(imp.pk)

    imp.refresh_from_db()
    assert (imp.status, imp.imported) == ("done", 12_000)
    assert multiprocessing.current_process().daemon is True
    assert "inline" not in caplog.text
    assert len(started) == 2 and [helper.returncode for helper in started] == [0, 0]


def test_a_small_file_starts_no_helper(book, settings, monkeypatch):
    import subprocess

    settings.CONTACT_IMPORT_PROCESSES = 2
    monkeypatch.setattr(subprocess, "Popen", None)  # any start would fail the import
    imp = start(book, b"number\n+33612345678\n")

    services.contact_import_run(imp.pk)

    imp.refresh_from_db()
    assert (imp.status, imp.imported) == ("done", 1)


def test_a_helper_that_dies_fails_the_import_and_imports_nothing(book, settings, monkeypatch):
    from addressbooks import validation

    settings.CONTACT_IMPORT_PROCESSES = 2
    real_submit = validation.HelperProcesses.submit

    def submit(self, rows):
        helper = self._helpers[self._turn]
        helper.kill()  # as by the out-of-memory killer
        helper.wait()
        real_submit(self, rows)

    monkeypatch.setattr(validation.HelperProcesses, "submit", submit)
    imp = numbers_file(book, 12_000)

    with pytest.raises(RuntimeError):
        services.contact_import_run(imp.pk)

    assert_nothing_imported(imp, book, "internal")


def test_an_import_whose_worker_died_is_queued_again(book, django_capture_on_commit_callbacks):
    from datetime import timedelta
    from unittest import mock

    from django.utils import timezone

    from addressbooks.models import ContactImport

    stale = ContactImport.objects.create(
        book=book,
        original_name="a.csv",
        status=ContactImport.Status.DOING,
        heartbeat_at=timezone.now() - timedelta(minutes=11),
    )
    alive = ContactImport.objects.create(
        book=book,
        original_name="b.csv",
        status=ContactImport.Status.DOING,
        heartbeat_at=timezone.now() - timedelta(minutes=2),
    )
    with mock.patch("addressbooks.tasks.contact_import.delay") as delay:
        with django_capture_on_commit_callbacks(execute=True):
            assert services.imports_recover_stale() == [stale.pk]
    delay.assert_called_once_with(stale.pk)
    stale.refresh_from_db()
    alive.refresh_from_db()
    assert (stale.status, alive.status) == ("todo", "doing")


@pytest.mark.django_db
def test_an_import_whose_task_never_came_is_queued_again(book, django_capture_on_commit_callbacks):
    """The broker was down at upload, or restarted empty before a worker took the task: the
    import row is the record, and the recovery beat queues it again."""
    from datetime import timedelta
    from unittest import mock

    from django.utils import timezone

    from addressbooks.models import ContactImport

    lost = ContactImport.objects.create(
        book=book, original_name="a.csv", created_at=timezone.now() - timedelta(minutes=3)
    )
    fresh = ContactImport.objects.create(book=book, original_name="b.csv")
    with mock.patch("addressbooks.tasks.contact_import.delay") as delay:
        with django_capture_on_commit_callbacks(execute=True):
            assert services.imports_recover_stale() == [lost.pk]
    delay.assert_called_once_with(lost.pk)
    assert fresh.pk != lost.pk


@pytest.mark.django_db
def test_an_upload_while_the_broker_is_down_is_kept(book, django_capture_on_commit_callbacks):
    from unittest import mock

    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("c.csv", b"number\n+33612345678\n")
    with mock.patch("addressbooks.tasks.contact_import.delay", side_effect=ConnectionRefusedError):
        with django_capture_on_commit_callbacks(execute=True):
            imp = services.import_start(book=book, upload=upload)  # no error for the person

    imp.refresh_from_db()
    assert imp.status == "todo"


@pytest.mark.django_db
def test_a_waiting_import_is_queued_again_once_per_wait_not_on_every_beat(
    book, django_capture_on_commit_callbacks
):
    from datetime import timedelta
    from unittest import mock

    from django.utils import timezone

    from addressbooks.models import ContactImport

    lost = ContactImport.objects.create(
        book=book, original_name="a.csv", created_at=timezone.now() - timedelta(minutes=3)
    )
    with mock.patch("addressbooks.tasks.contact_import.delay") as delay:
        with django_capture_on_commit_callbacks(execute=True):
            assert services.imports_recover_stale() == [lost.pk]
            assert services.imports_recover_stale(now=timezone.now() + timedelta(minutes=1)) == []
            assert services.imports_recover_stale(now=timezone.now() + timedelta(minutes=3)) == [
                lost.pk
            ]
    assert delay.call_count == 2


# --- PostgreSQL: rows written while the file is read (services._Writer) ----------------------


@pytest.fixture
def while_reading(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite writes the rows after reading the file")
    monkeypatch.setattr(services, "OVERLAP_MIN_BYTES", 0)  # whatever the file's size


def test_rows_written_while_reading(book, while_reading, processes):
    imp = numbers_file(book, 12_000)

    services.contact_import_run(imp.pk)

    imp.refresh_from_db()
    assert (imp.status, imp.total_lines, imp.imported) == ("done", 12_000, 12_000)
    assert Contact.objects.filter(book=book).count() == 12_000
    assert AddressBook.objects.get(pk=book.pk).contacts_count == 12_000


def test_rows_written_while_reading_are_rolled_back_on_a_bad_line(book, while_reading):
    numbers = "".join(f"+3361{i:07d}\n" for i in range(12_000))
    imp = start(book, f"number\n{numbers}{'x' * 200_000}\n".encode())

    services.contact_import_run(imp.pk)

    imp.refresh_from_db()
    assert (imp.status, imp.failure, imp.errors[0]["line"]) == ("error", "bad_line", 12_002)
    assert not Contact.objects.exists()


def test_rows_written_while_reading_are_rolled_back_when_the_insert_fails(
    book, while_reading, monkeypatch
):
    real_insert = bulk.insert
    calls = []

    def failing_insert(table, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        real_insert(table, **kwargs)

    monkeypatch.setattr(bulk, "insert", failing_insert)
    imp = numbers_file(book, 12_000)

    with pytest.raises(RuntimeError, match="disk full"):
        services.contact_import_run(imp.pk)

    assert_nothing_imported(imp, book, "internal")
    assert AddressBook.objects.get(pk=book.pk).contacts_count == 0
