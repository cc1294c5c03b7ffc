"""Address books: the writes, the import run by the task, and the numbers for sending."""

from __future__ import annotations

import csv
import gc
import io
import logging
import marshal
import os
import queue
import tempfile
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from functools import partial
from itertools import islice

from django.conf import settings
from django.core.files import File
from django.db import DatabaseError, connection, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import bulk
from core.recipients import INVALID, NOT_A_NUMBER, NOT_MOBILE, Recipient, normalise
from core.text import words

from . import parsers, search, validation
from .models import AddressBook, Contact, ContactImport, search_text
from .parsers import LANDLINE_FIELDS, NUMBER_FIELDS
from .tasks import contact_import

log = logging.getLogger(__name__)

PROGRESS_EVERY = 10_000  # lines between two progress updates
VALIDATION_CHUNK = 5_000  # rows sent to a validation process at a time
INSERT_BATCH = 20_000
# PostgreSQL writes the rows while the file is read from this size on (_Writer).
OVERLAP_MIN_BYTES = 1_000_000
PAGE_SIZE = 50

NO_NUMBER = "no_number"
TOO_LONG = "too_long"
INTERNAL = "internal"

LINE_REASONS = {
    NOT_A_NUMBER: gettext_lazy("not a phone number"),
    INVALID: gettext_lazy("invalid number"),
    NOT_MOBILE: gettext_lazy("not a mobile number"),
    NO_NUMBER: gettext_lazy("no phone number"),
    TOO_LONG: gettext_lazy("a name or company is too long"),
}
FILE_ERRORS = {
    parsers.NOT_TEXT: gettext_lazy(
        "This is not a text file: save your spreadsheet as CSV (separator: semicolon)."
    ),
    parsers.EMPTY: gettext_lazy("This file is empty."),
    parsers.NO_NUMBER_COLUMN: gettext_lazy(
        "No number column was found: the first line must name the columns "
        "(surname;name;group;homePhone;homeMobile;workPhone;workMobile, or number)."
    ),
    parsers.NO_ROWS: gettext_lazy("This file has no contact after its first line."),
    parsers.BAD_LINE: gettext_lazy(
        "A line cannot be read (a cell is too long or a quote is not closed)."
    ),
    parsers.BAD_SPREADSHEET: gettext_lazy(
        "This workbook cannot be read: it may be damaged or protected by a password. Open it "
        "in your spreadsheet and save it again as .xlsx or as CSV."
    ),
    parsers.WORKBOOK_TOO_BIG: gettext_lazy(
        "This workbook would take too much room once opened (it is compressed too much or "
        "holds too many parts). Save it as CSV (separator: semicolon) and import that file."
    ),
    INTERNAL: gettext_lazy("The import failed because of an internal error."),
}
COLUMN_TITLES = dict(zip(parsers.FIELDS, parsers.EXPORT_HEADER, strict=True))


class BookError(Exception):
    pass


def file_error_message(code: str, line: int | None = None) -> str:
    message = str(FILE_ERRORS.get(code, FILE_ERRORS[INTERNAL]))
    if line:
        message += " " + _("(line %(line)s)") % {"line": line}
    return message


# --- books and contacts ---------------------------------------------------------------------


def book_create(*, account, name: str) -> AddressBook:
    return AddressBook.objects.create(account=account, name=name)


def book_rename(book: AddressBook, name: str) -> AddressBook:
    book.name = name
    book.save(update_fields=["name"])
    return book


def book_delete(book: AddressBook) -> None:
    """Deletes its contacts (one DELETE: Contact has no dependants) and its import files."""
    names = [
        name
        for imp in book.imports.only("file", "report")
        for name in (imp.file.name, imp.report.name)
        if name
    ]
    storage = ContactImport._meta.get_field("file").storage
    with transaction.atomic():
        book.delete()
    transaction.on_commit(lambda: [storage.delete(name) for name in names])


def _refresh_count(book: AddressBook) -> None:
    book.contacts_count = book.contacts.count()
    AddressBook.objects.filter(pk=book.pk).update(contacts_count=book.contacts_count)


def contact_save(contact: Contact) -> Contact:
    creating = contact.pk is None
    with transaction.atomic():
        contact.save()
        if creating:
            AddressBook.objects.filter(pk=contact.book_id).update(
                contacts_count=F("contacts_count") + 1
            )
    return contact


def contacts_delete(book: AddressBook, ids: Iterable[int]) -> int:
    with transaction.atomic():
        deleted, _ = Contact.objects.filter(book=book, pk__in=list(ids)).delete()
        if deleted:
            _refresh_count(book)
    return deleted


def book_page(book: AddressBook, *, query: str = "", after: int = 0, before: int = 0):
    """Keyset pagination on id within the book: (contacts, has_previous, has_next)."""
    query = query.strip()
    if not query:
        fetch = partial(search.keyset_rows, Contact.objects.filter(book=book))
    elif _in_numbers(query):
        contacts = Contact.objects.filter(book=book)
        fetch = partial(
            search.keyset_rows, contacts.filter(search_filter(query, book.account.default_region))
        )
    elif query_words := words(query):
        fetch = partial(search.name_page, book, query_words)
    else:
        return [], False, False  # nothing but punctuation: nothing to look for
    if before:
        rows = fetch(after=0, before=before, limit=PAGE_SIZE + 1)
        return rows[:PAGE_SIZE][::-1], len(rows) > PAGE_SIZE, True
    rows = fetch(after=after, before=0, limit=PAGE_SIZE + 1)
    return rows[:PAGE_SIZE], bool(after), len(rows) > PAGE_SIZE


def _in_numbers(query: str) -> bool:
    """Digits and no letter: a number or part of one (a whole valid number is one too)."""
    return not any(c.isalpha() for c in query) and sum(c.isdigit() for c in query) >= 3


def search_filter(query: str, region: str) -> Q:
    """Which contacts of a book a search finds (book_page finds the same through indexes).

    A whole valid number: the contacts whose main number it is. Otherwise every word of the
    query (folded: case, accents and punctuation aside) in the names (surname, first name,
    company), and, for a query of digits with no letter, also any number containing those
    digits (a scan of the book, stopped by the page's LIMIT)."""
    outcome = normalise(query, region) if any(c.isdigit() for c in query) else None
    if isinstance(outcome, Recipient):
        return Q(primary_number=outcome.number)
    query_words = words(query)
    condition = search.name_filter(query_words) if query_words else Q(pk__in=[])
    digits = "".join(c for c in query if c.isdigit())
    if _in_numbers(query):
        candidates = {digits}
        if digits.startswith("0") and len(digits) > 3:
            candidates.add(digits[1:])  # "0612" finds +33612…
        for part in candidates:
            for field in NUMBER_FIELDS:
                condition |= Q(**{f"{field}__contains": part})
    return condition


def book_contacts(book: AddressBook, chunk: int = 5000) -> Iterator[tuple[str, str, str, str]]:
    """(mobile number, name, surname, group) for every mobile number of the book, once.

    One query read in chunks (a server-side cursor on PostgreSQL), not one query per chunk:
    right after a big import, before PostgreSQL's statistics know the new rows, each of those
    sorted the whole book again (a million contacts read in 32 s instead of 2,
    bench/campaigns.py)."""
    seen: set[str] = set()
    rows = (
        Contact.objects.filter(book=book)
        .order_by("pk")
        .values_list("home_mobile", "work_mobile", "name", "surname", "group")
        .iterator(chunk_size=chunk)
    )
    for home, work, name, surname, group in rows:
        for number in (home, work):
            if number and number not in seen:
                seen.add(number)
                yield number, name, surname, group


# --- import ---------------------------------------------------------------------------------


def import_start(*, book: AddressBook, upload) -> ContactImport:
    if book.imports.filter(status__in=["todo", "doing"]).exists():
        raise BookError(_("An import is already running for this address book."))
    imp = ContactImport(book=book, original_name=upload.name[:255])
    imp.file.save(upload.name, upload, save=False)
    imp.save()
    transaction.on_commit(lambda: _enqueue(imp.pk))
    return imp


def _enqueue(import_id: int) -> None:
    """Queue the import's task; the import row is the record, so a broker that is down only
    delays it to the recovery beat (imports_recover_stale), it never fails the upload."""
    try:
        contact_import.delay(import_id)
    except Exception:  # noqa: BLE001 - any broker failure; the beat queues it again
        log.warning("import %s: broker unavailable, queued by the next recovery", import_id)


def normalise_number(raw: str, field: str, region: str) -> str:
    """E.164, or a reason code (see validation.normalise_number)."""
    return validation.normalise_number(raw, field in LANDLINE_FIELDS, region)


# The columns of the rows _Stage.batches() gives, in order.
_FIELDS = ("book", "surname", "name", "group", *NUMBER_FIELDS, "primary_number", "search",
           "created_at")  # fmt: skip


def _processes() -> int:
    """CONTACT_IMPORT_PROCESSES (default: the CPU count) validate numbers in parallel; 1: inline."""
    return getattr(settings, "CONTACT_IMPORT_PROCESSES", None) or os.cpu_count() or 1


def _validator(region: str, *, large: bool):
    """Helper processes for a file of more than one chunk, when there is more than one CPU."""
    if large and _processes() > 1:
        try:
            return validation.HelperProcesses(region, _processes())
        except OSError:
            log.warning("contact import: no helper processes, validating inline", exc_info=True)
    return validation.InlineValidator(region)


def _raw_numbers(chunk: list[tuple[int, dict[str, str]]]) -> list[tuple[str, str, str, str]]:
    a, b, c, d = NUMBER_FIELDS  # unrolled: this runs once per line of the file
    return [(row.get(a, ""), row.get(b, ""), row.get(c, ""), row.get(d, "")) for _, row in chunk]


class _Stage:
    """Phase 1: read, validate, dedupe; valid rows go to a temporary file, rejected lines to the
    report. Nothing touches the book yet."""

    def __init__(self, imp: ContactImport):
        self.imp = imp
        self.region = imp.book.account.default_region
        # Lists of rows, one marshal record (after its size) per chunk: written and read back
        # without a line of Python per value, unlike a CSV file. Or given to `sink` instead.
        self.rows = tempfile.TemporaryFile("w+b")
        self.sink = self.keep
        self.report = tempfile.TemporaryFile("w+b")
        self.total = self.valid = self.duplicates = self.rejected = 0
        self.errors: list[dict] = []
        self.seen: set[str] = set()

    def run(self) -> None:
        self.seen = set(
            Contact.objects.filter(book_id=self.imp.book_id)
            .values_list("primary_number", flat=True)
            .iterator(chunk_size=10_000)
        )
        report_text = io.TextIOWrapper(
            self.report, encoding="utf-8", newline="", write_through=True
        )
        self.report_writer = csv.writer(report_text, delimiter=";")
        with self.imp.file.open("rb") as binary:
            contacts = parsers.open_contacts(binary)
            self.validate(contacts)
            contacts.close()
        report_text.detach()
        self.progress()

    def validate(self, contacts) -> None:
        """Chunks of lines to the validator, its answers consumed in file order while it works
        on the next chunks."""
        validator = None
        waiting: deque[list] = deque()  # chunks submitted and not consumed yet, oldest first
        lines = iter(contacts)
        try:
            while chunk := list(islice(lines, VALIDATION_CHUNK)):
                if validator is None:
                    validator = _validator(self.region, large=len(chunk) == VALIDATION_CHUNK)
                if len(waiting) == validator.capacity:
                    self.consume(waiting.popleft(), validator.answer())
                validator.submit(_raw_numbers(chunk))
                waiting.append(chunk)
            while waiting:
                self.consume(waiting.popleft(), validator.answer())
        finally:
            if validator is not None:
                validator.close()

    def reject(self, line: int, reason: str, field: str = "", value: str = "") -> None:
        self.rejected += 1
        self.report_writer.writerow([line, reason, COLUMN_TITLES.get(field, ""), value[:200]])
        if len(self.errors) < ContactImport.MAX_ERRORS_KEPT:
            self.errors.append({"line": line, "reason": reason, "value": value[:200]})

    def consume(self, chunk, answers) -> None:
        seen, out = self.seen, []
        for (line, row), numbers in zip(chunk, answers, strict=True):
            self.total += 1
            if self.total % PROGRESS_EVERY == 0:
                self.progress()
            if type(numbers) is tuple:
                reason, index = numbers
                field = NUMBER_FIELDS[index]
                self.reject(line, reason, field, row[field])
                continue
            primary = numbers[0] or numbers[1] or numbers[2] or numbers[3]
            if not primary:
                self.reject(line, NO_NUMBER)
                continue
            surname, name, group = (row.get("surname", ""), row.get("name", ""),
                                    row.get("group", ""))  # fmt: skip
            if len(surname) > 245 or len(name) > 245 or len(group) > 50:
                self.reject(line, TOO_LONG, "", max(surname, name, group, key=len))
                continue
            if primary in seen:
                self.duplicates += 1
                continue
            seen.add(primary)
            self.valid += 1
            out.append((surname, name, group, *numbers, primary,
                        search_text(surname, name, group)))  # fmt: skip
        self.sink(out)

    def keep(self, rows: list[tuple]) -> None:
        data = marshal.dumps(rows)
        self.rows.write(len(data).to_bytes(8, "little") + data)

    def progress(self) -> None:
        ContactImport.objects.filter(pk=self.imp.pk).update(
            heartbeat_at=timezone.now(),
            total_lines=self.total,
            imported=self.valid,
            duplicates=self.duplicates,
            rejected=self.rejected,
        )

    def batches(self) -> Iterator[list[tuple]]:
        self.rows.seek(0)
        book_id = self.imp.book_id
        created = connection.ops.adapt_datetimefield_value(timezone.now())
        batch = []
        # marshal.load() on a file reads it a few bytes at a time: read each record whole.
        while size := int.from_bytes(self.rows.read(8), "little"):
            batch += _complete(marshal.loads(self.rows.read(size)), book_id, created)
            while len(batch) >= INSERT_BATCH:
                yield batch[:INSERT_BATCH]
                batch = batch[INSERT_BATCH:]
        if batch:
            yield batch


def _complete(rows: list[tuple], book_id: int, created) -> list[tuple]:
    """Rows of the stage with the columns they share, in _FIELDS order."""
    return [(book_id, *row, created) for row in rows]


class _Aborted(Exception):
    pass


class _Writer:
    """PostgreSQL: the rows go to the database while the rest of the file is read and checked,
    instead of after it, from a thread with its own connection, in one transaction that ends
    with the import marked done (or rolls back: all or nothing, as the other way).

    After the file, the other way leaves the CPUs but one idle while PostgreSQL alone writes
    the rows and maintains their indexes (the search's trigram index: ~8 s of its CPU for
    1,000,000 contacts). On the 2-CPU machine shared with other work, 1,000,000 lines took
    27–33 s the other way and 24–29 s this way; the more idle CPUs, the larger the gain.
    SQLite allows one writer at a time, and the import's progress updates are writes: it keeps
    the other way."""

    def __init__(self, imp: ContactImport):
        self.book_id = imp.book_id
        self.created = connection.ops.adapt_datetimefield_value(timezone.now())
        self.queue: queue.Queue = queue.Queue(maxsize=4)
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="contact-import")
        self.future = self.executor.submit(self._run)

    @staticmethod
    def wanted(imp: ContactImport) -> bool:
        """PostgreSQL, a file of more than a few chunks, and no transaction around the call
        (a second connection could not see what that transaction holds)."""
        return (
            connection.vendor == "postgresql"
            and transaction.get_autocommit()
            and imp.file.size >= OVERLAP_MIN_BYTES
        )

    def put(self, rows: list[tuple]) -> None:
        if not self._send(_complete(rows, self.book_id, self.created)):
            self.future.result()  # raises the error that stopped the writer
            raise RuntimeError("the contact import writer stopped")

    def finish(self, done) -> None:
        """Run done() in the writer's transaction, commit, and wait for it."""
        self._send(done)
        try:
            self.future.result()
        finally:
            self.executor.shutdown()

    def abort(self) -> None:
        """Roll back whatever was written, unless finish() committed it; never raises."""
        self._send(None)
        try:
            self.future.result()
        except Exception:  # noqa: BLE001 - the import fails for the reason the caller has
            pass
        self.executor.shutdown()

    def _send(self, item) -> bool:
        """Queue an item for the writer; False when the writer has stopped."""
        while not self.future.done():
            try:
                self.queue.put(item, timeout=1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        try:
            with transaction.atomic():
                while isinstance(item := self.queue.get(), list):
                    bulk.insert(Contact, fields=_FIELDS, rows=item, binary=True)
                if item is None:
                    raise _Aborted
                item()
        finally:
            connection.close()  # this thread's own connection


@contextmanager
def _cycle_collector_paused() -> Iterator[None]:
    """An import makes no reference cycles, but its millions of short-lived rows (dicts, tuples)
    set off the cyclic collector's full passes over every object of the process, Django's
    included: ~4.5 s of the ~20 s of CPU 1,000,000 lines took. Whatever cycle appears in the
    meantime is collected once the collector is back."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def contact_import_run(import_id: int) -> ContactImport:
    """Run one import (the task calls this). All or nothing: the contacts are inserted in one
    transaction that ends with the import marked done (after the file is read, or while it
    is read: _Writer). Safe to call twice."""
    with transaction.atomic():
        imp = (
            ContactImport.objects.select_for_update()
            .select_related("book__account")
            .get(pk=import_id)
        )
        if imp.status != ContactImport.Status.TODO:
            return imp
        imp.status = ContactImport.Status.DOING
        imp.started_at = imp.heartbeat_at = timezone.now()
        imp.save(update_fields=["status", "started_at", "heartbeat_at"])
    stage = _Stage(imp)
    writer = _Writer(imp) if _Writer.wanted(imp) else None
    if writer:
        stage.sink = writer.put
    try:
        with _cycle_collector_paused():
            stage.run()
        imp.errors = stage.errors
        if stage.rejected:
            stage.report.seek(0)
            imp.report.save(f"import-{imp.pk}-rejected.csv", File(stage.report), save=False)
        if writer:
            with _cycle_collector_paused():
                writer.finish(lambda: _done(imp, stage))
        else:
            with transaction.atomic(), _cycle_collector_paused():
                with search.contacts_inserted_in_bulk():
                    for batch in stage.batches():
                        bulk.insert(Contact, fields=_FIELDS, rows=batch, binary=True)
                _done(imp, stage)
    except parsers.ImportFileError as error:
        _fail(imp, error.code, error.line, stage)
    except Exception:
        log.exception("contact import %s failed", import_id)
        _fail(imp, INTERNAL, None, stage)
        raise
    finally:
        if writer:
            writer.abort()  # whatever it wrote, unless finish() committed it (then a no-op)
        stage.rows.close()
        stage.report.close()
    try:
        search.statistics_after_import(imp.imported if imp.status == imp.Status.DONE else 0)
    except DatabaseError:  # the import is done all the same; autovacuum will analyse
        log.warning("contact import %s: ANALYZE failed", import_id, exc_info=True)
    return imp


def _done(imp: ContactImport, stage: _Stage) -> None:
    """The end of an import's transaction: the book's count, the import marked done."""
    AddressBook.objects.filter(pk=imp.book_id).update(
        contacts_count=F("contacts_count") + stage.valid
    )
    imp.status = ContactImport.Status.DONE
    imp.total_lines = stage.total
    imp.imported = stage.valid
    imp.duplicates = stage.duplicates
    imp.rejected = stage.rejected
    imp.finished_at = timezone.now()
    imp.save()


# An import reports progress every few seconds; this long without news, its worker is gone.
STALE_AFTER = timedelta(minutes=10)
# Waiting longer than this without a worker taking it, its task is presumed lost.
WAITING_TOO_LONG = timedelta(minutes=2)


def imports_recover_stale(*, now=None) -> list[int]:
    """Queue again the imports whose worker died, and those whose task never came (broker
    down or restarted empty) (beat). Safe: a second task for one import returns at once, and
    nothing of an import is committed before the transaction that also marks it done."""
    now = now or timezone.now()
    stale = ContactImport.objects.filter(
        status=ContactImport.Status.DOING, heartbeat_at__lt=now - STALE_AFTER
    )
    ids = [pk for pk in stale.values_list("id", flat=True) if stale.filter(pk=pk).update(
        status=ContactImport.Status.TODO, heartbeat_at=now
    )]  # fmt: skip
    # Queued (or queued again) more than WAITING_TOO_LONG ago and still not taken: its task
    # is presumed lost. The heartbeat set when queuing again keeps a waiting import from
    # being queued anew on every beat while the workers are busy.
    waiting = ContactImport.objects.annotate(
        queued_at=Coalesce("heartbeat_at", "created_at")
    ).filter(status=ContactImport.Status.TODO, queued_at__lt=now - WAITING_TOO_LONG)
    lost = list(waiting.values_list("id", flat=True))
    ContactImport.objects.filter(pk__in=lost).update(heartbeat_at=now)
    for import_id in ids + lost:
        transaction.on_commit(lambda import_id=import_id: _enqueue(import_id))
    return ids + lost


def _fail(imp: ContactImport, code: str, line: int | None, stage: _Stage) -> None:
    imp.status = ContactImport.Status.ERROR
    imp.failure = code
    imp.imported = 0
    imp.total_lines = stage.total
    imp.duplicates = stage.duplicates
    imp.rejected = stage.rejected
    imp.errors = [{"line": line, "reason": code, "value": ""}] if line else []
    imp.finished_at = timezone.now()
    imp.save()
