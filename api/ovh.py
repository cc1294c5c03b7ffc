"""OVHcloud's API authentication: application key, consumer key and a signed request.

Signature = "$1$" + sha1_hex(secret + "+" + consumer key + "+" + METHOD + "+" + full URL + "+"
+ body + "+" + timestamp). Errors carry OVHcloud's `errorCode`, which python-ovh maps to its
exceptions (INVALID_KEY, INVALID_CREDENTIAL, NOT_CREDENTIAL, NOT_GRANTED_CALL…).
"""

import hashlib
import hmac
import re
import time
from datetime import timedelta
from urllib.parse import unquote

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from accounts.selectors import is_active_member
from core import ratelimit

from .errors import ApiError
from .models import ApiApplication, ConsumerKey, IdempotentRequest, key_hash

API_PREFIX = "/1.0"
# A Unix time in ASCII digits (str.isdigit() also takes "²" or Arabic digits, which int() refuses
# or reads, and a 5,000-digit value that int() refuses).
_TIMESTAMP = re.compile(r"[0-9]{1,12}")


def signature(*, secret: str, consumer_key: str, method: str, url: str, body: str, ts: str) -> str:
    raw = "+".join([secret, consumer_key, method.upper(), url, body, ts])
    return "$1$" + hashlib.sha1(raw.encode()).hexdigest()


def api_path(request) -> str:
    """The path the access rules are written against: after /1.0, without the query."""
    path = request.path
    return path[len(API_PREFIX) :] if path.startswith(API_PREFIX) else path


def _same(given: str, expected: str) -> bool:
    """Constant-time equality for header values, which may hold any Latin-1 character
    (hmac.compare_digest raises TypeError on non-ASCII str)."""
    return hmac.compare_digest(given.encode(), expected.encode())


def _signed_urls(request) -> list[str]:
    # Clients sign the URL they were given; python-ovh signs it before `requests` quotes it.
    url = request.build_absolute_uri()
    return [url, unquote(url)] if "%" in url else [url]


# Requests that change nothing are not checked for replays: replaying one reads again what the
# key may read anyway, and python-ovh, whose timestamps have a one-second resolution, signs two
# identical reads made within one second identically (a script polling a status does that).
READ_METHODS = {"GET", "HEAD", "OPTIONS"}


def _first_sight(ck: ConsumerKey, sig: str, ts: int) -> bool:
    """Whether this signed request is seen for the first time. The signature covers the
    method, the URL, the body and the timestamp, so it names one request; it is remembered for
    as long as its timestamp stays within API_TIME_WINDOW of the clock, after which the
    timestamp check refuses it. cache.add is one atomic SET NX in Redis: of two copies sent at
    once, exactly one is first."""
    ttl = max(1, ts + settings.API_TIME_WINDOW - int(time.time()) + 1)
    return cache.add(f"api-nonce:{ck.pk}:{sig}", 1, timeout=ttl)


def _throttle(ck: ConsumerKey) -> None:
    _count_or_refuse(f"key:{ck.pk}", settings.API_RATE_LIMIT, 1, "this consumer key")


# POST /auth/credential needs only an application key: a few requests a minute per application.
CREDENTIAL_REQUESTS_PER_MINUTE = 20


def throttle_credential_requests(app: ApiApplication) -> None:
    _count_or_refuse(f"credential:{app.pk}", CREDENTIAL_REQUESTS_PER_MINUTE, 60, "this application")


def _count_or_refuse(name: str, limit: int, period: int, who: str) -> None:
    """A fixed-window counter (core.ratelimit); 429 past `limit`."""
    if not limit:
        return
    count, retry = ratelimit.window_hit(f"api-rate:{name}", period=period)
    if count > limit:
        unit = "second" if period == 1 else f"{period} seconds"
        raise ApiError(
            429,
            f"Too many requests: {who} is limited to {limit} requests per {unit}",
            "QUERY_RATE_LIMIT",
            headers={"Retry-After": str(retry)},
        )


def application_from(request) -> ApiApplication:
    app_key = request.headers.get("X-Ovh-Application", "")
    if not app_key:
        raise ApiError(403, "Invalid application key", "INVALID_KEY")
    app = ApiApplication.objects.select_related("account").filter(app_key=app_key).first()
    if app is None:
        raise ApiError(403, "Invalid application key", "INVALID_KEY")
    return app


def _holder_is_member(ck: ConsumerKey) -> bool:
    """A key acts in the name of the member who validated it: it stops working when that
    person leaves the account or is deactivated (read on every request, never cached)."""
    return is_active_member(user_id=ck.validated_by_id, account_id=ck.application.account_id)


def consumer_key_named(consumer: str) -> ConsumerKey | None:
    """The key a request names in X-Ovh-Consumer, with its application and account, read fresh
    on every request: nothing about a key is cached, so a revocation, an expiry or its holder
    leaving the account refuses the very next request. (The one read any API needs to know its
    caller; bench/ovh_api.py measures the checks against it.)"""
    try:  # get(): the hash is unique, and no ORDER BY to build (this runs on every request)
        return ConsumerKey.objects.select_related("application__account").get(
            key_hash=key_hash(consumer)
        )
    except ConsumerKey.DoesNotExist:
        return None


def authenticate(request) -> ConsumerKey:
    """Check the four headers and the key's rights; returns the consumer key or raises."""
    app_key = request.headers.get("X-Ovh-Application", "")
    consumer = request.headers.get("X-Ovh-Consumer", "")
    ts = request.headers.get("X-Ovh-Timestamp", "")
    sig = request.headers.get("X-Ovh-Signature", "")
    if not app_key:
        raise ApiError(403, "Invalid application key", "INVALID_KEY")
    if not consumer:
        raise ApiError(401, "You must login first", "NOT_AUTHENTICATED")
    ck = consumer_key_named(consumer)
    if ck is None:
        if not ApiApplication.objects.filter(app_key=app_key).exists():
            raise ApiError(403, "Invalid application key", "INVALID_KEY")
        raise ApiError(403, "This credential does not exist", "INVALID_CREDENTIAL")
    app = ck.application
    if not _same(app_key, app.app_key):
        # A key belongs to one application: another application's key is unknown here; an
        # application key nobody was given is refused as such, as OVHcloud does.
        if not ApiApplication.objects.filter(app_key=app_key).exists():
            raise ApiError(403, "Invalid application key", "INVALID_KEY")
        raise ApiError(403, "This credential does not exist", "INVALID_CREDENTIAL")
    if not _TIMESTAMP.fullmatch(ts) or abs(int(ts) - int(time.time())) > settings.API_TIME_WINDOW:
        raise ApiError(400, "Query out of time", "QUERY_TIME_OUT")
    body = request.body.decode("utf-8", errors="replace")
    expected = [
        signature(
            secret=app.app_secret,
            consumer_key=consumer,
            method=request.method,
            url=url,
            body=body,
            ts=ts,
        )
        for url in _signed_urls(request)
    ]
    if not any(_same(sig, e) for e in expected):
        raise ApiError(400, "Invalid signature", "INVALID_SIGNATURE")
    if ck.status == ConsumerKey.Status.PENDING:
        raise ApiError(403, "This credential is not valid", "NOT_CREDENTIAL")
    if not ck.is_usable or not _holder_is_member(ck):
        raise ApiError(403, "This credential is not valid", "INVALID_CREDENTIAL")
    path = api_path(request)
    # A key may always read itself (/auth/currentCredential), whatever its rules.
    if not path.startswith("/auth/") and not ck.allows(request.method, path):
        raise ApiError(403, "This call has not been granted", "NOT_GRANTED_CALL")
    if request.method not in READ_METHODS and not _first_sight(ck, sig, int(ts)):
        # A copy of a request sent with an Idempotency-Key whose answer is stored may pass:
        # the route answers it from the store and does nothing. (The header is not signed: a
        # copy given another key finds no answer and is refused.)
        if not IdempotentRequest.answered(request, ck.application.account_id):
            raise ApiError(
                400,
                "This signed request was already received: sign each request with its own "
                "timestamp (identical writes within the same second are refused)",
                "QUERY_REPLAYED",
            )
    _throttle(ck)
    now = timezone.now()
    if ck.last_used_at is None or now - ck.last_used_at > timedelta(minutes=1):
        ConsumerKey.objects.filter(pk=ck.pk).update(last_used_at=now)
    return ck


def is_api_request(request) -> bool:
    return request.path.startswith(API_PREFIX + "/")
