"""Reads of the messaging app that views, services and the API share: the recipients of a send,
the history and replies filters, keyset pages.

Pages walk an (account, -id) index: a page is "the 50 rows below (or above) this id", never an
OFFSET, and nothing counts the whole table, so the cost does not grow with the history.
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

import phonenumbers
from django.db.models import QuerySet

from accounts.selectors import rates_for
from addressbooks.lists import list_numbers
from addressbooks.services import book_contacts
from core import recipients
from core.dates import day_start

from .models import IncomingMessage, OutgoingMessage, SmsJob, StopListEntry

PAGE_SIZE = 50
MAX_ID = 2**63 - 1  # larger numbers overflow the databases' integers
# The history's sender filter value that selects the short number (jobs without a label).
SHORT_NUMBER = "-"

# --- Recipients of a send ---------------------------------------------------------------------


def collect_recipients(
    *, account, typed: str, books=(), lists=(), contacts=()
) -> recipients.ParsedRecipients:
    """Typed numbers, then the chosen contacts, then the mobile numbers of the chosen books (with
    the contacts' names for personalisation), then the chosen recipient lists; deduplicated,
    each with its source."""
    parsed = recipients.parse(typed, account.default_region)
    for contact in contacts:
        parsed.add(
            [
                (number, contact.name, contact.surname, contact.group)
                for number in (contact.home_mobile, contact.work_mobile)
                if number
            ],
            account.default_region,
            f"contact:{contact.pk}",
        )
    for book in books:
        parsed.add(book_contacts(book), account.default_region, f"book:{book.pk}")
    for rlist in lists:
        parsed.add(list_numbers(rlist), account.default_region, f"list:{rlist.slot}")
    return parsed


@dataclass
class Served:
    """The recipients a send can reach, and the rates it will charge them."""

    rates: dict  # country -> credits per segment
    recipients: list  # the valid recipients whose country has a rate, in order
    unserved: list  # [number, "no_rate"] for the valid ones whose country has none


def recipients_served(valid: Iterable[recipients.Recipient]) -> Served:
    """Split valid recipients by whether their country has a destination rate: one query."""
    valid = list(valid)
    rates = rates_for(r.region for r in valid)
    served, unserved = [], []
    for recipient in valid:
        if recipient.region in rates:
            served.append(recipient)
        else:
            unserved.append([recipient.number, "no_rate"])
    return Served(rates=rates, recipients=served, unserved=unserved)


# --- Filters ------------------------------------------------------------------------------------

def number_match(value: str, default_region: str) -> tuple[str, str] | None:
    """("exact", E.164) for a whole valid number, ("prefix", "+336…") for the start of one;
    None when the value cannot match any stored number. A national start ("06") is read in
    the account's country."""
    outcome = recipients.normalise(value, default_region)
    if isinstance(outcome, recipients.Recipient):
        return "exact", outcome.number
    compact = recipients.compact(value)
    if compact.startswith("0"):
        code = phonenumbers.country_code_for_region(default_region)
        compact = f"+{code}{compact[1:]}" if code else compact
    elif compact and not compact.startswith("+"):
        compact = "+" + compact
    if not re.fullmatch(r"\+[0-9]{0,15}", compact):
        return None
    return "prefix", compact


def prefix_end(prefix: str) -> str | None:
    """The first number string after every one starting with `prefix`: "+3369" → "+337".

    Digits only, so the range holds under any collation (a linguistic one may ignore
    punctuation such as ":", the character after "9"). None when no such string exists."""
    digits = prefix[1:].rstrip("9")
    if not digits:
        return None
    return "+" + digits[:-1] + str(int(digits[-1]) + 1)


def with_number(qs: QuerySet, field_name: str, value: str, default_region: str) -> QuerySet:
    """Rows whose E.164 `field_name` is the number typed, or starts with it (+336…, 06…)."""
    if not value:
        return qs
    match = number_match(value, default_region)
    if match is None:
        return qs.none()
    kind, number = match
    if kind == "exact":
        return qs.filter(**{field_name: number})
    if number == "+":
        return qs
    # A range rather than LIKE: it can use an index on any database and collation.
    qs = qs.filter(**{f"{field_name}__gte": number})
    if upper := prefix_end(number):
        qs = qs.filter(**{f"{field_name}__lt": upper})
    return qs


def in_days(
    qs: QuerySet, field_name: str, date_from: date | None = None, date_to: date | None = None
) -> QuerySet:
    """Rows whose `field_name` falls between the two Paris days, both included."""
    if date_from:
        qs = qs.filter(**{f"{field_name}__gte": day_start(date_from)})
    if date_to:
        qs = qs.filter(**{f"{field_name}__lt": day_start(date_to + timedelta(days=1))})
    return qs


def filtered_messages(account, filters: Mapping) -> QuerySet:
    """The account's messages matching the cleaned history filters (any subset of them)."""
    qs = OutgoingMessage.objects.filter(account=account)
    qs = in_days(qs, "created_at", filters.get("date_from"), filters.get("date_to"))
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    if filters.get("job"):
        qs = qs.filter(job_id=filters["job"])
    qs = with_number(qs, "receiver", filters.get("receiver", ""), account.default_region)
    job_filters = {}
    if filters.get("sender"):
        job_filters["sender_label"] = "" if filters["sender"] == SHORT_NUMBER else filters["sender"]
    if filters.get("tag"):
        job_filters["tag"] = filters["tag"]
    if job_filters:
        jobs = SmsJob.objects.filter(account=account, **job_filters)
        qs = qs.filter(job_id__in=jobs.values("id"))
    return qs


def received_messages(account, filters: Mapping) -> QuerySet:
    """The account's received SMS matching the cleaned filters (number, date_from, date_to)."""
    qs = IncomingMessage.objects.filter(account=account).select_related("outgoing")
    qs = in_days(qs, "received_at", filters.get("date_from"), filters.get("date_to"))
    return with_number(qs, "sender", filters.get("number", ""), account.default_region)


def stoplist_entries(account, filters: Mapping) -> QuerySet:
    """The account's STOP list entries matching the cleaned search (number)."""
    qs = StopListEntry.objects.filter(account=account)
    return with_number(qs, "number", filters.get("number", ""), account.default_region)


# --- Keyset pages -------------------------------------------------------------------------------


@dataclass
class KeysetPage:
    rows: list = field(default_factory=list)
    next_before: int | None = None  # "Next" (older rows): ?before=<this id>
    previous_after: int | None = None  # "Previous" (newer rows): ?after=<this id>
    first: bool = True  # the newest rows: no "Latest" link


def cursors(params: Mapping) -> dict:
    """`before` and `after` from a query string, ignored when they are not ids."""
    found = {}
    for name in ("before", "after"):
        try:
            value = int(params.get(name, ""))
        except ValueError:
            continue
        if 0 <= value <= MAX_ID:
            found[name] = value
    return found


def keyset_page(
    qs: QuerySet, *, before: int | None = None, after: int | None = None, size: int = PAGE_SIZE
) -> KeysetPage:
    """Newest first. `before`: the rows just older than that id; `after`: the rows just newer.

    One query per page. Whether there is a page on the side we came from is not checked
    (the id we came from is there); a page reached with `after` that is not full is the
    first page, shown whole.
    """
    if after is not None:
        rows = list(qs.filter(id__gt=after).order_by("id")[: size + 1])
        if len(rows) <= size:
            return keyset_page(qs, size=size)
        rows = rows[:size][::-1]
        return KeysetPage(rows, next_before=rows[-1].id, previous_after=rows[0].id, first=False)
    if before is not None:
        qs = qs.filter(id__lt=before)
    rows = list(qs.order_by("-id")[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return KeysetPage(
        rows,
        next_before=rows[-1].id if more else None,
        previous_after=rows[0].id if before is not None and rows else None,
        first=before is None,
    )
