import unicodedata

from django.http import HttpRequest
from django.shortcuts import render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.access import account_view

from . import recipients, services
from .encoding import RECOMMENDED_MAX_SEGMENTS, count, smart_replace
from .forms import INVALID_REASONS, MAX_TYPED_RECIPIENTS, ComposeForm


def _describe(char: str) -> dict:
    code = f"U+{ord(char):04X}"
    return {
        "char": char if char.isprintable() and not char.isspace() else "",
        "code": code,
        "name": unicodedata.name(char, code).title(),
    }


def counter_context(account, data) -> dict:
    """Everything the counter partial shows, from the raw form data (valid or not)."""
    message = data.get("message", "")
    if data.get("smart_replace"):
        message = smart_replace(message)
    stop_clause = not data.get("no_stop_clause")
    sms = count(message, stop_clause=stop_clause)
    replaced = smart_replace(message) if sms.non_gsm else message
    alternative = count(replaced, stop_clause=stop_clause) if replaced != message else None
    entries = recipients.split_entries(data.get("receivers", ""))
    estimate = None
    if entries and len(entries) <= MAX_TYPED_RECIPIENTS:
        parsed = recipients.parse("\n".join(entries), account.default_region)
        estimate = services.estimate_build(account=account, sms=sms, parsed=parsed)
        estimate.invalid = [(raw, INVALID_REASONS[reason]) for raw, reason in estimate.invalid]
    return {
        "message": message,
        "sms": sms,
        "stop_clause": stop_clause,
        "non_gsm": [_describe(c) for c in sms.non_gsm],
        "alternative": alternative,
        "saving": alternative and sms.segments - alternative.segments,
        "recommended_max": RECOMMENDED_MAX_SEGMENTS,
        "estimate": estimate,
    }


@account_view
@require_http_methods(["GET", "POST"])
def compose(request: HttpRequest):
    account = request.account
    data = request.POST.copy() if request.method == "POST" else {}
    context = counter_context(account, data)
    if request.method == "POST":
        data["message"] = context["message"]  # after an explicit smart replacement
    form = ComposeForm(data or None)
    if request.method == "POST":
        form.is_valid()  # show field errors next to the counter
    return render(
        request,
        "messaging/compose.html",
        {"account": account, "form": form, "tab": "compose", **context},
    )


@account_view
@require_POST
def counter(request: HttpRequest):
    """The counter partial, re-rendered by HTMX on each keystroke (and on the STOP box)."""
    context = counter_context(request.account, request.POST)
    context["account"] = request.account
    context["replaced_message"] = bool(request.POST.get("smart_replace"))
    return render(request, "messaging/compose.html#counter", context)
