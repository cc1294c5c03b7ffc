"""« SMS reçus » (replies) and « Liste STOP » (numbers that opted out) of an account."""

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from accounts.access import account_view

from . import recipients
from .forms import INVALID_REASONS
from .history import (
    _cursor,
    _day_start,
    _when,
    export_stamp,
    keyset_page,
    receiver_match,
    stream_csv,
)
from .models import IncomingMessage, StopListEntry


class NumberSearchForm(forms.Form):
    number = forms.CharField(label=gettext_lazy("Number"), required=False, max_length=32)


class ReceivedFilterForm(NumberSearchForm):
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


def _number_filter(qs, field: str, value: str, region: str):
    """Exact match for a complete number, prefix for the start of one (+336…, 06…)."""
    if not value:
        return qs
    match = receiver_match(value, region)
    if match is None:
        return qs.none()
    kind, number = match
    return qs.filter(**{field: number} if kind == "exact" else {f"{field}__startswith": number})


# --- Received SMS ---------------------------------------------------------------------------


@account_view
def received(request: HttpRequest):
    account = request.account
    form = ReceivedFilterForm(request.GET)
    form.is_valid()
    qs = _number_filter(
        IncomingMessage.objects.filter(account=account).select_related("outgoing"),
        "sender",
        form.cleaned_data.get("number", ""),
        account.default_region,
    )
    if day := form.cleaned_data.get("date_from"):
        qs = qs.filter(received_at__gte=_day_start(day))
    if day := form.cleaned_data.get("date_to"):
        qs = qs.filter(received_at__lt=_day_start(day + timedelta(days=1)))
    page = keyset_page(qs, before=_cursor(request, "before"), after=_cursor(request, "after"))
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
    rows = (
        (m.received_at, m.sender, m.text, m.tag, m.outgoing_id or "")
        for m in IncomingMessage.objects.filter(account=account).order_by("-id").iterator(2000)
    )
    header = [(_("Date"), _("Number"), _("Message"), _("Tag"), _("In reply to"))]
    body = ((_when(at), *rest) for at, *rest in rows)
    return stream_csv(_chain(header, body), f"{account.name}-received-{export_stamp()}.csv")


def _chain(*parts):
    for part in parts:
        yield from part


# --- STOP list --------------------------------------------------------------------------------


class StopAddForm(forms.Form):
    number = forms.CharField(
        label=gettext_lazy("Number"),
        max_length=32,
        widget=forms.TextInput(attrs={"placeholder": "+33601020304", "type": "tel"}),
    )

    def __init__(self, *args, region: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.region = region

    def clean_number(self):
        outcome = recipients.normalise(self.cleaned_data["number"], self.region)
        if isinstance(outcome, str):
            raise forms.ValidationError(str(INVALID_REASONS[outcome]).capitalize() + ".")
        return outcome.number


class StopRemoveForm(forms.Form):
    confirm = forms.BooleanField(
        label=gettext_lazy("This person asked to receive our SMS again."),
        error_messages={"required": gettext_lazy("Confirm that the person asked for it.")},
    )


@account_view
@require_http_methods(["GET", "POST"])
def stoplist(request: HttpRequest):
    account = request.account
    search = NumberSearchForm(request.GET)
    search.is_valid()
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
    qs = _number_filter(
        StopListEntry.objects.filter(account=account),
        "number",
        search.cleaned_data.get("number", ""),
        account.default_region,
    )
    page = keyset_page(qs, before=_cursor(request, "before"), after=_cursor(request, "after"))
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
    header = [(_("Number"), _("Date"), _("SMS that triggered it"))]
    body = (
        (number, _when(at), outgoing or "")
        for number, at, outgoing in StopListEntry.objects.filter(account=account)
        .order_by("-id")
        .values_list("number", "created_at", "outgoing_id")
        .iterator(2000)
    )
    return stream_csv(_chain(header, body), f"{account.name}-stop-list-{export_stamp()}.csv")
