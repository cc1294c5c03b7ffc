"""Signed HTTP callbacks from the operator: delivery reports and incoming SMS.

The body is JSON; the `X-Signature` header carries hex(HMAC-SHA256(SMS_CALLBACK_SECRET, body)).
"""

import hashlib
import hmac
import json

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import reports as received


def sign(body: bytes) -> str:
    return hmac.new(settings.SMS_CALLBACK_SECRET.encode(), body, hashlib.sha256).hexdigest()


def _verified_items(request: HttpRequest, key: str):
    signature = request.headers.get("X-Signature", "")
    if not hmac.compare_digest(signature.encode("utf-8", "replace"), sign(request.body).encode()):
        return None, JsonResponse({"message": "Invalid signature"}, status=403)
    required = {"operator_id", "status"} if key == "reports" else {"operator_id", "text"}
    try:
        items = json.loads(request.body)[key]
        if not isinstance(items, list) or not all(
            isinstance(i, dict) and required <= i.keys() for i in items
        ):
            raise ValueError
        if key == "reports":
            for item in items:
                received.report_validate(item)
    except (ValueError, KeyError, TypeError):
        return None, JsonResponse(
            {"message": f"Expected a JSON object with a '{key}' list"}, status=400
        )
    return items, None


@csrf_exempt
@require_POST
def delivery_reports(request: HttpRequest):
    reports, error = _verified_items(request, "reports")
    if error:
        return error
    unknown = received.delivery_reports_receive(reports=reports)
    return JsonResponse({"received": len(reports), "unknown": sorted(unknown)})


@csrf_exempt
@require_POST
def incoming(request: HttpRequest):
    replies, error = _verified_items(request, "messages")
    if error:
        return error
    unknown = received.incoming_messages_receive(replies=replies)
    return JsonResponse({"received": len(replies), "unknown": sorted(unknown)})
