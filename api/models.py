"""API applications and consumer keys, as OVHcloud issues them.

The application secret is stored as given: the request signature is a SHA-1 over it, so the
server needs it in the clear (as OVHcloud does). The consumer key travels in every request, so
only its SHA-256 is kept; the key itself is shown once.
"""

import hashlib
import secrets
import string

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import SmsAccount

_ALPHABET = string.ascii_letters + string.digits


def random_key(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiApplication(models.Model):
    """A script or program allowed to call the API of one account (OVH: an application)."""

    account = models.ForeignKey(
        SmsAccount,
        on_delete=models.CASCADE,
        related_name="api_applications",
        verbose_name=_("account"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    name = models.CharField(_("name"), max_length=60)
    description = models.CharField(_("description"), max_length=200, blank=True)
    app_key = models.CharField(_("application key"), max_length=32, unique=True)
    app_secret = models.CharField(max_length=64, verbose_name=_("application secret"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("API application")
        verbose_name_plural = _("API applications")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.app_key})"


class ConsumerKeyQuerySet(models.QuerySet):
    def for_account(self, account):
        return self.filter(application__account=account)


class ConsumerKey(models.Model):
    """A credential binding an application to the account, limited by access rules."""

    class Status(models.TextChoices):
        # Asked through POST /auth/credential; a member must validate it in the panel.
        PENDING = "pendingValidation", _("Waiting for validation")
        # Usable until it expires or is revoked.
        VALIDATED = "validated", pgettext_lazy("consumer key", "Valid")
        # Turned down on the validation page.
        REFUSED = "refused", _("Refused")
        # Revoked by a member; every call with it is refused.
        REVOKED = "revoked", _("Revoked")

    application = models.ForeignKey(
        ApiApplication,
        on_delete=models.CASCADE,
        related_name="consumer_keys",
        verbose_name=_("application"),
    )
    key_hash = models.CharField(max_length=64, unique=True, verbose_name=_("key hash"))
    key_prefix = models.CharField(_("key"), max_length=8)
    status = models.CharField(_("status"), max_length=20, choices=Status, default=Status.PENDING)
    # [{"method": "GET"|"POST"|"PUT"|"DELETE", "path": "/sms/*"}]; "*" matches anything.
    access_rules = models.JSONField(_("access rules"), default=list)
    redirection = models.URLField(max_length=500, blank=True, verbose_name=_("redirection"))
    # The secret part of the validation URL handed out by POST /auth/credential.
    validation_token = models.CharField(
        max_length=64, unique=True, null=True, blank=True, verbose_name=_("validation token")
    )
    validated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("validated by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    validated_at = models.DateTimeField(_("validated"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    objects = ConsumerKeyQuerySet.as_manager()

    class Meta:
        verbose_name = _("consumer key")
        verbose_name_plural = _("consumer keys")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.key_prefix}… ({self.get_status_display()})"

    @property
    def is_usable(self) -> bool:
        return self.status == self.Status.VALIDATED and (
            self.expires_at is None or self.expires_at > timezone.now()
        )

    def allows(self, method: str, path: str) -> bool:
        return any(rule_matches(rule, method, path) for rule in self.access_rules)


def rule_matches(rule: dict, method: str, path: str) -> bool:
    if rule.get("method") != method:
        return False
    pattern = rule.get("path", "")
    if "*" not in pattern:
        return pattern == path
    # Each "*" stands for any run of characters, slashes included (as on OVHcloud).
    pieces = pattern.split("*")
    if not path.startswith(pieces[0]) or not path.endswith(pieces[-1]):
        return False
    pos = len(pieces[0])
    end = len(path) - len(pieces[-1])
    for piece in pieces[1:-1]:
        found = path.find(piece, pos, end)
        if found < 0:
            return False
        pos = found + len(piece)
    return pos <= end


class ApiDocument(models.Model):
    """A file sent by a script before use (OVH: /me/document): created with a name, then its
    content is PUT to a secret URL; a recipient list or a phonebook import reads it by id."""

    application = models.ForeignKey(
        ApiApplication,
        on_delete=models.CASCADE,
        related_name="documents",
        verbose_name=_("application"),
    )
    name = models.CharField(_("name"), max_length=255)
    # The secret part of putUrl and getUrl (they carry no signature, as on OVHcloud).
    token = models.CharField(max_length=64, unique=True, verbose_name=_("token"))
    file = models.FileField(upload_to="api-documents/%Y/%m/", blank=True, verbose_name=_("file"))
    size = models.PositiveBigIntegerField(default=0, verbose_name=_("size"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))

    class Meta:
        verbose_name = _("API document")
        verbose_name_plural = _("API documents")

    def __str__(self):
        return self.name


class ApiTask(models.Model):
    """An operation asked through the API on a service (OVH `sms.Task`): the cleaning of a
    recipient list (`POST …/receivers/{slotId}/clean`), listed under `…/task`."""

    class Status(models.TextChoices):
        TODO = "todo", _("To do")
        DOING = "doing", _("Running")
        DONE = "done", _("Done")
        ERROR = "error", _("Failed")

    account = models.ForeignKey(SmsAccount, on_delete=models.CASCADE, related_name="api_tasks")
    function = models.CharField(max_length=32, default="cleanSmsReceivers")
    status = models.CharField(max_length=8, choices=Status, default=Status.TODO)
    # OVH's step names: starting, checkOrder, createHlrs, waitForHlrs, sendMailReport, finishing.
    step = models.CharField(max_length=16, default="starting")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"{self.function} {self.status}"


class IdempotentRequest(models.Model):
    """A POST sent with an Idempotency-Key header, and the answer it got.

    The row is inserted in the same transaction as the work (the job and its charge): a second
    request with the key waits for the first to commit, then finds the row (the unique
    constraint refuses its own insert) and gets the stored answer; nothing runs or is charged
    twice. A request that failed leaves no row, so the key may be used again."""

    account = models.ForeignKey(SmsAccount, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # The method, path and body of the first request: the key cannot be reused for another call.
    fingerprint = models.CharField(max_length=64)
    response = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "key"], name="one_request_per_key")
        ]

    def __str__(self):
        return self.key

    @staticmethod
    def fingerprint_of(request) -> str:
        digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
        digest.update(request.body)
        return digest.hexdigest()

    @classmethod
    def answered(cls, request, account_id: int) -> bool:
        """Whether this very request (its Idempotency-Key, method, path and body) has its
        answer stored."""
        key = request.headers.get("Idempotency-Key")
        return (
            bool(key)
            and cls.objects.filter(
                account_id=account_id, key=key, fingerprint=cls.fingerprint_of(request)
            ).exists()
        )
