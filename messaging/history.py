"""The outgoing SMS history (OVH `sms.Outgoing`): the filtered page and the CSV export.

The reads are in messaging.selectors (filters and keyset pages).
"""

from django.http import HttpRequest
from django.shortcuts import render
from django.utils import formats
from django.utils.translation import gettext as _

from accounts.access import account_view
from core.csv_export import export_stamp, paris_time, stream_csv
from senders.models import Sender

from .forms import HistoryFilterForm
from .models import OutgoingMessage, SmppPart
from .selectors import SHORT_NUMBER, cursors, filtered_messages, keyset_page

EXPORT_CHUNK = 2000

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
    "possible_duplicate",
    "route_id",
    "job_id",
    "job__sender_label",
    "job__message",
    "job__tag",
    "job__campaign__name",
    "job__campaign__uuid",
    "text",
)


@account_view
def history(request: HttpRequest):
    account = request.account
    form = HistoryFilterForm(request.GET)
    filters = form.filters()
    qs = (
        filtered_messages(account, filters)
        .select_related("job", "job__campaign")
        .only(*_PAGE_COLUMNS)
    )
    page = keyset_page(qs, **cursors(request.GET))
    _with_part_receipts(page.rows)
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


def _with_part_receipts(rows) -> None:
    """Messages sent over SMPP get a receipt per part: `parts_delivered` counts them (one
    query for the page, and none when no message on it went through a route)."""
    delivered: dict[int, int] = {}
    routed = [m.id for m in rows if m.route_id is not None]
    if routed:
        reported = SmppPart.objects.filter(message_id__in=routed).exclude(stat="")
        for message_id, stat in reported.values_list("message_id", "stat"):
            delivered[message_id] = delivered.get(message_id, 0) + (stat == "DELIVRD")
    for m in rows:
        m.parts_delivered = delivered.get(m.id)  # None: no receipt per part


# --- CSV export -------------------------------------------------------------------------------

_EXPORT_COLUMNS = (
    "id",
    "created_at",
    "receiver",
    "job__sender_label",
    "job__message",
    "text",
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
        _("Report received at"),
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
            for pk, created, receiver, label, message, own, tag, parts, credits, *rest in batch:
                status, submitted, delivered, error, job_id = rest
                yield [
                    pk,
                    paris_time(created),
                    receiver,
                    label or short_number,
                    own or message,  # what this recipient received (personalised text)
                    tag,
                    parts,
                    f"{credits:.2f}".replace(".", decimal_separator),
                    statuses.get(status, status),
                    paris_time(submitted),
                    paris_time(delivered),
                    error,
                    job_id,
                ]
            if len(batch) < chunk:
                return
            before = batch[-1][0]

    return rows()


@account_view
def history_export(request: HttpRequest):
    account = request.account
    filters = HistoryFilterForm(request.GET).filters()
    return stream_csv(
        export_rows(account, filters), f"{account.name}-outgoing-{export_stamp()}.csv"
    )
