"""The outgoing SMS history (OVH `sms.Outgoing`): filters, keyset pages and the CSV export.

Pages walk the (account, -id) index: a page is "the 50 rows below (or above) this id", never
an OFFSET, and nothing counts the whole table, so the cost does not grow with the history.
"""

import csv
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import phonenumbers
from django import forms
from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from django.shortcuts import render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.access import account_view
from addressbooks.parsers import escape_cell
from senders.models import Sender

from . import recipients
from .models import OutgoingMessage, SmsJob

PARIS = ZoneInfo("Europe/Paris")
PAGE_SIZE = 50
EXPORT_CHUNK = 2000
# The filter value that selects the short number (jobs without a sender label).
SHORT_NUMBER = "-"
MAX_ID = 2**63 - 1  # larger numbers overflow the databases' integers

# Only what the table shows: a job's message can be long, its other columns are not needed.
_PAGE_COLUMNS = (
    "id",
    "receiver",
    "parts",
    "credits",
    "status",
    "error_code",
    "created_at",
    "submitted_at",
    "delivered_at",
    "job_id",
    "job__sender_label",
    "job__message",
    "job__tag",
)


class HistoryFilterForm(forms.Form):
    date_from = forms.DateField(
        label=gettext_lazy("From"),
        required=False,
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
    )
    date_to = forms.DateField(
        label=gettext_lazy("To"),
        required=False,
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
    )
    receiver = forms.CharField(
        label=gettext_lazy("Recipient"),
        required=False,
        max_length=32,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "+336…"}),
    )
    sender = forms.CharField(label=gettext_lazy("Sender"), required=False, max_length=16)
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        required=False,
        choices=[("", gettext_lazy("All"))] + OutgoingMessage.Status.choices,
    )
    tag = forms.CharField(label=gettext_lazy("Tag"), required=False, max_length=64)
    job = forms.IntegerField(
        label=gettext_lazy("Send #"), required=False, min_value=1, max_value=MAX_ID
    )


_NOISE = re.compile(r"[\s.\-()/]")


def receiver_match(value: str, default_region: str) -> tuple[str, str] | None:
    """("exact", E.164) for a whole valid number, ("prefix", "+336…") for the start of one;
    None when the value cannot match any stored number. A national start ("06") is read in
    the account's country."""
    outcome = recipients.normalise(value, default_region)
    if isinstance(outcome, recipients.Recipient):
        return "exact", outcome.number
    compact = _NOISE.sub("", value)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    elif compact.startswith("0"):
        code = phonenumbers.country_code_for_region(default_region)
        compact = f"+{code}{compact[1:]}" if code else compact
    elif compact and not compact.startswith("+"):
        compact = "+" + compact
    if not re.fullmatch(r"\+[0-9]{0,15}", compact):
        return None
    return "prefix", compact


def _prefix_end(prefix: str) -> str | None:
    """The first number string after every one starting with `prefix`: "+3369" → "+337".

    Digits only, so the range holds under any collation (a linguistic one may ignore
    punctuation such as ":", the character after "9"). None when no such string exists."""
    digits = prefix[1:].rstrip("9")
    if not digits:
        return None
    return "+" + digits[:-1] + str(int(digits[-1]) + 1)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=PARIS)


def filtered_messages(account, filters: dict) -> QuerySet:
    """The account's messages matching the cleaned filters (any subset of the form's fields)."""
    qs = OutgoingMessage.objects.filter(account=account)
    if filters.get("date_from"):
        qs = qs.filter(created_at__gte=_day_start(filters["date_from"]))
    if filters.get("date_to"):
        qs = qs.filter(created_at__lt=_day_start(filters["date_to"] + timedelta(days=1)))
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    if filters.get("job"):
        qs = qs.filter(job_id=filters["job"])
    if filters.get("receiver"):
        match = receiver_match(filters["receiver"], account.default_region)
        if match is None:
            return qs.none()
        kind, number = match
        if kind == "exact":
            qs = qs.filter(receiver=number)
        elif number != "+":
            # A range rather than LIKE: it can use an index on any database and collation.
            qs = qs.filter(receiver__gte=number)
            if upper := _prefix_end(number):
                qs = qs.filter(receiver__lt=upper)
    job_filters = {}
    if filters.get("sender"):
        job_filters["sender_label"] = "" if filters["sender"] == SHORT_NUMBER else filters["sender"]
    if filters.get("tag"):
        job_filters["tag"] = filters["tag"]
    if job_filters:
        jobs = SmsJob.objects.filter(account=account, **job_filters)
        qs = qs.filter(job_id__in=jobs.values("id"))
    return qs


@dataclass
class KeysetPage:
    rows: list = field(default_factory=list)
    next_before: int | None = None  # "Next" (older rows): ?before=<this id>
    previous_after: int | None = None  # "Previous" (newer rows): ?after=<this id>
    first: bool = True  # the newest rows: no "Latest" link


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


def _cursor(request: HttpRequest, name: str) -> int | None:
    try:
        value = int(request.GET.get(name, ""))
    except ValueError:
        return None
    return value if 0 <= value <= MAX_ID else None


def _filters(request: HttpRequest) -> tuple[HistoryFilterForm, dict]:
    form = HistoryFilterForm(request.GET)
    form.is_valid()  # invalid fields are shown with their error and left out of the query
    return form, {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}


@account_view
def history(request: HttpRequest):
    account = request.account
    form, filters = _filters(request)
    qs = filtered_messages(account, filters).select_related("job").only(*_PAGE_COLUMNS)
    page = keyset_page(qs, before=_cursor(request, "before"), after=_cursor(request, "after"))
    context = {
        "account": account,
        "form": form,
        "page": page,
        "filtered": bool(filters),
        "short_number": SHORT_NUMBER,
        "senders": Sender.objects.filter(account=account).values_list("sender", flat=True),
        "tab": "history",
    }
    return render(request, "messaging/history.html", context)


# --- CSV export -------------------------------------------------------------------------------

_E164 = re.compile(r"\+[0-9]{1,15}")


def csv_cell(value) -> str:
    """A cell a spreadsheet shows as text: one starting like a formula gets a leading quote.

    A bare E.164 number ("+33612345678") is left alone: it can only ever read as a number.
    """
    text = "" if value is None else str(value)
    return text if _E164.fullmatch(text) else escape_cell(text)


class _Echo:
    def write(self, value):
        return value


def _when(value) -> str:
    return timezone.localtime(value, PARIS).strftime("%Y-%m-%d %H:%M:%S") if value else ""


_EXPORT_COLUMNS = (
    "id",
    "created_at",
    "receiver",
    "job__sender_label",
    "job__message",
    "job__tag",
    "parts",
    "credits",
    "status",
    "submitted_at",
    "delivered_at",
    "error_code",
    "job_id",
)


def export_rows(account, filters: dict, chunk: int = EXPORT_CHUNK):
    """The header, then every matching message newest first, read by keyset chunks.

    Labels and the decimal separator are read here, while the request's language is active:
    the rows are produced later, as the response streams.
    """
    header = [
        _("Id"),
        _("Date"),
        _("Recipient"),
        _("Sender"),
        _("Message"),
        _("Tag"),
        _("SMS"),
        _("Credits"),
        _("Status"),
        _("Sent at"),
        _("Delivered at"),
        _("Error"),
        _("Send #"),
    ]
    statuses = {value: str(label) for value, label in OutgoingMessage.Status.choices}
    short_number = _("Short number")
    decimal_separator = formats.get_format("DECIMAL_SEPARATOR")
    qs = filtered_messages(account, filters).order_by("-id")

    def rows():
        yield header
        before = None
        while True:
            part = qs if before is None else qs.filter(id__lt=before)
            batch = list(part.values_list(*_EXPORT_COLUMNS)[:chunk])
            for pk, created, receiver, label, message, tag, parts, credits, status, *rest in batch:
                submitted, delivered, error, job_id = rest
                yield [
                    pk,
                    _when(created),
                    receiver,
                    label or short_number,
                    message,
                    tag,
                    parts,
                    f"{credits:.2f}".replace(".", decimal_separator),
                    statuses.get(status, status),
                    _when(submitted),
                    _when(delivered),
                    error,
                    job_id,
                ]
            if len(batch) < chunk:
                return
            before = batch[-1][0]

    return rows()


def stream_csv(rows, filename: str, escape=csv_cell) -> StreamingHttpResponse:
    """`;`-separated, UTF-8 with a BOM (spreadsheets then read it as UTF-8), each cell passed
    through `escape` (formula-safe by default)."""
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


def export_stamp() -> str:
    return timezone.localtime(timezone.now(), PARIS).strftime("%Y%m%d-%H%M")


@account_view
def history_export(request: HttpRequest):
    account = request.account
    _form, filters = _filters(request)
    return stream_csv(
        export_rows(account, filters), f"{account.name}-outgoing-{export_stamp()}.csv"
    )
