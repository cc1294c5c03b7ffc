"""Issuing, validating and revoking API credentials."""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from .models import ApiApplication, ConsumerKey, key_hash, random_key

APP_KEY_LENGTH = 16
APP_SECRET_LENGTH = 32
CONSUMER_KEY_LENGTH = 32
METHODS = ("GET", "POST", "PUT", "DELETE")
# What the panel offers when a member creates a key by hand.
# (/me/document carries the files that recipient lists and phonebook imports read.)
FULL_ACCESS = [{"method": m, "path": "/sms*"} for m in METHODS] + [
    {"method": m, "path": "/me/document*"} for m in ("GET", "POST", "DELETE")
]
READ_ONLY = [{"method": "GET", "path": "/sms*"}]


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


def documents_purge(*, now: datetime | None = None) -> int:
    """Delete expired API documents and their files; returns how many."""
    from .models import ApiDocument

    expired = list(ApiDocument.objects.filter(expires_at__lte=now or timezone.now()))
    for doc in expired:
        if doc.file:
            doc.file.delete(save=False)
        doc.delete()
    return len(expired)


# A credential asked through POST /auth/credential waits this long for a member's answer.
PENDING_LIFETIME = timedelta(days=1)


def pending_credentials_purge(*, now: datetime | None = None) -> int:
    """Forget the credentials nobody validated in time; returns how many."""
    cutoff = (now or timezone.now()) - PENDING_LIFETIME
    deleted, _ = ConsumerKey.objects.filter(
        status=ConsumerKey.Status.PENDING, created_at__lt=cutoff
    ).delete()
    return deleted
