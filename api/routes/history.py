"""/sms/{serviceName}/document and users/{login}/document: the sent or received history as a CSV
document of /me/document (its id is the answer; the file is read from its getUrl)."""

import csv
from datetime import datetime

from core.csv_export import csv_cell, paris_time

from .. import services
from .base import between
from .outgoing import DELIVERY_RECEIPT, PTT

CHUNK = 2000
_SENT = ("id", "creationDatetime", "sentAt", "deliveredAt", "receiver", "sender", "message",
         "numberOfSms", "credits", "ptt", "deliveryReceipt", "tag")  # fmt: skip
_RECEIVED = ("id", "creationDatetime", "sender", "message", "tag")


class _Line:
    def write(self, value):
        return value


def csv_lines(header, rows):
    writer = csv.writer(_Line(), delimiter=";", lineterminator="\r\n")
    yield "\ufeff" + writer.writerow(header)
    for row in rows:
        yield writer.writerow([csv_cell(cell) for cell in row])


def _sent_rows(qs):
    qs = qs.select_related("job").only(
        "id", "created_at", "submitted_at", "delivered_at", "receiver", "text", "parts",
        "credits", "status", "job__sender_label", "job__message", "job__tag",
    ).order_by("id")  # fmt: skip
    for m in qs.iterator(chunk_size=CHUNK):
        yield (m.pk, paris_time(m.created_at), paris_time(m.submitted_at),
               paris_time(m.delivered_at), m.receiver, m.job.sender_label,
               m.text or m.job.message, m.parts, m.credits, PTT.get(m.status, 0),
               DELIVERY_RECEIPT.get(m.status, 0), m.job.tag)  # fmt: skip


def _received_rows(qs):
    for r in qs.order_by("id").iterator(chunk_size=CHUNK):
        yield r.pk, paris_time(r.received_at), r.sender, r.text, r.tag


def history_document(request, *, way: str, sent_qs, received_qs, tag: str | None,
                     date_from: datetime | None, date_to: datetime | None) -> str:  # fmt: skip
    """Write the filtered history to a new document of the key's application; its id."""
    if way == "outgoing":
        qs = between(sent_qs, "created_at", date_from, date_to)
        if tag is not None:
            qs = qs.filter(job__tag=tag)
        chunks = csv_lines(_SENT, _sent_rows(qs))
    else:
        qs = between(received_qs, "received_at", date_from, date_to)
        if tag is not None:
            qs = qs.filter(tag=tag)
        chunks = csv_lines(_RECEIVED, _received_rows(qs))
    doc = services.document_with_content(
        application=request.auth.application, name=f"{way}.csv", chunks=chunks
    )
    return str(doc.pk)

