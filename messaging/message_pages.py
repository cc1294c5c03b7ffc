"""A page per message (its timeline) and the list of a job's messages on the job page.

The timeline joins what the message row keeps (created, submitted with its operator id, the
last report) with its events (retries, each part's report, refunds: MessageEvent) and the
replies received to it. With the simulated operator, staff (and anyone in DEBUG) can make the
recipient answer from the page, through the same service the operator's callbacks use.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext
from django.views.decorators.http import require_POST

from accounts.access import account_view
from core.formats import credits_number, credits_plural

from . import reports
from .encoding import STOP_CLAUSE
from .models import MessageEvent, OutgoingMessage, SmsJob
from .selectors import cursors, keyset_page

_Q = OutgoingMessage.Status


@dataclass
class Step:
    at: datetime | None
    kind: str  # a CSS hook: created, submitted, retry, report, refund, reply, cancelled
    title: str
    detail: str = ""


def _report_title(event: MessageEvent) -> str:
    labels = dict(_Q.choices)
    status = str(labels.get(event.status, event.status))
    if event.parts and event.parts > 1:
        return _("Report for part %(part)s of %(parts)s: %(status)s") % {
            "part": event.part,
            "parts": event.parts,
            "status": status,
        }
    return _("Delivery report: %(status)s") % {"status": status}


def timeline(message: OutgoingMessage) -> list[Step]:
    """The message's steps in time order (three queries: events, failovers, replies)."""
    steps = [
        Step(
            message.created_at,
            "created",
            pgettext("timeline", "Created"),
            _("Send #%(n)s") % {"n": message.job_id},
        )
    ]
    if message.submitted_at:
        detail = _("Operator id: %(id)s") % {"id": message.operator_id}
        if message.route_id:
            detail = _("Route %(route)s, operator id %(id)s") % {
                "route": message.route.name,
                "id": message.operator_id,
            }
        steps.append(
            Step(message.submitted_at, "submitted", _("Accepted by the operator"), detail)
        )
    for failover in message.failovers.select_related("from_route", "to_route"):
        steps.append(
            Step(
                failover.at,
                "retry",
                _("Route %(from)s gave up: sent through %(to)s")
                % {
                    "from": failover.from_route.name,
                    "to": failover.to_route.name if failover.to_route else "—",
                },
                failover.reason,
            )
        )
    for event in message.events.all():
        if event.kind == MessageEvent.Kind.RETRY:
            steps.append(
                Step(
                    event.at,
                    "retry",
                    _("Refused for now by the operator: another attempt is planned"),
                    event.error_code,
                )
            )
        elif event.kind == MessageEvent.Kind.REPORT:
            steps.append(Step(event.at, "report", _report_title(event), event.error_code))
        elif event.status == _Q.CANCELLED:
            steps.append(
                Step(
                    event.at,
                    "cancelled",
                    ngettext(
                        "Cancelled before sending: %(credits)s credit refunded",
                        "Cancelled before sending: %(credits)s credits refunded",
                        credits_plural(event.credits),
                    )
                    % {"credits": credits_number(event.credits)},
                )
            )
        else:
            labels = dict(_Q.choices)
            steps.append(
                Step(
                    event.at,
                    "refund",
                    ngettext(
                        "%(status)s: %(credits)s credit refunded",
                        "%(status)s: %(credits)s credits refunded",
                        credits_plural(event.credits),
                    )
                    % {
                        "status": labels.get(event.status, event.status),
                        "credits": credits_number(event.credits),
                    },
                    event.error_code,
                )
            )
    for reply in message.replies.all():
        steps.append(Step(reply.received_at, "reply", _("Reply received"), reply.text))
    first = steps[0]
    rest = sorted(steps[1:], key=lambda s: s.at or first.at)
    return [first, *rest]


def simulator_replies_allowed(request) -> bool:
    """Replies can be simulated with the simulated operator only, by staff or in DEBUG."""
    backend = settings.SMS_OPERATOR.get("BACKEND", "simulated")
    return backend == "simulated" and (settings.DEBUG or request.user.is_staff)


class SimulatedReplyForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("Reply text"),
        max_length=160,
        initial="STOP",
        help_text=gettext_lazy("“STOP” puts the number on the account's STOP list."),
    )


def _message_for(request, message_id) -> OutgoingMessage:
    return get_object_or_404(
        OutgoingMessage.objects.select_related("job", "route"),
        pk=message_id,
        account=request.account,
    )


@account_view
def message_detail(request: HttpRequest, message_id: int):
    message = _message_for(request, message_id)
    can_simulate = simulator_replies_allowed(request) and bool(message.operator_id)
    return render(
        request,
        "messaging/message.html",
        {
            "account": request.account,
            "m": message,
            "job": message.job,
            "steps": timeline(message),
            "reply_form": SimulatedReplyForm() if can_simulate else None,
            "stop_clause_text": STOP_CLAUSE,
            "tab": "history",
        },
    )


@account_view
@require_POST
def message_simulate_reply(request: HttpRequest, message_id: int):
    message = _message_for(request, message_id)
    if not simulator_replies_allowed(request) or not message.operator_id:
        raise Http404("Replies can only be simulated for sent messages, with the simulator")
    form = SimulatedReplyForm(request.POST)
    if form.is_valid():
        reports.incoming_messages_receive(
            replies=[
                {
                    "operator_id": message.operator_id,
                    "text": form.cleaned_data["text"],
                    "at": timezone.now().isoformat(),
                    "id": f"simulated-{uuid.uuid4()}",
                }
            ]
        )
        messages.success(request, _("The simulated reply was received."))
    else:
        messages.error(request, _("Type the reply's text (at most 160 characters)."))
    return redirect(message.get_absolute_url())


# --- The job page's messages ---------------------------------------------------------------------

# The filter's choices: the states a job's messages can be in.
STATUS_FILTERS = [("", gettext_lazy("All"))] + list(_Q.choices)


def job_messages(job: SmsJob, params) -> dict:
    """A keyset page of the job's messages, newest first, optionally of one status."""
    status = params.get("status", "")
    qs = OutgoingMessage.objects.filter(job=job).only(
        "id",
        "receiver",
        "text",
        "parts",
        "credits",
        "status",
        "error_code",
        "created_at",
        "submitted_at",
        "delivered_at",
        "job_id",
    )
    if status in _Q.values:
        qs = qs.filter(status=status)
    else:
        status = ""
    page = keyset_page(qs, **cursors(params))
    for m in page.rows:
        m.job = job  # shown_text reads the job's message: no query per row
    return {"messages_page": page, "status": status, "status_filters": STATUS_FILTERS}
