import uuid

from django.conf import settings
from django.db import models, transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from accounts.models import SmsAccount

from .validators import EXTENSIONS, sender_from_domain


class SenderQuerySet(models.QuerySet):
    def enabled(self):
        return self.filter(status=Sender.Status.ENABLE)

    def for_account(self, account):
        return self.filter(account=account)

    def waiting(self):
        return self.filter(status=Sender.Status.WAITING)


class Sender(models.Model):
    """A sender name or number an account may send from (OVH `sms.Sender`)."""

    class Status(models.TextChoices):
        # Requested, waiting for a staff decision.
        WAITING = "waitingValidation", _("Validation in progress")
        # Usable in the send form.
        ENABLE = "enable", _("Enabled")
        # Temporarily disabled by the customer; can be enabled again.
        DISABLE = "disable", _("Disabled")
        # Refused by staff; the reason is in `comment`.
        REFUSED = "refused", _("Refused")

    class Type(models.TextChoices):
        ALPHA = "alpha", _("Alphanumeric")
        NUMERIC = "numeric", _("Numeric")
        SHORTCODE = "shortcode", _("Short code")
        VIRTUAL = "virtual", _("Virtual number")

    class Referer(models.TextChoices):
        CUSTOM = "custom", _("Custom")
        DOMAIN = "domain", _("OVH domain")
        NIC = "nic", _("Personal data")
        VIRTUAL = "virtual", _("Virtual number")

    account = models.ForeignKey(
        SmsAccount, on_delete=models.CASCADE, related_name="senders", verbose_name=_("account")
    )
    sender = models.CharField(_("sender"), max_length=16)
    type = models.CharField(_("type"), max_length=10, choices=Type, default=Type.ALPHA)
    referer = models.CharField(_("origin"), max_length=10, choices=Referer, default=Referer.CUSTOM)
    status = models.CharField(_("status"), max_length=20, choices=Status, default=Status.WAITING)
    description = models.CharField(_("description"), max_length=40, blank=True)
    reason = models.CharField(_("justification"), max_length=250, blank=True)
    comment = models.CharField(_("comment"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("requested"), auto_now_add=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )

    objects = SenderQuerySet.as_manager()

    class Meta:
        ordering = ["sender"]
        verbose_name = _("sender")
        verbose_name_plural = _("senders")
        constraints = [
            models.UniqueConstraint(
                fields=["account", "sender"], name="one_sender_name_per_account"
            )
        ]

    def __str__(self):
        return self.sender

    @property
    def allows_replies(self) -> bool:
        return self.type == self.Type.VIRTUAL

    @property
    def can_toggle(self) -> bool:
        """Only a sender in use can be switched on and off by its customer."""
        return self.status in (self.Status.ENABLE, self.Status.DISABLE)

    @property
    def is_waiting(self) -> bool:
        return self.status == self.Status.WAITING

    def has_pending_jobs(self) -> bool:
        """Jobs not sent yet (planned, queued or being sent) still need this sender.

        `jobs` is the reverse relation of messaging's SmsJob.sender: senders sits below
        messaging and does not import it; the relation's manager carries SmsJob's QuerySet."""
        return self.jobs.unsent().exists()

    def approve(self, *, by) -> None:
        self.status = self.Status.ENABLE
        self.comment = ""
        self.decided_at = timezone.now()
        self.decided_by = by
        self.save(update_fields=["status", "comment", "decided_at", "decided_by"])

    def refuse(self, *, by, reason: str) -> None:
        self.status = self.Status.REFUSED
        self.comment = reason
        self.decided_at = timezone.now()
        self.decided_by = by
        self.save(update_fields=["status", "comment", "decided_at", "decided_by"])

    def set_enabled(self, enabled: bool) -> None:
        self.status = self.Status.ENABLE if enabled else self.Status.DISABLE
        self.save(update_fields=["status"])


def document_path(document: "SenderDocument", filename: str) -> str:
    # Never the customer's file name: a random name with the extension of the sniffed type.
    ext = EXTENSIONS.get(document.content_type, "")
    return f"sender-documents/{document.sender.account_id}/{uuid.uuid4().hex}{ext}"


class SenderDocument(models.Model):
    """A supporting document sent with a sender request. Stored under MEDIA_ROOT, which is
    never served: staff download it through the admin (senders.admin)."""

    sender = models.ForeignKey(
        Sender, on_delete=models.CASCADE, related_name="documents", verbose_name=_("sender")
    )
    # Empty while a document declared through the API waits for its content (PUT to the URL
    # named by upload_token; the content is checked as the panel's uploads are).
    file = models.FileField(_("file"), upload_to=document_path, max_length=200, blank=True)
    original_name = models.CharField(_("file name"), max_length=255)
    description = models.CharField(_("description"), max_length=255, blank=True)
    content_type = models.CharField(_("type"), max_length=32, blank=True)
    size = models.PositiveIntegerField(_("size"))
    upload_token = models.CharField(max_length=64, unique=True, null=True, blank=True)
    uploaded_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "id"]
        verbose_name = _("supporting document")
        verbose_name_plural = _("supporting documents")

    def __str__(self):
        return self.original_name

    @property
    def document_id(self) -> uuid.UUID:
        """OVH's documentID is a uuid: this row's id written as one."""
        return uuid.UUID(int=self.pk)

    @property
    def download_name(self) -> str:
        """The name staff download it under: chosen here, with the extension of its type."""
        return f"{slugify(self.sender.sender) or 'sender'}-document-{self.pk}" + EXTENSIONS.get(
            self.content_type, ""
        )


@receiver(post_delete, sender=SenderDocument)
def _remove_document_file(sender, instance: SenderDocument, **kwargs):
    # After the commit: a rolled-back delete must keep its file.
    if instance.file:
        storage, name = instance.file.storage, instance.file.name
        transaction.on_commit(lambda: storage.delete(name), robust=True)


class Domain(models.Model):
    """A domain name the customer declares; its name without the extension, when it is
    11 characters or fewer, can be added as a sender validated at once."""

    account = models.ForeignKey(
        SmsAccount, on_delete=models.CASCADE, related_name="domains", verbose_name=_("account")
    )
    name = models.CharField(_("domain name"), max_length=253)
    created_at = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("domain name")
        verbose_name_plural = _("domain names")
        constraints = [
            models.UniqueConstraint(fields=["account", "name"], name="one_domain_name_per_account")
        ]

    def __str__(self):
        return self.name

    @property
    def sender_name(self) -> str:
        return sender_from_domain(self.name)
