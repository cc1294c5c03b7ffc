"""« SMS reçus » (replies) and « Liste STOP » (numbers that opted out) of an account.

The reads are in messaging.selectors (filters and keyset pages).
"""

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.access import account_view
from core.csv_export import export_stamp, paris_time, stream_csv

from .forms import NumberSearchForm, ReceivedFilterForm, StopAddForm, StopRemoveForm
from .models import ChatAccess, IncomingMessage, OutgoingMessage, StopListEntry
from .selectors import cursors, keyset_page, received_messages, stoplist_entries

# --- Received SMS ---------------------------------------------------------------------------


@account_view
def received(request: HttpRequest):
    account = request.account
    form = ReceivedFilterForm(request.GET)
    page = keyset_page(received_messages(account, form.filters()), **cursors(request.GET))
    return render(
        request,
        "messaging/received.html",
        {"account": account, "form": form, "page": page, "tab": "received"},
    )


@account_view
@require_POST
def received_delete(request: HttpRequest, incoming_id: int):
    get_object_or_404(IncomingMessage, pk=incoming_id, account=request.account).delete()
    messages.success(request, _("The SMS was deleted."))
    return redirect("messaging:received", request.account.name)


@account_view
def received_export(request: HttpRequest):
    account = request.account
    header = (_("Date"), _("Number"), _("Message"), _("Tag"), _("In reply to"))

    def rows():
        yield header
        for at, *rest, outgoing in (
            IncomingMessage.objects.filter(account=account)
            .order_by("-id")
            .values_list("received_at", "sender", "text", "tag", "outgoing_id")
            .iterator(2000)
        ):
            yield (paris_time(at), *rest, outgoing or "")

    return stream_csv(rows(), f"{account.name}-received-{export_stamp()}.csv")


# --- STOP list --------------------------------------------------------------------------------


@account_view
@require_http_methods(["GET", "POST"])
def stoplist(request: HttpRequest):
    account = request.account
    search = NumberSearchForm(request.GET)
    add_form = StopAddForm(request.POST or None, region=account.default_region)
    if request.method == "POST" and add_form.is_valid():
        number = add_form.cleaned_data["number"]
        try:
            with transaction.atomic():
                StopListEntry.objects.create(account=account, number=number)
        except IntegrityError:
            add_form.add_error("number", _("This number is already on the STOP list."))
        else:
            messages.success(
                request, _("%(number)s was added to the STOP list.") % {"number": number}
            )
            return redirect("messaging:stoplist", account.name)
    page = keyset_page(stoplist_entries(account, search.filters()), **cursors(request.GET))
    return render(
        request,
        "messaging/stoplist.html",
        {"account": account, "form": search, "add_form": add_form, "page": page, "tab": "stoplist"},
    )


@account_view
@require_http_methods(["GET", "POST"])
def stoplist_remove(request: HttpRequest, entry_id: int):
    entry = get_object_or_404(StopListEntry, pk=entry_id, account=request.account)
    form = StopRemoveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        entry.delete()
        messages.success(
            request, _("%(number)s was removed from the STOP list.") % {"number": entry.number}
        )
        return redirect("messaging:stoplist", request.account.name)
    return render(
        request,
        "messaging/stoplist_remove.html",
        {"account": request.account, "entry": entry, "form": form, "tab": "stoplist"},
    )


@account_view
def stoplist_export(request: HttpRequest):
    account = request.account
    header = (_("Number"), _("Date"), _("SMS that triggered it"))

    def rows():
        yield header
        for number, at, outgoing in (
            StopListEntry.objects.filter(account=account)
            .order_by("-id")
            .values_list("number", "created_at", "outgoing_id")
            .iterator(2000)
        ):
            yield (number, paris_time(at), outgoing or "")

    return stream_csv(rows(), f"{account.name}-stop-list-{export_stamp()}.csv")


# --- A virtual number's chat address (OVH chatAccess) -------------------------------------------

CHAT_LINES = 200


def chat(request: HttpRequest, token: str):
    """The last messages sent from and received on a virtual number, for whoever holds the
    secret address (the API's chatAccess); no login, like OVHcloud's."""
    access = get_object_or_404(ChatAccess.objects.select_related("sender"), token=token)
    sender = access.sender
    sent = (
        OutgoingMessage.objects.filter(job__sender=sender)
        .select_related("job")
        .order_by("-id")[:CHAT_LINES]
    )
    received = IncomingMessage.objects.filter(outgoing__job__sender=sender).order_by("-id")[
        :CHAT_LINES
    ]
    lines = [
        {"at": m.created_at, "number": m.receiver, "received": False,
         "text": m.text or m.job.message}
        for m in sent
    ] + [
        {"at": r.received_at, "number": r.sender, "received": True, "text": r.text}
        for r in received
    ]  # fmt: skip
    lines.sort(key=lambda line: line["at"], reverse=True)
    context = {"number": sender.sender, "lines": lines[:CHAT_LINES]}
    return render(request, "messaging/chat.html", context)
