"""Callbacks to the customer's own system: delivery reports and STOPs, POSTed as JSON,
signed (X-Smspanel-Signature: hex HMAC-SHA256 of the body with the account's secret), retried
with exponential backoff for up to 24 hours, each attempt visible in a log.

URLs must be http(s) and, unless settings.CALLBACKS_ALLOW_PRIVATE, must not resolve to private,
loopback, link-local or reserved addresses: checked when saved, and by core.http at each attempt
and on every redirect hop, so neither a DNS change nor a redirect can turn a saved URL against
the panel's own network. Redirects are followed (at most core.http.MAX_REDIRECTS): a 303, or a
301/302, turns the POST into a GET as browsers do; 307/308 repeat the signed POST.
"""

import hashlib
import hmac
import json
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from core import http

from .models import WebhookDelivery, WebhookSettings

GIVE_UP_AFTER = timedelta(hours=24)
FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY = timedelta(hours=2)
TIMEOUT = 10


def new_secret() -> str:
    return secrets.token_hex(32)


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def settings_save(
    *, account, delivery_url: str, stop_url: str
) -> tuple[WebhookSettings, str | None]:
    """Save the account's callback URLs (already checked by WebhookSettingsForm). The first
    save also creates the signing secret, returned to be shown once; later saves return None."""
    urls = {"delivery_url": delivery_url, "stop_url": stop_url}
    row, created = WebhookSettings.objects.update_or_create(
        account=account, defaults=urls, create_defaults={**urls, "secret": new_secret()}
    )
    return row, row.secret if created else None


def enqueue(*, account_ids_events: dict[int, list[dict]], kind: str) -> int:
    """Queue one POST per account that has a URL for this kind of event."""
    if not account_ids_events:
        return 0
    field = "delivery_url" if kind == "delivery" else "stop_url"
    targets = dict(
        WebhookSettings.objects.filter(account_id__in=account_ids_events)
        .exclude(**{field: ""})
        .values_list("account_id", field)
    )
    now = timezone.now()
    rows = [
        WebhookDelivery(
            account_id=account_id,
            kind=kind,
            url=url,
            payload={"events": account_ids_events[account_id]},
            next_attempt_at=now,
        )
        for account_id, url in targets.items()
    ]
    WebhookDelivery.objects.bulk_create(rows)
    return len(rows)


def _attempt(delivery: WebhookDelivery, secret: str) -> tuple[bool, int | None, str]:
    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "smspanel-callbacks",
        "X-Smspanel-Event": delivery.kind,
        "X-Smspanel-Signature": sign(secret, body),
    }
    try:
        # The answer's body is not read: only its status counts.
        response = http.request("POST", delivery.url, body=body, headers=headers, timeout=TIMEOUT)
    except http.FetchError as error:
        return False, None, str(error)[:200]
    ok = 200 <= response.status < 300
    return ok, response.status, "" if ok else response.reason[:200]


def send_due(*, now=None, limit: int = 200) -> int:
    """Attempt the due deliveries (beat, every few seconds). Returns how many were tried."""
    now = now or timezone.now()
    with transaction.atomic():
        due = WebhookDelivery.objects.filter(status="pending", next_attempt_at__lte=now)
        if transaction.get_connection().features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        ids = list(due.order_by("next_attempt_at").values_list("id", flat=True)[:limit])
        # Lease them: a crashed sender leaves them to be retried, not lost.
        WebhookDelivery.objects.filter(pk__in=ids).update(next_attempt_at=now + MAX_RETRY)
    secrets_by_account = {}
    for delivery in WebhookDelivery.objects.filter(pk__in=ids):
        if delivery.account_id not in secrets_by_account:
            secrets_by_account[delivery.account_id] = (
                WebhookSettings.objects.filter(account_id=delivery.account_id)
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
            delivery.status = WebhookDelivery.Status.DONE
            delivery.delivered_at = tried_at
            delivery.next_attempt_at = None
        else:
            wait = min(FIRST_RETRY * 2 ** (delivery.attempts - 1), MAX_RETRY)
            if tried_at + wait - delivery.created_at > GIVE_UP_AFTER:
                delivery.status = WebhookDelivery.Status.FAILED
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
