"""Callbacks to the customer's own system: delivery reports and STOPs, POSTed as JSON,
signed (X-Smspanel-Signature: hex HMAC-SHA256 of the body with the account's secret), retried
with exponential backoff for up to 24 hours, each attempt visible in a log.

URLs must be http(s) and, unless settings.CALLBACKS_ALLOW_PRIVATE, must not resolve to private,
loopback, link-local or reserved addresses (checked when saved and again at each attempt,
so a DNS change cannot turn a saved URL against the panel's own network).
"""

import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
import urllib.error
import urllib.request
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import CallbackDelivery, CallbackSettings

GIVE_UP_AFTER = timedelta(hours=24)
FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY = timedelta(hours=2)
TIMEOUT = 10


class UnsafeURL(ValueError):
    pass


def new_secret() -> str:
    return secrets.token_hex(32)


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def check_url(url: str) -> None:
    """Raise UnsafeURL unless `url` is http(s) to a public address."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeURL("only http and https URLs are allowed")
    if settings.CALLBACKS_ALLOW_PRIVATE:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as error:
        raise UnsafeURL(f"the host does not resolve ({error})") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global or address.is_multicast:
            raise UnsafeURL(f"{parts.hostname} resolves to a private or reserved address")


def enqueue(*, account_ids_events: dict[int, list[dict]], kind: str) -> int:
    """Queue one POST per account that has a URL for this kind of event."""
    if not account_ids_events:
        return 0
    field = "delivery_url" if kind == "delivery" else "stop_url"
    targets = dict(
        CallbackSettings.objects.filter(account_id__in=account_ids_events)
        .exclude(**{field: ""})
        .values_list("account_id", field)
    )
    now = timezone.now()
    rows = [
        CallbackDelivery(
            account_id=account_id,
            kind=kind,
            url=url,
            payload={"events": account_ids_events[account_id]},
            next_attempt_at=now,
        )
        for account_id, url in targets.items()
    ]
    CallbackDelivery.objects.bulk_create(rows)
    return len(rows)


def _attempt(delivery: CallbackDelivery, secret: str) -> tuple[bool, int | None, str]:
    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    try:
        check_url(delivery.url)
        request = urllib.request.Request(
            delivery.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": "smspanel-callbacks",
                "X-Smspanel-Event": delivery.kind,
                "X-Smspanel-Signature": sign(secret, body),
            },
        )
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310 - checked
            return 200 <= response.status < 300, response.status, ""
    except urllib.error.HTTPError as error:
        return False, error.code, str(error.reason)[:200]
    except (OSError, UnsafeURL) as error:
        return False, None, str(error)[:200]


def send_due(*, now=None, limit: int = 200) -> int:
    """Attempt the due deliveries (beat, every few seconds). Returns how many were tried."""
    now = now or timezone.now()
    with transaction.atomic():
        due = CallbackDelivery.objects.filter(status="pending", next_attempt_at__lte=now)
        if transaction.get_connection().features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        ids = list(due.order_by("next_attempt_at").values_list("id", flat=True)[:limit])
        # Lease them: a crashed sender leaves them to be retried, not lost.
        CallbackDelivery.objects.filter(pk__in=ids).update(next_attempt_at=now + MAX_RETRY)
    secrets_by_account = {}
    for delivery in CallbackDelivery.objects.filter(pk__in=ids):
        if delivery.account_id not in secrets_by_account:
            secrets_by_account[delivery.account_id] = (
                CallbackSettings.objects.filter(account_id=delivery.account_id)
                .values_list("secret", flat=True)
                .first()
                or ""
            )
        ok, code, error = _attempt(delivery, secrets_by_account[delivery.account_id])
        delivery.attempts += 1
        delivery.last_status_code = code
        delivery.last_error = error
        tried_at = timezone.now()
        if ok:
            delivery.status = CallbackDelivery.Status.DONE
            delivery.delivered_at = tried_at
            delivery.next_attempt_at = None
        else:
            wait = min(FIRST_RETRY * 2 ** (delivery.attempts - 1), MAX_RETRY)
            if tried_at + wait - delivery.created_at > GIVE_UP_AFTER:
                delivery.status = CallbackDelivery.Status.FAILED
                delivery.next_attempt_at = None
            else:
                delivery.next_attempt_at = tried_at + wait
        delivery.save(
            update_fields=[
                "attempts",
                "last_status_code",
                "last_error",
                "status",
                "delivered_at",
                "next_attempt_at",
            ]
        )
    return len(ids)
