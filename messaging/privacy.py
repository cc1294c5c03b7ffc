"""The personal data page of an account: find a number, export what is held about it, erase it
(owners only). The work is in personal_data.py."""

import json

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts import audit
from accounts.access import account_view
from accounts.models import Membership

from . import personal_data


def _number(request, raw: str) -> tuple[str | None, str]:
    raw = raw.strip()
    number = personal_data.number_parse(raw, request.account.default_region) if raw else None
    error = _("This is not a phone number.") if raw and number is None else ""
    return number, error


@account_view
@require_http_methods(["GET", "POST"])
def personal_data_page(request: HttpRequest):
    account = request.account
    is_owner = request.membership.role == Membership.Role.OWNER
    number, error = _number(request, request.POST.get("number") or request.GET.get("number", ""))
    here = reverse("messaging:personal_data", args=[account.name])
    confirmed = request.POST.get("confirm") == "yes"
    if request.method == "POST" and number and is_owner and confirmed:
        try:
            counts = personal_data.number_erase(account=account, number=number, request=request)
        except personal_data.StillSending:
            messages.error(
                request,
                _("SMS to this number are still being sent: erase it once they are done."),
            )
            return redirect(f"{here}?number={number}")
        messages.success(
            request,
            _(
                "Erased: %(contacts)s contacts, %(lists)s list entries, %(received)s received "
                "SMS, %(lookups)s lookups; %(sent)s sent SMS anonymised. A STOP list entry is kept."
            )
            % {
                "contacts": counts["contacts"],
                "lists": counts["list_entries"],
                "received": counts["received"],
                "lookups": counts["lookups"],
                "sent": counts["sent"],
            },
        )
        return redirect(here)
    return _page(request, number, error)


def _page(request, number: str | None, error: str):
    account = request.account
    context = {
        "account": account,
        "tab": "personal_data",
        "typed": request.POST.get("number") or request.GET.get("number", ""),
        "error": error,
        "is_owner": request.membership.role == Membership.Role.OWNER,
        "data": personal_data.number_data(account=account, number=number) if number else None,
    }
    return render(request, "messaging/personal_data.html", context)


@account_view
def personal_data_export(request: HttpRequest):
    number, error = _number(request, request.GET.get("number", ""))
    if number is None:
        return _page(request, None, error or _("Type the number whose data to export."))
    data = personal_data.number_data(account=request.account, number=number)
    audit.record(audit.Action.PERSONAL_DATA_EXPORTED, request=request, account=request.account)
    body = json.dumps(personal_data.number_export(data), ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    filename = f"personal-data-{request.account.name}-{number.lstrip('+')}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
