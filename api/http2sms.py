"""http2sms: OVHcloud's HTTP interface for sending, `/cgi-bin/sms/http2sms.cgi`, by GET or POST,
authenticated by an SMS user (account, login, password; the user's ipRestrictions apply).

Parameters: account, login, password, from (an enabled sender; omit it with senderForResponse=1
for the short number), to (numbers separated by commas), message, and optionally noStop=1,
deferred (hhmmddMMYYYY, Paris time), class (0 flash, 1 standard, 2 SIM), tag, smsCoding (the
encoding always follows the text), contentType: text/plain (default), application/json,
text/xml or text/html. Every answer is HTTP 200 with a status: 100 sent; 201 a parameter is
missing; 202 a parameter is invalid; 241 the sender is not enabled; 401 authentication failed;
402 the send was refused (credits, quota, disabled account)."""

import json
from datetime import datetime
from xml.sax.saxutils import escape

from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from accounts.models import SmsAccount
from accounts.services import sms_user_authenticate
from core import ratelimit
from core.dates import PARIS
from messaging import services as sending
from messaging.models import OutgoingMessage
from messaging.selectors import collect_recipients
from senders.models import Sender

CONTENT_TYPES = ("text/plain", "application/json", "text/xml", "text/html")
CLASSES = {"0": "flash", "1": "phoneDisplay", "2": "sim"}
# Failed logins allowed per account and login in FAILURE_WINDOW seconds.
FAILURES_ALLOWED = 10
FAILURE_WINDOW = 900


class Refused(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def _answer(content_type: str, status: int, message: str = "", credits=None, ids=()):
    ok = status == 100
    if content_type == "application/json":
        body = ({"status": status, "creditLeft": f"{credits}", "SmsIds": [str(i) for i in ids]}
                if ok else {"status": status, "message": message})  # fmt: skip
        text = json.dumps(body)
    elif content_type == "text/xml":
        inner = (f"<creditLeft>{credits}</creditLeft><smsIds>"
                 + "".join(f"<smsId>{i}</smsId>" for i in ids) + "</smsIds>"
                 if ok else f"<message>{escape(message)}</message>")  # fmt: skip
        text = (f'<?xml version="1.0" encoding="UTF-8"?>\n<response><status>{status}</status>'
                f"{inner}</response>\n")  # fmt: skip
    elif content_type == "text/html":
        lines = ["OK", str(credits), *map(str, ids)] if ok else ["KO", escape(message)]
        text = "<BR>".join(lines) + "<BR>\n"
    else:
        text = "\n".join(["OK", str(credits), *map(str, ids)] if ok else ["KO", message]) + "\n"
    return HttpResponse(text, content_type=f"{content_type}; charset=utf-8")


def _deferred(value: str) -> datetime:
    try:
        naive = datetime.strptime(value, "%H%M%d%m%Y")
    except ValueError:
        raise Refused(202, "Invalid deferred: expected hhmmddMMYYYY") from None
    return timezone.make_aware(naive, PARIS)


def _user(params, address: str):
    for name in ("account", "login", "password"):
        if not params.get(name):
            raise Refused(201, f"Missing {name}")
    throttle = f"http2sms-fail:{params['account']}:{params['login']}"
    user = sms_user_authenticate(account_name=params["account"], login=params["login"],
                                 password=params["password"], address=address)  # fmt: skip
    if user is None:
        count, _retry = ratelimit.window_hit(throttle, period=FAILURE_WINDOW)
        raise Refused(401, "Too many failed logins: wait and try again" if count >
                      FAILURES_ALLOWED else "Authentication failed")  # fmt: skip
    return user


def _send(params, address: str):
    user = _user(params, address)
    account = user.account
    for name in ("to", "message"):
        if not params.get(name):
            raise Refused(201, f"Missing {name}")
    sender = None
    if params.get("senderForResponse") != "1":
        if not params.get("from"):
            raise Refused(201, "Missing from")
        sender = Sender.objects.filter(account=account, sender=params["from"]).enabled().first()
        if sender is None:
            raise Refused(241, f"Sender not found: {params['from']}")
    sms_class = CLASSES.get(params.get("class", "1"))
    if sms_class is None:
        raise Refused(202, "Invalid class: 0, 1 or 2")
    parsed = collect_recipients(account=account, typed="\n".join(params["to"].split(",")))
    if not parsed.valid:
        raise Refused(202, "Invalid to: no valid receiver")
    tag = params.get("tag", "")
    if len(tag) > 64:
        raise Refused(202, "Invalid tag: 64 characters at most")
    planned = _deferred(params["deferred"]) if params.get("deferred") else None
    try:
        job = sending.job_submit(
            account=account, user=None, message=params["message"], parsed=parsed,
            sender=sender, stop_clause=params.get("noStop") != "1", sms_class=sms_class,
            tag=tag, scheduled_at=planned, message_rows_now=True, sms_user=user,
        )  # fmt: skip
    except sending.SendError as exc:
        raise Refused(402, str(exc)) from None
    ids = list(
        OutgoingMessage.objects.filter(job=job)
        .exclude(status=OutgoingMessage.Status.STOPLISTED)
        .order_by("id")
        .values_list("id", flat=True)
    )
    credits = SmsAccount.objects.filter(pk=account.pk).values_list("credits", flat=True)[0]
    return credits, ids


@csrf_exempt
@require_http_methods(["GET", "POST"])
def http2sms(request):
    params = request.GET if request.method == "GET" else request.POST
    content_type = params.get("contentType", "text/plain")
    if content_type not in CONTENT_TYPES:
        content_type = "text/plain"
    try:
        credits, ids = _send(params, request.META.get("REMOTE_ADDR", ""))
    except Refused as refused:
        return _answer(content_type, refused.status, refused.message)
    return _answer(content_type, 100, credits=credits, ids=ids)
