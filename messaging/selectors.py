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
from django.db import connection
from django.db.models import QuerySet

from accounts.models import DestinationRate
from accounts.selectors import rates_for
from addressbooks.lists import list_numbers
from addressbooks.models import Contact, RecipientListNumber
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
    each with its source. Stored numbers were checked when they entered (as stored_summary
    says): only those of shared calling codes are checked again."""
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
            stored=True,
        )
    for book in books:
        parsed.add(book_contacts(book), account.default_region, f"book:{book.pk}", stored=True)
    for rlist in lists:
        parsed.add(
            list_numbers(rlist), account.default_region, f"list:{rlist.slot}", stored=True
        )
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


# --- The estimate over stored numbers -------------------------------------------------------------


@dataclass
class StoredSummary:
    """What the chosen books and lists add to a send, counted in SQL (see stored_summary)."""

    # (region, name, surname, group, how many numbers, the numbers' start as shown)
    groups: list = field(default_factory=list)
    stoplisted: int = 0
    duplicates: int = 0  # numbers already given by an earlier source, as ParsedRecipients counts
    invalid: list = field(default_factory=list)  # [number, reason]


def _ambiguous_codes(rates: Mapping[str, object]) -> list[str]:
    """"+<code>" of the calling codes shared by countries whose rates differ (+1, +7, +44…):
    those numbers need their own country, found per number as job_submit finds it."""
    return [
        f"+{code}"
        for code, regions in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items()
        if len(regions) > 1 and len({rates.get(r) for r in regions}) > 1
    ]


def _region_of_prefix(prefix: str) -> str:
    """The country of "+<code>…" for a calling code that is not ambiguous (prefix-free codes)."""
    for length in (1, 2, 3):
        regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(int(prefix[1 : 1 + length] or 0))
        if regions:
            return regions[0]
    return ""


def stored_summary(
    *, account, books=(), lists=(), exclude=(), fields: tuple[str, ...] = ()
) -> StoredSummary:
    """The distinct numbers of these books (mobile numbers) and recipient lists that are not in
    `exclude` (the typed numbers and chosen contacts, which come first), grouped by country and,
    for personalised messages, by the personalisation `fields` of the contact each number is
    taken from — the first one in sending order (books in the order given, then contacts by id,
    home mobile before work mobile, then lists), as collect_recipients takes them.

    Counted by the database (a few queries whatever the size): nothing is loaded per contact.
    Stored numbers were checked when they entered (import, form, API); numbers under a calling
    code whose countries have different rates are read one by one and checked again."""
    books, lists = list(books), list(lists)
    if not books and not lists:
        return StoredSummary()
    rates = dict(DestinationRate.objects.values_list("country", "credits_per_segment"))
    q = connection.ops.quote_name
    contact, entry = Contact._meta, RecipientListNumber._meta
    stop = StopListEntry._meta

    def col(meta, name):
        return q(meta.get_field(name).column)

    parts, params = [], []
    names = ("name", "surname", "group")
    for rank, book in enumerate(books):
        for order, number_field in enumerate(("home_mobile", "work_mobile")):
            cells = ", ".join(col(contact, f) for f in names)
            parts.append(
                f"SELECT {col(contact, number_field)} AS num, {rank} AS src, "
                f"{col(contact, 'id')} * 2 + {order} AS ord, {cells} "
                f"FROM {q(contact.db_table)} WHERE {col(contact, 'book')} = %s "
                f"AND {col(contact, number_field)} <> ''"
            )
            params.append(book.pk)
    for rank, rlist in enumerate(lists, start=len(books)):
        parts.append(
            f"SELECT {col(entry, 'number')} AS num, {rank} AS src, {col(entry, 'id')} AS ord, "
            f"'' AS name, '' AS surname, '' AS grp FROM {q(entry.db_table)} "
            f"WHERE {col(entry, 'rlist')} = %s"
        )
        params.append(rlist.pk)
    source = " UNION ALL ".join(parts)
    exclude = list(exclude)
    given = f"num IN ({', '.join(['%s'] * len(exclude))})" if exclude else "1 = 0"
    stoplist = (
        f"SELECT {col(stop, 'number')} FROM {q(stop.db_table)} WHERE {col(stop, 'account')} = %s"
    )
    ambiguous = _ambiguous_codes(rates)
    tests = " OR ".join(f"substr(num, 1, {len(code)}) = %s" for code in ambiguous) or "1 = 0"
    bucket = f"CASE WHEN {tests} THEN num ELSE substr(num, 1, 4) END"
    # One pass: each distinct number once, with how many sources give it (all but the first
    # make duplicates, as ParsedRecipients.add counts them), whether the typed numbers or
    # contacts gave it already, whether it is STOP-listed.
    per_number = (
        f"SELECT num, COUNT(DISTINCT src) AS nsrc, "
        f"CASE WHEN {given} THEN 1 WHEN num IN ({stoplist}) THEN 2 ELSE 0 END AS fate "
        f"FROM ({source}) s GROUP BY num"
    )
    summary = StoredSummary()
    with connection.cursor() as cursor:
        # Parameters in the order their placeholders appear.
        cursor.execute(
            f"SELECT {bucket} AS bucket, fate, COUNT(*), SUM(nsrc) FROM ({per_number}) g "
            f"GROUP BY {bucket}, fate",
            [*ambiguous, *exclude, account.pk, *params, *ambiguous],
        )
        rows = []
        for bucket_value, fate, n, sources in cursor.fetchall():
            sources = int(sources)  # PostgreSQL's SUM of counts is a numeric (a Decimal)
            if fate == 1:  # given already by a typed number or a contact
                summary.duplicates += sources
                continue
            summary.duplicates += sources - n
            if fate == 2:
                summary.stoplisted += n
            else:
                rows.append((bucket_value, n))
        if fields and rows:
            # Each number is sent with the fields of its first row in sending order.
            kept = ", ".join(("name", "surname", "grp")[names.index(f)] for f in fields)
            cursor.execute(
                f"SELECT {bucket} AS bucket, {kept}, COUNT(*) FROM (SELECT num, {kept}, "
                f"ROW_NUMBER() OVER (PARTITION BY num ORDER BY src, ord) AS rn FROM ({source}) s"
                f") f WHERE rn = 1 AND NOT ({given}) AND num NOT IN ({stoplist}) "
                f"GROUP BY {bucket}, {kept}",
                [*ambiguous, *params, *exclude, account.pk, *ambiguous],
            )
            rows = [(b, *rest) for b, *rest in cursor.fetchall()]
    for bucket_value, *rest in rows:
        n = rest[-1]
        values = dict(zip(fields, rest[:-1], strict=True)) if fields else {}
        if len(bucket_value) > 4 and any(bucket_value.startswith(c) for c in ambiguous):
            outcome = recipients.normalise(bucket_value, account.default_region)
            if isinstance(outcome, str):
                summary.invalid.append([bucket_value, outcome])
                continue
            region = outcome.region
        else:
            region = _region_of_prefix(bucket_value)
        summary.groups.append((region, values.get("name", ""), values.get("surname", ""),
                               values.get("group", ""), n, bucket_value))  # fmt: skip
    return summary


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
