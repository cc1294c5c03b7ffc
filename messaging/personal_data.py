"""Personal data of one phone number within an SMS account: what the account holds about it
(export) and its erasure, across address books, recipient lists, sent and received SMS, number
lookups and the STOP list.

Erasure deletes the contacts holding the number, its recipient-list entries, the replies it
sent and its number lookups, and anonymises the SMS sent to it (the rows stay for the credits
ledger and the statistics; the number and any text written for it are removed). The STOP list
entry is kept: honouring the person's objection to messages requires remembering the number,
and the export says so. Messages still being sent are not touched: erasure waits for them.
"""

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from accounts import audit
from addressbooks.models import Contact, RecipientList, RecipientListNumber
from addressbooks.parsers import NUMBER_FIELDS
from addressbooks.services import contacts_delete
from core.recipients import normalise

from . import held
from .models import HlrLookup, IncomingMessage, OutgoingMessage, ShortLink, StopListEntry


class StillSending(Exception):
    """Messages to this number are still on their way; nothing was erased."""


def number_parse(raw: str, default_region: str) -> str | None:
    """E.164 of what was typed (landlines included: address books hold them), or None."""
    found = normalise(raw, default_region, allow_landline=True)
    return None if isinstance(found, str) else found.number


def _contacts(account, number):
    holds = Q()
    for field in NUMBER_FIELDS:
        holds |= Q(**{field: number})
    return Contact.objects.filter(book__account=account).filter(holds).select_related("book")


def _outgoing(account, number):
    return OutgoingMessage.objects.filter(account=account, receiver=number).select_related("job")


@dataclass
class NumberData:
    number: str
    contacts: list
    list_entries: list
    sent: list
    received: list
    lookups: list
    stop_entry: StopListEntry | None

    @property
    def empty(self) -> bool:
        return not (
            self.contacts
            or self.list_entries
            or self.sent
            or self.received
            or self.lookups
            or self.stop_entry
        )


def number_data(*, account, number: str) -> NumberData:
    return NumberData(
        number=number,
        contacts=list(_contacts(account, number)),
        list_entries=list(
            RecipientListNumber.objects.filter(rlist__account=account, number=number)
            .select_related("rlist")
            .order_by("rlist__slot")
        ),
        sent=list(_outgoing(account, number).order_by("id")),
        received=list(
            IncomingMessage.objects.filter(account=account, sender=number).order_by("id")
        ),
        lookups=list(HlrLookup.objects.filter(account=account, number=number).order_by("id")),
        stop_entry=StopListEntry.objects.filter(account=account, number=number).first(),
    )


def number_export(data: NumberData) -> dict:
    """Everything the account holds about the number, as JSON-ready data."""
    stop = data.stop_entry
    clicks: dict[int, int] = {}
    for job_id, n in ShortLink.objects.filter(
        job_id__in=[m.job_id for m in data.sent], receiver=data.number
    ).values_list("job_id", "clicks"):
        clicks[job_id] = clicks.get(job_id, 0) + n
    return {
        "number": data.number,
        "contacts": [
            {
                "address_book": c.book.name,
                "surname": c.surname,
                "first_name": c.name,
                "company": c.group,
                "numbers": {f: getattr(c, f) for f in NUMBER_FIELDS if getattr(c, f)},
                "created_at": c.created_at.isoformat(),
            }
            for c in data.contacts
        ],
        "recipient_lists": [
            {"slot": e.rlist.slot, "name": e.rlist.description} for e in data.list_entries
        ],
        "sms_sent": [
            {
                "id": m.pk,
                "created_at": m.created_at.isoformat(),
                "text": m.text or m.job.message,
                "status": m.status,
                "delivered_at": m.delivered_at.isoformat() if m.delivered_at else None,
                "link_clicks": clicks.get(m.job_id, 0),
            }
            for m in data.sent
        ],
        "sms_received": [
            {"received_at": m.received_at.isoformat(), "text": m.text} for m in data.received
        ],
        "number_lookups": [
            {"created_at": h.created_at.isoformat(), "status": h.status} for h in data.lookups
        ],
        "stop_list": (
            {
                "since": stop.created_at.isoformat(),
                "note": _(
                    "Kept after an erasure: the number's objection to messages must be "
                    "honoured, which requires remembering it."
                ),
            }
            if stop
            else None
        ),
    }


def number_erase(*, account, number: str, request=None) -> dict[str, int]:
    """Erase the number from the account (see the module's docstring). Raises StillSending
    when messages to it are not final yet. Returns the count of rows changed per kind."""
    with transaction.atomic():
        sent = _outgoing(account, number)
        if sent.filter(status__in=OutgoingMessage.IN_FLIGHT).exists() or held.holds_number(
            account, number
        ):
            raise StillSending
        # Through the address books' service, which keeps each book's contact count.
        by_book: dict = {}
        for contact in _contacts(account, number):
            by_book.setdefault(contact.book, []).append(contact.pk)
        entries = RecipientListNumber.objects.filter(rlist__account=account, number=number)
        lists = set(entries.values_list("rlist_id", flat=True))
        counts = {
            "contacts": sum(contacts_delete(book, ids) for book, ids in by_book.items()),
            "list_entries": entries.delete()[0],
            "received": IncomingMessage.objects.filter(account=account, sender=number).delete()[0],
            "lookups": HlrLookup.objects.filter(account=account, number=number).delete()[0],
        }
        for rlist_id in lists:  # the lists' record counts, as addressbooks.lists keeps them
            RecipientList.objects.filter(pk=rlist_id).update(
                records=RecipientListNumber.objects.filter(rlist_id=rlist_id).count()
            )
        # (job, receiver) is unique: each anonymised row gets a placeholder of its own.
        ids = list(sent.values_list("pk", "job_id"))
        for pk, job_id in ids:
            placeholder = f"erased-{pk}" if pk < 10**9 else f"~{pk}"
            OutgoingMessage.objects.filter(pk=pk).update(receiver=placeholder, text="")
            # A campaign's links of that message follow it (clicks stay counted, anonymously).
            ShortLink.objects.filter(job_id=job_id, receiver=number).update(receiver=placeholder)
        counts["sent"] = len(ids)
        audit.record(
            audit.Action.PERSONAL_DATA_ERASED,
            request=request,
            account=account,
            detail=", ".join(f"{k} {v}" for k, v in counts.items()),
        )
    return counts
