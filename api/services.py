"""Issuing, validating and revoking API credentials; the files scripts hand to the API (OVH's
/me/document, and a recipient list's csvUrl); requests made idempotent by a key."""

import re
import tempfile
from collections.abc import Callable
from datetime import datetime, timedelta
from urllib.parse import unquote, urlsplit

from django.core.files import File
from django.db import IntegrityError, transaction
from django.utils import timezone

from addressbooks.forms import import_max_bytes
from core import http

from .models import (
    ApiApplication,
    ApiDocument,
    ConsumerKey,
    IdempotentRequest,
    key_hash,
    random_key,
)

APP_KEY_LENGTH = 16
APP_SECRET_LENGTH = 32
CONSUMER_KEY_LENGTH = 32
METHODS = ("GET", "POST", "PUT", "DELETE")
# What the panel offers when a member creates a key by hand.
# (/me/document carries the files that recipient lists and phonebook imports read.)
# GET /me is what scripts call first, as a connection check.
FULL_ACCESS = [{"method": m, "path": "/sms*"} for m in METHODS] + [
    {"method": m, "path": "/me/document*"} for m in ("GET", "POST", "DELETE")
] + [{"method": "GET", "path": "/me"}]
READ_ONLY = [{"method": "GET", "path": "/sms*"}, {"method": "GET", "path": "/me"}]


def clean_rules(rules) -> list[dict]:
    """Access rules as OVHcloud takes them; raises ValueError naming the bad one."""
    if not isinstance(rules, list) or not rules:
        raise ValueError("accessRules must be a non-empty list")
    cleaned = []
    for rule in rules:
        if not isinstance(rule, dict):
            raise ValueError("each access rule is an object with method and path")
        method = str(rule.get("method", "")).upper()
        path = rule.get("path")
        if method not in METHODS:
            raise ValueError(f"invalid method in access rule: {rule.get('method')!r}")
        if not isinstance(path, str) or not path.startswith("/") or len(path) > 200:
            raise ValueError(f"invalid path in access rule: {path!r}")
        cleaned.append({"method": method, "path": path})
    return cleaned


def application_create(*, account, user, name: str, description: str = ""):
    """Returns (application, secret); the secret is shown once to the member."""
    app = ApiApplication.objects.create(
        account=account,
        created_by=user,
        name=name,
        description=description,
        app_key=random_key(APP_KEY_LENGTH),
        app_secret=random_key(APP_SECRET_LENGTH),
    )
    return app, app.app_secret


def application_delete(app: ApiApplication) -> None:
    app.delete()  # its consumer keys go with it


def _new_key(**fields) -> tuple[ConsumerKey, str]:
    key = random_key(CONSUMER_KEY_LENGTH)
    ck = ConsumerKey.objects.create(key_hash=key_hash(key), key_prefix=key[:6], **fields)
    return ck, key


def consumer_key_create(
    *, application: ApiApplication, user, access_rules: list[dict], expires_at: datetime | None
):
    """A key made by a member in the panel: valid at once. Returns (key row, key)."""
    return _new_key(
        application=application,
        access_rules=clean_rules(access_rules),
        status=ConsumerKey.Status.VALIDATED,
        validated_by=user,
        validated_at=timezone.now(),
        expires_at=expires_at,
    )


def credential_request(*, application: ApiApplication, access_rules, redirection: str = ""):
    """POST /auth/credential: a key waiting for a member to validate it in the panel."""
    return _new_key(
        application=application,
        access_rules=clean_rules(access_rules),
        redirection=redirection,
        validation_token=random_key(40),
    )


def credential_validate(ck: ConsumerKey, *, user, expires_at: datetime | None) -> bool:
    with transaction.atomic():
        return bool(
            ConsumerKey.objects.filter(pk=ck.pk, status=ConsumerKey.Status.PENDING).update(
                status=ConsumerKey.Status.VALIDATED,
                validated_by=user,
                validated_at=timezone.now(),
                expires_at=expires_at,
                validation_token=None,
            )
        )


def credential_refuse(ck: ConsumerKey) -> bool:
    return bool(
        ConsumerKey.objects.filter(pk=ck.pk, status=ConsumerKey.Status.PENDING).update(
            status=ConsumerKey.Status.REFUSED, validation_token=None
        )
    )


def consumer_key_revoke(ck: ConsumerKey) -> None:
    ConsumerKey.objects.filter(pk=ck.pk).update(
        status=ConsumerKey.Status.REVOKED, validation_token=None
    )


# A credential asked through POST /auth/credential waits this long for a member's answer.
PENDING_LIFETIME = timedelta(days=1)


def pending_credentials_purge(*, now: datetime | None = None) -> int:
    """Forget the credentials nobody validated in time; returns how many."""
    cutoff = (now or timezone.now()) - PENDING_LIFETIME
    deleted, _ = ConsumerKey.objects.filter(
        status=ConsumerKey.Status.PENDING, created_at__lt=cutoff
    ).delete()
    return deleted


# --- Documents ----------------------------------------------------------------------------------

DOCUMENT_LIFETIME = timedelta(days=7)
CSV_URL_TIMEOUT = 10  # seconds for the whole download


class AlreadyUploaded(Exception):
    pass


def document_create(*, application: ApiApplication, name: str) -> ApiDocument:
    """A document declared by a script; its content comes later, PUT to its token's URL."""
    return ApiDocument.objects.create(
        application=application,
        name=name,
        token=random_key(40),
        expires_at=timezone.now() + DOCUMENT_LIFETIME,
    )


def document_with_content(*, application: ApiApplication, name: str, chunks) -> ApiDocument:
    """A document the server writes itself (a history export, a phonebook export): `chunks`
    of text, spooled to a temporary file, then stored as the document's content."""
    document = document_create(application=application, name=name)
    with tempfile.TemporaryFile() as spool:
        for chunk in chunks:
            spool.write(chunk.encode())
        document.size = spool.tell()
        spool.seek(0)
        document.file.save(f"{document.pk}", File(spool), save=False)
    document.save(update_fields=["file", "size"])
    return document


def document_store(*, document: ApiDocument, stream, length: int) -> None:
    """Keep the content read from `stream` (a request body of `length` bytes as announced),
    within the contact-file size limit. Raises AlreadyUploaded, or core.http.TooLarge before
    reading anything when `length` says so, else as soon as the content passes the limit."""
    if document.file:
        raise AlreadyUploaded
    limit = import_max_bytes()
    if length > limit:
        raise http.TooLarge(limit)
    with tempfile.TemporaryFile() as spool:
        size = http.read_limited(stream, spool, max_bytes=limit)
        spool.seek(0)
        document.file.save(f"{document.pk}", File(spool), save=False)
    document.size = size
    document.save(update_fields=["file", "size"])


def document_file(document: ApiDocument) -> File | None:
    """The document's content, opened, as an upload for the panel's forms; None before its PUT."""
    if not document.file:
        return None
    upload = File(document.file.open("rb"), name=document.name)
    upload.size = document.size
    return upload


def document_delete(document: ApiDocument) -> None:
    if document.file:
        document.file.delete(save=False)
    document.delete()


def documents_purge(*, now: datetime | None = None) -> int:
    """Delete expired API documents and their files; returns how many."""
    expired = list(ApiDocument.objects.filter(expires_at__lte=now or timezone.now()))
    for document in expired:
        document_delete(document)
    return len(expired)


def csv_url_fetch(url: str) -> File:
    """csvUrl, read once within the contact-file size limit, as an upload for the panel's forms.

    Through core.http, with redirects refused: the address guard applies (private addresses
    only with settings.CALLBACKS_ALLOW_PRIVATE). Raises core.http.FetchError (UnsafeURL,
    TooLarge), or FetchError for an answer other than 2xx."""
    spool = tempfile.TemporaryFile()
    try:
        response = http.request(
            "GET", url, headers={"User-Agent": "smspanel"}, into=spool,
            max_bytes=import_max_bytes(), timeout=CSV_URL_TIMEOUT, follow_redirects=False,
        )  # fmt: skip
        if not 200 <= response.status < 300:
            raise http.FetchError(f"HTTP Error {response.status}: {response.reason}")
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    # The content decides (ContactFile detects it); a URL rarely ends with a file name.
    name = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    if not name.lower().endswith((".csv", ".txt")):
        name = "receivers.csv"
    upload = File(spool, name=name)
    upload.size = response.size
    return upload


# --- Idempotency keys ---------------------------------------------------------------------------

# How long an Idempotency-Key is remembered (a script retrying after a network error does so
# within minutes; Stripe, whose header this is, keeps keys 24 hours).
IDEMPOTENCY_LIFETIME = timedelta(hours=24)
# Visible ASCII, as HTTP header values should be; a UUID fits.
IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,255}")


class KeyReused(Exception):
    """The idempotency key was used before for another request (method, path or body)."""


def idempotent_call(
    *, account, key: str, fingerprint: str, run: Callable[[], dict]
) -> tuple[dict, bool]:
    """Run `run()` once per (account, key) and return (its answer, whether it ran now).

    The key's row is inserted before `run()`, in the same transaction: a concurrent request with
    the same key blocks on the unique constraint until this one commits, then reads the answer
    stored here. If `run()` raises, the row goes with everything else and the key is free again.
    Raises KeyReused when the key was used for another request."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                row = IdempotentRequest.objects.create(
                    account=account, key=key, fingerprint=fingerprint, response={}
                )
        except IntegrityError:
            row = None
        if row is not None:
            row.response = run()
            row.save(update_fields=["response"])
            return row.response, True
        earlier = IdempotentRequest.objects.get(account=account, key=key)
    if earlier.fingerprint != fingerprint:
        raise KeyReused
    return earlier.response, False


def idempotent_requests_purge(*, now: datetime | None = None) -> int:
    cutoff = (now or timezone.now()) - IDEMPOTENCY_LIFETIME
    deleted, _ = IdempotentRequest.objects.filter(created_at__lt=cutoff).delete()
    return deleted
