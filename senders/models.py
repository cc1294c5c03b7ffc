from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import SmsAccount


class SenderQuerySet(models.QuerySet):
    def enabled(self):
        return self.filter(status=Sender.Status.ENABLE)


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

    account = models.ForeignKey(SmsAccount, on_delete=models.CASCADE, related_name="senders")
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
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
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
