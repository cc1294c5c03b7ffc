"""Recipient lists (« Listes de destinataires »): creation from a file, cleaning, reading.

The file is read by parsers.ContactFile (CSV or TXT, a `number` column) and each number is
checked by validation.normalise_number, as for the contact import. Choice: a bad line does not
fail the file; it is left out and reported by line number, and the valid lines make the list.
Duplicates are kept at creation (as the manager does); « Nettoyer » removes them.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta

from django.db import transaction
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import SmsAccount
from core import bulk
from core.recipients import Recipient, normalise

from . import parsers, services, validation
from .models import RecipientList, RecipientListNumber

log = logging.getLogger(__name__)

INSERT_BATCH = 20_000
READ_CHUNK = 5_000
# A panel upload reports how far it got every this many lines.
PROGRESS_EVERY = 20_000
DUPLICATE = "duplicate"
NO_NUMBER = services.NO_NUMBER

CLEAN_REASONS = {
    **services.LINE_REASONS,
    DUPLICATE: gettext_lazy("duplicate"),
}


class ListError(Exception):
    """A refusal to show the user (the message is translated)."""


class ListFull(ListError):
    pass


def no_number_column_message() -> str:
    return _('Please specify at least one "number" column in your csv file.')


def file_error_message(code: str, line: int | None = None) -> str:
    if code == parsers.NO_NUMBER_COLUMN:
        return no_number_column_message()
    return services.file_error_message(code, line)


def line_error_message(line: int, reason: str) -> str:
    label = CLEAN_REASONS.get(reason, reason)
    return _("Your file contains a recipient error on line %(line)s: %(reason)s.") % {
        "line": line,
        "reason": label,
    }


def free_slot(account: SmsAccount) -> int | None:
    taken = set(RecipientList.objects.filter(account=account).values_list("slot", flat=True))
    return next((s for s in range(1, RecipientList.MAX_SLOTS + 1) if s not in taken), None)


def read_file(binary, region: str, progress: Callable[[int], None] | None = None):
    """(numbers [(E.164, region)], errors [{line, reason, value}], rejected count).
    Raises parsers.ImportFileError for a file that cannot be read at all. `progress(lines)`
    is called every PROGRESS_EVERY lines."""
    numbers: list[tuple[str, str]] = []
    errors: list[dict] = []
    rejected = 0
    contacts = parsers.ContactFile(binary)
    for count, (line, row) in enumerate(contacts, 1):
        if progress is not None and count % PROGRESS_EVERY == 0:
            progress(count)
        # Mobiles first: a `number` column is read as home_mobile.
        raw = next((row[f] for f in parsers.NUMBER_FIELDS if row.get(f)), "")
        if not raw:
            reason, value = NO_NUMBER, ""
        else:
            value = raw
            # validation.normalise_number without landlines, keeping the region it found.
            outcome = normalise(raw[1:] if raw[:1] == "'" else raw, region)
            if isinstance(outcome, Recipient):
                numbers.append((outcome.number, outcome.region))
                continue
            reason = outcome
        rejected += 1
        if len(errors) < RecipientList.MAX_ERRORS_KEPT:
            errors.append({"line": line, "reason": reason, "value": value[:100]})
    contacts.close()
    return numbers, errors, rejected


def _insert(rlist: RecipientList, numbers: list[tuple[str, str]]) -> None:
    for start in range(0, len(numbers), INSERT_BATCH):
        rows = [(rlist.pk, n, r) for n, r in numbers[start : start + INSERT_BATCH]]
        bulk.insert(RecipientListNumber, fields=("rlist", "number", "region"), rows=rows)


def list_create(
    *, account: SmsAccount, description: str, binary, slot: int | None = None
) -> RecipientList:
    """Read the file, then create the list in `slot` or the first free one. Raises ListFull
    (no free slot, or `slot` taken), ListError (no valid line: the message names the first bad
    one) or parsers.ImportFileError."""

    def slot_to_use() -> int | None:
        if slot is None:
            return free_slot(account)
        taken = RecipientList.objects.filter(account=account, slot=slot).exists()
        return None if taken else slot

    if slot is not None and not 1 <= slot <= 9:
        raise ListError(_("The slot must be a number from 1 to 9."))
    if slot_to_use() is None:
        raise ListFull(_full_message(slot))
    numbers, errors, rejected = read_file(binary, account.default_region)
    if not numbers:
        if errors:
            raise ListError(line_error_message(errors[0]["line"], errors[0]["reason"]))
        raise parsers.ImportFileError(parsers.NO_ROWS)  # pragma: no cover - parser raises it
    with transaction.atomic():
        # The account row serialises the slot choice between two uploads of the same account.
        SmsAccount.objects.select_for_update().filter(pk=account.pk).first()
        chosen = slot_to_use()
        if chosen is None:
            raise ListFull(_full_message(slot))
        rlist = RecipientList.objects.create(
            account=account,
            slot=chosen,
            description=description,
            records=len(numbers),
            report={"kind": "import", "rejected": rejected, "errors": errors},
        )
        _insert(rlist, numbers)
    return rlist


# --- panel uploads, read in the background --------------------------------------------------

# A list being read reports progress every few seconds; this long without news, its worker is
# gone. Waiting longer than WAITING_TOO_LONG without a worker, its task is presumed lost.
STALE_AFTER = timedelta(minutes=10)
WAITING_TOO_LONG = timedelta(minutes=2)
NO_VALID_LINE = "no_valid_line"
INTERNAL = "internal"


def list_upload(*, account: SmsAccount, description: str, upload) -> RecipientList:
    """Take the slot with a list whose file a worker reads (the page shows its progress).
    Raises ListFull. The task is queued once the row is committed."""
    with transaction.atomic():
        # The account row serialises the slot choice between two uploads of the same account.
        SmsAccount.objects.select_for_update().filter(pk=account.pk).first()
        slot = free_slot(account)
        if slot is None:
            raise ListFull(_full_message(None))
        rlist = RecipientList(
            account=account,
            slot=slot,
            description=description,
            status=RecipientList.Status.TODO,
            original_name=os.path.basename(upload.name or "")[:255],
            report={"kind": "import"},
        )
        extension = os.path.splitext(upload.name or "")[1].lower()[:5]
        rlist.file.save(f"{uuid.uuid4().hex}{extension}", upload, save=False)
        rlist.save()
        transaction.on_commit(lambda: _enqueue(rlist.pk))
    return rlist


def check_file_start(binary) -> None:
    """Refuse at once, in the form, what the worker would refuse on the first lines: an
    empty file, no number column, no line after the header. Rewinds the file."""
    contacts = parsers.ContactFile(binary)
    try:
        next(iter(contacts), None)  # the parser raises NO_ROWS for a file without data lines
    finally:
        contacts.close()
        binary.seek(0)


def _enqueue(list_id: int) -> None:
    """The list row is the record: a broker down only delays it to the recovery beat."""
    from .tasks import recipient_list_import

    try:
        recipient_list_import.delay(list_id)
    except Exception:  # noqa: BLE001 - any broker failure; the beat queues it again
        log.warning("recipient list %s: broker unavailable, queued by the next recovery", list_id)


def list_import_run(list_id: int) -> RecipientList | None:
    """Read an uploaded list's file (the task calls this). All or nothing: the numbers are
    inserted in one transaction, with the list marked ready. Safe to call twice; a list
    deleted meanwhile is left alone (None)."""
    with transaction.atomic():
        rlist = (
            RecipientList.objects.select_for_update()
            .select_related("account")
            .filter(pk=list_id)
            .first()
        )
        if rlist is None or rlist.status != RecipientList.Status.TODO:
            return rlist
        rlist.status = RecipientList.Status.DOING
        rlist.heartbeat_at = timezone.now()
        rlist.save(update_fields=["status", "heartbeat_at"])
    size = max(rlist.file.size, 1)
    try:
        with rlist.file.open("rb") as binary:

            def progress(lines: int) -> None:
                RecipientList.objects.filter(pk=rlist.pk).update(
                    lines_read=lines,
                    progress=min(99, binary.tell() * 100 // size),
                    heartbeat_at=timezone.now(),
                )

            numbers, errors, rejected = read_file(binary, rlist.account.default_region, progress)
        if not numbers:
            _import_failed(rlist, NO_VALID_LINE, None, errors)
            return rlist
        with transaction.atomic():
            if not RecipientList.objects.select_for_update().filter(pk=rlist.pk).exists():
                return None  # deleted while its file was read
            _insert(rlist, numbers)
            rlist.status = RecipientList.Status.DONE
            rlist.records = len(numbers)
            rlist.lines_read = len(numbers) + rejected
            rlist.progress = 100
            rlist.report = {"kind": "import", "rejected": rejected, "errors": errors}
            rlist.save()
    except parsers.ImportFileError as error:
        _import_failed(rlist, error.code, error.line, [])
    except Exception:
        log.exception("recipient list %s: import failed", list_id)
        _import_failed(rlist, INTERNAL, None, [])
        raise
    finally:
        _drop_file(rlist)
    return rlist


def _import_failed(rlist: RecipientList, code: str, line: int | None, errors: list) -> None:
    rlist.status = RecipientList.Status.ERROR
    rlist.report = {"kind": "import", "failure": code, "line": line, "errors": errors[:1]}
    rlist.save(update_fields=["status", "report"])


def _drop_file(rlist: RecipientList) -> None:
    # The numbers are in the database now (or the file was refused): the upload goes.
    if rlist.file:
        rlist.file.delete(save=False)
        RecipientList.objects.filter(pk=rlist.pk).update(file="")


def import_failure_message(report: dict) -> str:
    """Why an uploaded file made no list, for the list's page."""
    code = report.get("failure")
    if code == NO_VALID_LINE:
        first = (report.get("errors") or [None])[0]
        if first:
            return line_error_message(first["line"], first["reason"])
        return file_error_message(parsers.NO_ROWS)
    if code == INTERNAL:
        return _("The file could not be read because of an internal error. Try again.")
    return file_error_message(code, report.get("line"))


def lists_recover_stale(*, now=None) -> list[int]:
    """Queue again the uploads whose worker died and those whose task never came (beat)."""
    now = now or timezone.now()
    Status = RecipientList.Status
    stale = RecipientList.objects.filter(status=Status.DOING, heartbeat_at__lt=now - STALE_AFTER)
    ids = [pk for pk in stale.values_list("id", flat=True)
           if stale.filter(pk=pk).update(status=Status.TODO, heartbeat_at=now)]  # fmt: skip
    waiting = RecipientList.objects.annotate(
        queued_at=Coalesce("heartbeat_at", "created_at")
    ).filter(status=Status.TODO, queued_at__lt=now - WAITING_TOO_LONG)
    lost = list(waiting.values_list("id", flat=True))
    RecipientList.objects.filter(pk__in=lost).update(heartbeat_at=now)
    for list_id in ids + lost:
        transaction.on_commit(lambda list_id=list_id: _enqueue(list_id))
    return ids + lost


def _full_message(slot: int | None) -> str:
    if slot is None:
        return _("The maximum number of lists has been reached.")
    return _("The slot %(slot)s already holds a list.") % {"slot": slot}


def list_rename(rlist: RecipientList, description: str) -> None:
    """Raises ListError when the name does not fit."""
    limit = RecipientList._meta.get_field("description").max_length
    if len(description) > limit:
        raise ListError(_("The name cannot exceed %(limit)d characters.") % {"limit": limit})
    rlist.description = description
    rlist.save(update_fields=["description"])


def list_delete(rlist: RecipientList) -> None:
    with transaction.atomic():
        RecipientListNumber.objects.filter(rlist=rlist).delete()
        rlist.delete()
        if rlist.file:  # an upload not read yet
            name, storage = rlist.file.name, rlist.file.storage
            transaction.on_commit(lambda: storage.delete(name))


def _chunks(rlist: RecipientList, *fields: str) -> Iterator[list[tuple]]:
    last = 0
    while True:
        rows = list(
            RecipientListNumber.objects.filter(rlist=rlist, pk__gt=last)
            .order_by("pk")
            .values_list("pk", *fields)[:READ_CHUNK]
        )
        if not rows:
            return
        last = rows[-1][0]
        yield rows


def first_numbers(rlist: RecipientList, count: int = 10) -> list[str]:
    return list(
        RecipientListNumber.objects.filter(rlist=rlist)
        .order_by("pk")
        .values_list("number", flat=True)[:count]
    )


def list_rows(rlist: RecipientList) -> Iterator[str]:
    """Every stored number in order, duplicates included (the export)."""
    for rows in _chunks(rlist, "number"):
        for _pk, number in rows:
            yield number


def list_numbers(rlist: RecipientList) -> Iterator[str]:
    """Every number of the list once, E.164, in file order (for sending)."""
    seen: set[str] = set()
    for rows in _chunks(rlist, "number"):
        for _pk, number in rows:
            if number not in seen:
                seen.add(number)
                yield number


def list_clean(rlist: RecipientList) -> dict:
    """The free cleaning: duplicates and numbers no longer valid are removed. Returns the
    report {"kind", "duplicates", "invalid", "errors": [{number, reason}]}, also stored."""
    region = rlist.account.default_region
    seen: set[str] = set()
    doomed: list[int] = []
    duplicates = invalid = 0
    errors: list[dict] = []
    for rows in _chunks(rlist, "number"):
        for pk, number in rows:
            outcome = validation.normalise_number(number, False, region)
            if outcome[:1] != "+":
                invalid += 1
                reason = outcome
            elif outcome in seen:
                duplicates += 1
                reason = DUPLICATE
            else:
                seen.add(outcome)
                continue
            doomed.append(pk)
            if len(errors) < RecipientList.MAX_ERRORS_KEPT:
                errors.append({"number": number, "reason": reason})
    report = {"kind": "clean", "duplicates": duplicates, "invalid": invalid, "errors": errors}
    with transaction.atomic():
        for start in range(0, len(doomed), READ_CHUNK):
            RecipientListNumber.objects.filter(pk__in=doomed[start : start + READ_CHUNK]).delete()
        rlist.records = RecipientListNumber.objects.filter(rlist=rlist).count()
        rlist.report = report
        rlist.save(update_fields=["records", "report"])
    return report
