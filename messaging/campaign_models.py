"""Campaigns (OVH `sms.Batch`): a named send, one SmsJob per message variant, sent at a pace;
and the tracked short links written into their messages.

Imported by messaging.models, so Django finds these models with the others."""

import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import SmsAccount
from senders.models import Sender


class Campaign(models.Model):
    """A named send to an audience, with statistics; each message variant is an SmsJob
    (`jobs`) whose rows the campaign's pacer releases to the dispatcher a few at a time."""

    class Status(models.TextChoices):
        # Created: its audience is being gathered and charged by a task (OVH INSERTING).
        DRAFT = "draft", _("Being prepared")
        # Charged, its messages written and held: waits for its start time (OVH INSERTED).
        SCHEDULED = "scheduled", _("Scheduled")
        # Its messages are released at the pace and dispatched (OVH PENDING).
        SENDING = "sending", pgettext_lazy("campaign status", "Sending")
        # Stopped by the customer: nothing more is released until resumed (OVH PENDING).
        PAUSED = "paused", _("Paused")
        # Every message was handed to the operator or failed (OVH COMPLETED).
        COMPLETED = "completed", _("Completed")
        # Cancelled: its unsent messages were refunded (OVH CANCELED).
        CANCELLED = "cancelled", pgettext_lazy("campaign status", "Cancelled")
        # Could not be prepared (no recipient, not enough credits): nothing charged (OVH FAILED).
        FAILED = "failed", pgettext_lazy("campaign status", "Failed")

    # States in which the pacer has work: release held messages, start, finish.
    ACTIVE = (Status.SCHEDULED, Status.SENDING)
    # States that can be cancelled (unsent messages refunded).
    CANCELLABLE = (Status.SCHEDULED, Status.SENDING, Status.PAUSED)
    FINAL = (Status.COMPLETED, Status.CANCELLED, Status.FAILED)

    class Metric(models.TextChoices):
        CLICKS = "clicks", _("Click rate")
        REPLIES = "replies", _("Reply rate")

    account = models.ForeignKey(SmsAccount, on_delete=models.CASCADE, related_name="campaigns")
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=100)
    status = models.CharField(
        _("status"), max_length=10, choices=Status, default=Status.DRAFT, db_index=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Null for the short number.
    sender = models.ForeignKey(
        Sender, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    stop_clause = models.BooleanField(_("STOP mention"), default=True)
    sms_class = models.CharField(_("class"), max_length=12, default="phoneDisplay")
    tag = models.CharField(_("tag"), max_length=64, blank=True)
    # What the customer chose, read by the preparation task: {"typed": "...", "books": [ids],
    # "lists": [ids], "contacts": [ids]}.
    audience = models.JSONField(default=dict)
    # [{"label": "A", "message": "...", "share": 50}, …]; shares in percent of the audience.
    variants = models.JSONField(default=list)
    track_links = models.BooleanField(_("tracked short links"), default=False)
    # Messages a minute; null: as fast as dispatch goes.
    rate_per_minute = models.FloatField(_("messages a minute"), null=True, blank=True)
    # The pace as the customer set it, for display: ("hours", 6) or ("minute", 100).
    pace_kind = models.CharField(max_length=8, blank=True)
    pace_value = models.PositiveIntegerField(null=True, blank=True)
    start_at = models.DateTimeField(_("start"))
    # After this many hours, the rest of the audience gets the best variant's text.
    winner_after_hours = models.PositiveSmallIntegerField(null=True, blank=True)
    winner_metric = models.CharField(max_length=8, choices=Metric, default=Metric.CLICKS)
    winner = models.CharField(max_length=8, blank=True)
    # The recipients waiting for the winner: [[number, region, source, name, surname, group]].
    rest = models.JSONField(default=list, blank=True)
    estimated_credits = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    total_records = models.PositiveIntegerField(default=0)
    # OVH sms.BatchError: [{"receiver": "...", "message": "..."}].
    errors = models.JSONField(default=list, blank=True)
    # The pacer: messages released so far, and the moment and count the pace counts from
    # (null: start counting at the next release, after a pause or outside the commercial window).
    released = models.PositiveIntegerField(default=0)
    anchor_at = models.DateTimeField(null=True, blank=True)
    anchor_count = models.PositiveIntegerField(default=0)
    # A preparation task's claim: another one takes over after it (the task died).
    lease_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        indexes = [models.Index(fields=["account", "-created_at"], name="campaign_account_idx")]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("messaging:campaign", args=[self.account.name, self.uuid])

    @property
    def reason(self) -> str:
        """How the ledger names this campaign's charges and refunds."""
        return f"{self.name} [{self.uuid}]"[:200]


class ShortLink(models.Model):
    """One URL of one recipient's message, replaced in it by `<SHORT_LINK_BASE>/<code>`: each
    click is counted for that recipient. The message is (job, receiver), unique per job.
    Kept when its campaign is deleted: a link already received keeps working."""

    code = models.CharField(max_length=16, unique=True)
    job = models.ForeignKey(
        "messaging.SmsJob", on_delete=models.CASCADE, related_name="short_links"
    )
    receiver = models.CharField(max_length=16)
    # Only ever redirected to: taken from the customer's text, http(s) only.
    url = models.TextField()
    clicks = models.PositiveIntegerField(default=0)
    first_click_at = models.DateTimeField(null=True, blank=True)
    last_click_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return self.code


class ClickFlush(models.Model):
    """A batch of clicks moved from Redis to the links' rows (messaging.clicks.flush), written
    in the same transaction: a batch found again in Redis after its flusher died is not counted
    twice. Kept a week, as long as an unflushed batch is."""

    batch = models.CharField(max_length=32, unique=True)
    at = models.DateTimeField(db_index=True)

    def __str__(self):
        return self.batch


class HeldRecipients(models.Model):
    """Recipients of a campaign's job not written as messages yet, a few thousand per row.
    The pacer writes them, already due, as the pace releases them (messaging.held): preparing
    a campaign stores its audience in a few hundred rows whatever its size, and each message
    row is written once, when its time comes."""

    job = models.ForeignKey(
        "messaging.SmsJob", on_delete=models.CASCADE, related_name="held_chunks"
    )
    seq = models.PositiveIntegerField()
    # [receiver, country, source, parts, text, credits] per recipient, as messages_insert()
    # takes them (status queued); text "" is the job's message.
    rows = models.JSONField()
    size = models.PositiveIntegerField()
    # How many of `rows` are messages already (the chunk is deleted when all are).
    taken = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "seq"], name="held_chunk_seq")]

    def __str__(self):
        return f"recipients {self.seq} of job {self.job_id}"
