"""An OVHcloud SMS account as an upstream route, through python-ovh (OVHcloud's own client).

Submit: one `POST /sms/{serviceName}/jobs` per message (receivers: [number], the text as the
panel built it, STOP mention included, so `noStopClause`), tagged `smspanel-<message id>`.
A retried message (its earlier answer was lost) is looked up first by that tag in
`GET /sms/{serviceName}/outgoing?tag=…`: the upstream is asked before anything is sent again.
Reports: `reports_poll()` (beat, every 15 s) asks `GET /sms/{serviceName}/outgoing/{id}` for
the messages still waiting, and turns OVHcloud's `deliveryReceipt` (1 delivered, 2 not
delivered, 16 failed) and `ptt` (3 expired) into the panel's reports.

Route settings: `endpoint` (ovh-eu, ovh-ca… or the https://…/1.0 URL of another API that speaks
OVHcloud's, such as another smspanel), `service_name` (sms-xx11111-1), `sender` (empty: the
short number, replies allowed); credentials: application_key, application_secret,
consumer_key.
"""

from __future__ import annotations

from collections.abc import Sequence

import ovh
import requests
import urllib3

from .base import OutboundSms, SubmitResult

TIMEOUT = 30
# deliveryReceipt / ptt → the panel's report statuses
RECEIPT_STATUS = {1: "delivered", 2: "undelivered", 16: "undelivered"}
PTT_EXPIRED = 3


def client_for(route) -> ovh.Client:
    endpoint = route.config.get("endpoint", "ovh-eu")
    if endpoint.startswith(("http://", "https://")):
        # python-ovh knows endpoints by name: register this URL under the route's.
        name = f"smspanel-route-{route.pk}"
        ovh.client.ENDPOINTS[name] = endpoint.rstrip("/")
        endpoint = name
    credentials = route.credentials
    return ovh.Client(
        endpoint=endpoint,
        application_key=credentials.get("application_key", ""),
        application_secret=credentials.get("application_secret", ""),
        consumer_key=credentials.get("consumer_key", ""),
        timeout=TIMEOUT,
    )


def _maybe_sent(error: Exception) -> bool:
    """Whether a failed call may have reached OVHcloud: anything but a connection that
    never opened (python-ovh wraps requests' exception as its second argument)."""
    cause = error.args[1] if len(error.args) > 1 else error
    if isinstance(cause, requests.ConnectTimeout):
        return False
    if isinstance(cause, requests.ConnectionError):
        reason = getattr(cause.args[0] if cause.args else None, "reason", None)
        return not isinstance(reason, urllib3.exceptions.ConnectTimeoutError)
    return True


def tag_of(message_id: int) -> str:
    return f"smspanel-{message_id}"


class OvhOperator:
    def __init__(self, route):
        self.route = route
        self.client = client_for(route)
        self.base = f"/sms/{route.config.get('service_name', '')}"

    def operator_id(self, remote_id) -> str:
        return f"ovh:{self.route.pk}:{remote_id}"

    def submit(self, messages: Sequence[OutboundSms]) -> list[SubmitResult]:
        results = []
        for m in messages:
            try:
                results.append(self._submit_one(m))
            except (
                ovh.exceptions.NetworkError,
                ovh.exceptions.HTTPError,
                requests.RequestException,
            ) as error:
                # The whole route is unreachable: the rest of the batch fails over with it.
                # This message's request may have gone out before its answer was lost.
                lost = "LINK_NO_ANSWER" if _maybe_sent(error) else "LINK_DOWN"
                done = {r.message_id for r in results}
                results += [
                    SubmitResult(x.message_id, False, error_code=lost if x is m else "LINK_DOWN")
                    for x in messages
                    if x.message_id not in done
                ]
                break
            except (
                ovh.exceptions.InvalidKey,
                ovh.exceptions.InvalidCredential,
                ovh.exceptions.NotCredential,
                ovh.exceptions.NotGrantedCall,
                ovh.exceptions.Forbidden,
            ) as error:
                done = {r.message_id for r in results}
                code = f"OVH_{type(error).__name__.upper()}"[:32]
                results += [
                    SubmitResult(x.message_id, False, error_code=code)
                    for x in messages
                    if x.message_id not in done
                ]
                break
        return results

    def _submit_one(self, m: OutboundSms) -> SubmitResult:
        tag = tag_of(m.message_id)
        if m.attempt > 1:
            known = self.client.get(f"{self.base}/outgoing", tag=tag)
            if known:
                return SubmitResult(m.message_id, True, operator_id=self.operator_id(known[-1]))
        sender = m.sender or self.route.config.get("sender", "")
        options = {"sender": sender} if sender else {"senderForResponse": True}
        try:
            report = self.client.post(
                f"{self.base}/jobs",
                message=m.text,
                receivers=[m.receiver],
                noStopClause=True,
                priority="high",
                tag=tag,
                _class=m.sms_class,
                **options,
            )
        except (ovh.exceptions.BadParametersError, ovh.exceptions.ResourceNotFoundError):
            return SubmitResult(m.message_id, False, error_code="OVH_REFUSED", permanent=True)
        except ovh.exceptions.APIError as error:
            # Throttled: the API's own answer, HTTP 429. Not words in the error's text: a
            # connection refused names the URL, and a port such as 42917 contains "429".
            response = getattr(error, "response", None)
            if response is not None and response.status_code == 429:
                return SubmitResult(m.message_id, False, error_code="THROTTLED")
            raise
        ids = report.get("ids") or []
        if not ids:
            return SubmitResult(m.message_id, False, error_code="INVALID_RECEIVER", permanent=True)
        return SubmitResult(m.message_id, True, operator_id=self.operator_id(ids[0]))

    def reports(self, operator_ids: list[str]) -> list[dict]:
        """The reports OVHcloud has for these messages (final ones only)."""
        found = []
        for operator_id in operator_ids:
            remote_id = operator_id.rsplit(":", 1)[-1]
            try:
                sms = self.client.get(f"{self.base}/outgoing/{remote_id}")
            except ovh.exceptions.ResourceNotFoundError:
                continue
            status = RECEIPT_STATUS.get(sms.get("deliveryReceipt"))
            if sms.get("ptt") == PTT_EXPIRED:
                status = "expired"
            if status:
                found.append(
                    {
                        "operator_id": operator_id,
                        "status": status,
                        "error_code": "" if status == "delivered" else str(sms.get("ptt", "")),
                        "at": sms.get("deliveredAt") or None,
                    }
                )
        return found


POLL_BATCH = 200


def reports_poll() -> int:
    """Beat: ask each OVHcloud route about its messages still waiting for a report (the
    oldest POLL_BATCH each); returns how many reports were applied."""
    from .. import reports
    from ..models import OutgoingMessage, Route

    applied = 0
    for route in Route.objects.filter(kind=Route.Kind.OVH, enabled=True):
        waiting = list(
            OutgoingMessage.objects.filter(route=route, status=OutgoingMessage.Status.SUBMITTED)
            .order_by("submitted_at")
            .values_list("operator_id", flat=True)[:POLL_BATCH]
        )
        if not waiting:
            continue
        try:
            found = OvhOperator(route).reports(waiting)
        except (ovh.exceptions.APIError, requests.RequestException):
            continue  # asked again on the next tick
        reports.delivery_reports_receive(reports=found)
        applied += len(found)
    return applied
