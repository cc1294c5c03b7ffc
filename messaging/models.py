from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import SmsAccount, SmsUser
from senders.models import Sender

from .encoding import STOP_CLAUSE

# Django finds an app's models through its models module.
from .route_models import Route, RouteCountry, RouteFailover, SmppOutbox, SmppPart  # noqa: F401
from .simulator_models import SimulatorBatch, SimulatorEvent  # noqa: F401
from .total_models import MessageTotal  # noqa: F401


class SmsJobQuerySet(models.QuerySet):
    def unsent(self):
        """Jobs not sent yet: planned, queued or being sent (Sender.has_pending_jobs reads this
        through the sender's reverse relation, `sender.jobs.unsent()`)."""
        return self.filter(status__in=SmsJob.UNSENT)


class SmsJob(models.Model):
    """One submission from the send form or the API: one text to many recipients."""

    class Status(models.TextChoices):
        # Waiting for its time (deferred, or postponed to the commercial window).
        SCHEDULED = "scheduled", _("Scheduled")
        # Due: waiting for a worker to fan it out.
        QUEUED = "queued", _("Queued")
        # Messages are being submitted to the operator.
        SENDING = "sending", pgettext_lazy("job status", "Sending")
        # Every message was submitted or failed; delivery reports may still arrive.
        DONE = "done", _("Sent")
        # Cancelled before sending; fully refunded.
        CANCELLED = "cancelled", _("Cancelled")

    # Not sent yet: planned, queued or being sent.
    UNSENT = (Status.SCHEDULED, Status.QUEUED, Status.SENDING)

    class SmsClass(models.TextChoices):
        PHONE_DISPLAY = "phoneDisplay", _("Standard")
        FLASH = "flash", _("Flash")
        SIM = "sim", _("SIM")

    account = models.ForeignKey(
        SmsAccount, on_delete=models.CASCADE, related_name="jobs", verbose_name=_("account")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", verbose_name=_("created by"),
    )  # fmt: skip
    # Null for the short number, or once the sender was deleted (sender_label and
    # reply_allowed keep what the job was sent with; deleting a sender that pending or
    # planned jobs use is refused by senders.services).
    sender = models.ForeignKey(
        Sender, on_delete=models.SET_NULL, null=True, blank=True, related_name="jobs",
        verbose_name=_("sender"),
    )  # fmt: skip
    # The SMS user who sent it (API users/{login}/jobs, http2sms); null for the account's own.
    sms_user = models.ForeignKey(
        SmsUser, on_delete=models.SET_NULL, null=True, blank=True, related_name="jobs",
        verbose_name=_("SMS user"),
    )  # fmt: skip
    # The sender shown to recipients; empty for the short number that allows replies.
    sender_label = models.CharField(_("sender"), max_length=16, blank=True)
    # Sent from the short number or a virtual number: recipients can answer.
    reply_allowed = models.BooleanField(_("replies allowed"), default=True)
    message = models.TextField(_("message"))
    stop_clause = models.BooleanField(_("STOP mention"), default=True)
    sms_class = models.CharField(
        _("class"), max_length=12, choices=SmsClass, default=SmsClass.PHONE_DISPLAY
    )
    tag = models.CharField(_("tag"), max_length=64, blank=True)
    encoding = models.CharField(_("encoding"), max_length=5)
    segments = models.PositiveSmallIntegerField(_("SMS per message"))
    credits = models.DecimalField(_("credits"), max_digits=14, decimal_places=2)
    scheduled_at = models.DateTimeField(_("planned for"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status, db_index=True)
    recipients_count = models.PositiveIntegerField(_("recipients"), default=0)
    stoplisted_count = models.PositiveIntegerField(_("STOP-listed"), default=0)
    duplicates_count = models.PositiveIntegerField(_("duplicates"), default=0)
    invalid_receivers = models.JSONField(_("invalid receivers"), default=list, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    # Minutes a submitted message may wait for its delivery report before it is expired
    # (OVH `validityPeriod`, 2880 = 48 h by default).
    validity_period = models.PositiveIntegerField(_("validity period (minutes)"), default=2880)
    # Set once no message of the job waits for a report any more (all final): the expiry
    # sweep only looks at finished jobs without it.
    settled_at = models.DateTimeField(null=True, blank=True, verbose_name=_("settled at"))
    # A campaign's variant ("A", "B"…; "W" for the rest sent the winner's text): the campaign
    # holds the job (planned with no time) and releases its messages at the campaign's pace.
    campaign = models.ForeignKey(
        "messaging.Campaign", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="jobs", verbose_name=_("campaign"),
    )  # fmt: skip
    variant = models.CharField(_("variant"), max_length=8, blank=True)

    objects = SmsJobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("send job")
        verbose_name_plural = _("send jobs")
        indexes = [
            models.Index(fields=["account", "-created_at"], name="job_account_idx"),
            models.Index(fields=["status", "scheduled_at"], name="job_due_idx"),
            models.Index(
                fields=["finished_at"],
                name="job_unsettled_idx",
                condition=models.Q(settled_at__isnull=True, status="done"),
            ),
        ]

    def __str__(self):
        return f"job {self.pk} ({self.account})"

    def get_absolute_url(self):
        return reverse("messaging:job", args=[self.account.name, self.pk])

    @cached_property  # read for every message of the job at dispatch
    def full_text(self) -> str:
        return self.message + (STOP_CLAUSE if self.stop_clause else "")

    @property
    def cancellable(self) -> bool:
        # A campaign's jobs are cancelled with their campaign.
        return self.status == self.Status.SCHEDULED and self.campaign_id is None


class PendingChunk(models.Model):
    """A chunk of a big job's recipients, stored at submission; dispatchers turn each chunk
    into messages, so the send page returns as soon as the numbers are parsed.

    One row per chunk (DISPATCH["BATCH"] recipients), deleted in the transaction that writes
    its messages: a count of rows written on one big row rewrote the whole recipient list on
    every batch (SQLite copies a row's every overflow page on UPDATE), and two dispatchers had
    to wait for each other on that one row."""

    job = models.ForeignKey(
        SmsJob, on_delete=models.CASCADE, related_name="pending_chunks", db_index=False
    )
    # Position of the chunk in the job's recipient list: chunks are written in this order.
    seq = models.PositiveIntegerField()
    # [receiver, country, source, parts, text, credits, status] per recipient
    rows = models.JSONField()

    class Meta:
        verbose_name = _("pending recipients")
        verbose_name_plural = _("pending recipients")
        constraints = [
            models.UniqueConstraint(fields=["job", "seq"], name="pending_recipients_job_seq")
        ]

    def __str__(self):
        return f"recipients of job {self.job_id} ({self.seq})"


class OutgoingMessage(models.Model):
    """One SMS of a job to one recipient (OVH `sms.Outgoing`)."""

    class Status(models.TextChoices):
        # Waiting to be submitted (or to be retried after a transient error) from
        # next_attempt_at on; with no next_attempt_at, its job has not started yet.
        QUEUED = "queued", _("Pending")
        # Claimed by a dispatcher, which may be talking to the operator right now; the claim
        # (lease) lasts until next_attempt_at, after which another dispatcher takes it over.
        SUBMITTING = "submitting", pgettext_lazy("message status", "Being sent")
        # Accepted by the operator, waiting for the delivery report.
        SUBMITTED = "submitted", _("Sent")
        # The handset received it.
        DELIVERED = "delivered", _("Delivered")
        # The operator could not deliver it (handset off, full, absent).
        UNDELIVERED = "undelivered", _("Not delivered")
        # Refused by the operator or out of retries; refunded.
        FAILED = "failed", _("Failed")
        # Not delivered within its validity period; refunded.
        EXPIRED = "expired", _("Expired")
        # The recipient is on the account's STOP list: never sent, never charged.
        STOPLISTED = "stoplisted", _("STOP list")
        # Its planned job (or the message alone) was cancelled before sending; refunded.
        CANCELLED = "cancelled", pgettext_lazy("message status", "Cancelled")

    # No index of their own: the indexes below start with job_id or account_id and serve those
    # lookups; each index more is one more entry written per claim and per record.
    # No database constraint either: the rows are only ever written by the dispatcher for a
    # job it has just read (dispatch.messages_insert), and Django's delete collector, not the
    # database, cascades a job's or an account's deletion to its messages (on_delete works
    # the same). On PostgreSQL the two foreign-key checks were ~40% of the database's work
    # per inserted message (each one a locking lookup of the job, then of the account), for
    # every message of every send (bench/send.py).
    job = models.ForeignKey(
        SmsJob, on_delete=models.CASCADE, related_name="messages", db_index=False,
        db_constraint=False, verbose_name=_("send"),
    )  # fmt: skip
    account = models.ForeignKey(
        SmsAccount, on_delete=models.CASCADE, related_name="+", db_index=False,
        db_constraint=False, verbose_name=_("account"),
    )  # fmt: skip
    receiver = models.CharField(_("recipient"), max_length=16)
    country = models.CharField(_("country"), max_length=2)
    # Where the recipient came from: "typed", "book:<id>", "list:<slot>".
    source = models.CharField(_("source"), max_length=24, blank=True)
    # This recipient's own text when the message has personalisation fields (else the job's).
    text = models.TextField(_("message"), blank=True)
    parts = models.PositiveSmallIntegerField(_("SMS"))
    credits = models.DecimalField(_("credits"), max_digits=10, decimal_places=2)
    status = models.CharField(_("status"), max_length=12, choices=Status)
    operator_id = models.CharField(_("operator id"), max_length=64, blank=True)
    error_code = models.CharField(_("error"), max_length=32, blank=True)
    # Claims by a dispatcher (each one a submission to the operator, or a lost one).
    attempts = models.PositiveSmallIntegerField(default=0, verbose_name=_("attempts"))
    # queued: when it may be claimed; submitting: when the claim's lease runs out.
    next_attempt_at = models.DateTimeField(null=True, blank=True, verbose_name=_("next attempt at"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    submitted_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    # The upstream that carried it (null: the operator of settings.SMS_OPERATOR); written by
    # messaging.routing, never by the bulk insert.
    route = models.ForeignKey(
        Route, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    # Sent again after a submission whose answer was lost (SMPP's duplicate policy).
    possible_duplicate = models.BooleanField(
        _("possible duplicate"), default=False, db_default=False
    )

    class Meta:
        ordering = ["-id"]
        verbose_name = _("outgoing SMS")
        verbose_name_plural = _("outgoing SMS")
        constraints = [
            models.UniqueConstraint(fields=["job", "receiver"], name="one_message_per_receiver")
        ]
        indexes = [
            models.Index(fields=["account", "-id"], name="outgoing_account_idx"),
            models.Index(fields=["job", "status"], name="outgoing_job_status_idx"),
            # Partial: rows enter without an operator id or a retry time, so a 100,000-message
            # job does not pay for these two indexes at submission.
            models.Index(
                fields=["operator_id"],
                name="outgoing_operator_idx",
                condition=~models.Q(operator_id=""),
            ),
            # The dispatch queue: rows waiting for a claim or whose claim expired. Rows leave it
            # when submitted, so it stays the size of the work in flight.
            models.Index(
                fields=["next_attempt_at"],
                name="outgoing_due_idx",
                condition=models.Q(status__in=["queued", "submitting"]),
            ),
            # History filters by date and by recipient; neither column changes after insert.
            models.Index(fields=["account", "created_at"], name="outgoing_account_created_idx"),
            models.Index(fields=["account", "receiver"], name="outgoing_account_receiver_idx"),
            # A route's page (throughput, reports waiting); rows only enter it when routed.
            models.Index(
                fields=["route", "submitted_at"],
                name="outgoing_route_idx",
                condition=models.Q(route__isnull=False),
            ),
        ]

    def __str__(self):
        return f"{self.receiver} ({self.status})"

    def get_absolute_url(self):
        return reverse("messaging:message", args=[self.job.account.name, self.pk])

    @property
    def refunded(self) -> bool:
        return self.status in self.REFUNDED and self.credits > 0

    @property
    def shown_text(self) -> str:
        """What this recipient received: its own text when personalised, else the job's."""
        return self.text or self.job.message

    # Final states: a report never moves a message out of them.
    FINAL = frozenset({"delivered", "undelivered", "failed", "expired", "stoplisted", "cancelled"})
    # Final states whose credits went back to the account.
    REFUNDED = (Status.FAILED, Status.EXPIRED, Status.CANCELLED)
    # Not handed to the operator yet (the API lists them under jobs, not outgoing): the rows
    # of the dispatch queue (outgoing_due_idx).
    IN_FLIGHT = (Status.QUEUED, Status.SUBMITTING)


class MessageEvent(models.Model):
    """A step of a message's life its row does not keep (a retry with the operator's error,
    each part's report, a refund), written in bulk by the step that causes it; the message
    page shows them with the row's own timestamps and the replies."""

    class Kind(models.TextChoices):
        # A transient refusal by the operator; the message waits for another attempt.
        RETRY = "retry", _("Retry planned")
        # A delivery report for one part (final or intermediate, such as "buffered").
        REPORT = "report", _("Delivery report")
        # The message reached a refunded final state; its credits went back to the account.
        REFUND = "refund", _("Refund")

    message = models.ForeignKey(
        OutgoingMessage, on_delete=models.CASCADE, related_name="events", db_index=False,
        verbose_name=_("message"),
    )  # fmt: skip
    at = models.DateTimeField(verbose_name=_("at"))
    kind = models.CharField(max_length=8, choices=Kind, verbose_name=_("kind"))
    # The report's status ("delivered", "buffered"…) or the state refunded ("failed"…).
    status = models.CharField(max_length=16, blank=True, verbose_name=_("status"))
    error_code = models.CharField(max_length=32, blank=True, verbose_name=_("error code"))
    part = models.PositiveSmallIntegerField(null=True, blank=True, verbose_name=_("part"))
    parts = models.PositiveSmallIntegerField(null=True, blank=True, verbose_name=_("parts"))
    credits = models.DecimalField(
        max_digits=10, decimal_places=2, null=True, blank=True, verbose_name=_("credits")
    )

    class Meta:
        verbose_name = _("message event")
        verbose_name_plural = _("message events")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["message", "at"], name="message_event_idx")]

    def __str__(self):
        return f"{self.kind} {self.status} ({self.message_id})"


class StopListEntry(models.Model):
    """A number that asked not to receive SMS from this account (OVH `sms.Blacklist`)."""

    account = models.ForeignKey(
        SmsAccount, on_delete=models.CASCADE, related_name="stop_list", verbose_name=_("account")
    )
    number = models.CharField(_("number"), max_length=16)
    created_at = models.DateTimeField(_("date"), auto_now_add=True)
    outgoing = models.ForeignKey(
        OutgoingMessage, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("outgoing message"),
    )  # fmt: skip

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("STOP list entry")
        verbose_name_plural = _("STOP list")
        constraints = [
            models.UniqueConstraint(fields=["account", "number"], name="one_stop_entry_per_number")
        ]

    def __str__(self):
        return self.number


class IncomingMessage(models.Model):
    """An SMS received from a recipient, in reply to one of ours (OVH `sms.Incoming`)."""

    account = models.ForeignKey(
        SmsAccount, on_delete=models.CASCADE, related_name="incoming", verbose_name=_("account")
    )
    sender = models.CharField(_("from"), max_length=16)
    text = models.TextField(_("message"))
    received_at = models.DateTimeField(_("received"))
    tag = models.CharField(_("tag"), max_length=64, blank=True)
    outgoing = models.ForeignKey(
        OutgoingMessage, on_delete=models.SET_NULL, null=True, blank=True, related_name="replies",
        verbose_name=_("in reply to"),
    )  # fmt: skip
    # The operator's reference: a retried callback does not store the reply twice.
    ref = models.CharField(max_length=80, unique=True, verbose_name=_("reference"))

    class Meta:
        ordering = ["-id"]
        verbose_name = _("received SMS")
        verbose_name_plural = _("received SMS")
        indexes = [models.Index(fields=["account", "-id"], name="incoming_account_idx")]

    def __str__(self):
        return f"{self.sender}: {self.text[:30]}"


class MessageTemplate(models.Model):
    """A saved text (« Modèle ») picked in the send form."""

    account = models.ForeignKey(
        SmsAccount, on_delete=models.CASCADE, related_name="templates", verbose_name=_("account")
    )
    name = models.CharField(_("name"), max_length=60)
    text = models.TextField(_("message"), max_length=10_000)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")
        constraints = [
            models.UniqueConstraint(
                fields=["account", "name"], name="one_template_name_per_account"
            )
        ]

    def __str__(self):
        return self.name


class WebhookSettings(models.Model):
    """Where the customer's system hears about delivery reports and STOPs (OVH `callBack`,
    `stopCallBack`), and the secret that signs those POSTs. "Webhooks" are these outbound POSTs
    to the customer; "callbacks" are the operator's inbound reports (messaging.callbacks)."""

    account = models.OneToOneField(
        SmsAccount, on_delete=models.CASCADE, related_name="webhook_settings",
        verbose_name=_("account"),
    )  # fmt: skip
    delivery_url = models.URLField(_("delivery report URL"), blank=True, max_length=500)
    stop_url = models.URLField(_("STOP URL"), blank=True, max_length=500)
    # Kept to sign each POST (HMAC-SHA256); shown to the customer once, when generated.
    secret = models.CharField(max_length=64, verbose_name=_("secret"))

    class Meta:
        verbose_name = _("webhook settings")
        verbose_name_plural = _("webhook settings")

    def __str__(self):
        return f"webhooks of {self.account}"


class WebhookDelivery(models.Model):
    """One POST to the customer's system, retried with backoff for up to 24 hours."""

    class Status(models.TextChoices):
        # Waiting for its (next) attempt.
        PENDING = "pending", _("Pending")
        # The customer's server answered 2xx.
        DONE = "done", _("Delivered")
        # Still failing 24 hours after the event: given up.
        FAILED = "failed", _("Failed")

    account = models.ForeignKey(
        SmsAccount, on_delete=models.CASCADE, related_name="+", verbose_name=_("account")
    )
    kind = models.CharField(_("event"), max_length=10)  # "delivery" | "stop"
    url = models.URLField(max_length=500, verbose_name=_("URL"))
    payload = models.JSONField(verbose_name=_("payload"))
    status = models.CharField(_("status"), max_length=8, choices=Status, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, verbose_name=_("next attempt at"))
    last_status_code = models.PositiveSmallIntegerField(_("last HTTP status"), null=True)
    last_error = models.CharField(_("last error"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True, verbose_name=_("delivered at"))

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["account", "-id"], name="webhook_account_idx"),
            models.Index(
                fields=["next_attempt_at"],
                name="webhook_due_idx",
                condition=models.Q(status="pending"),
            ),
        ]

    def __str__(self):
        return f"{self.kind} → {self.url} ({self.status})"


class UnmatchedReport(models.Model):
    """A delivery report or reply whose message is not known by its operator id yet.

    The operator can answer faster than a dispatcher records its submission; the report is kept
    here (never dropped) and applied when the submission record lands, or shown to staff on the
    dispatch health page when it never does."""

    class Kind(models.TextChoices):
        REPORT = "report", _("Delivery report")
        REPLY = "reply", _("Reply")

    kind = models.CharField(max_length=8, choices=Kind, verbose_name=_("kind"))
    operator_id = models.CharField(max_length=64, db_index=True, verbose_name=_("operator id"))
    # As received (operator_id, status, part, parts, at, error_code / text).
    payload = models.JSONField(verbose_name=_("payload"))
    received_at = models.DateTimeField(db_index=True, verbose_name=_("received at"))

    class Meta:
        ordering = ["received_at", "id"]
        verbose_name = _("unmatched report")
        verbose_name_plural = _("unmatched reports")

    def __str__(self):
        return f"{self.kind} {self.operator_id}"


class TemplateControl(models.Model):
    """A message template submitted for moderation (OVH `sms.TemplateControl`, needed to send
    to some countries): staff approve it or refuse it with a reason in the admin."""

    class Activity(models.TextChoices):
        ALERTING = "alerting", _("Alerts")
        AUTHENTIFICATION = "authentification", _("Authentication")
        TRANSACTIONAL = "transactional", _("Transactional")

    class Status(models.TextChoices):
        # Submitted (or submitted again), waiting for staff.
        WAITING = "waitingValidation", _("Validation in progress")
        # Approved by staff.
        ENABLE = "enable", _("Enabled")
        # Approved, then switched off by staff.
        DISABLE = "disable", _("Disabled")
        # Refused by staff; the reason is in `comment`.
        REFUSED = "refused", _("Refused")

    account = models.ForeignKey(
        SmsAccount, on_delete=models.CASCADE, related_name="templates_control"
    )
    name = models.CharField(_("name"), max_length=32)
    activity = models.CharField(_("kind"), max_length=16, choices=Activity)
    description = models.CharField(_("description"), max_length=200, blank=True)
    # "#VALUE#" marks a part that changes from one SMS to the next.
    message = models.TextField(_("message"), max_length=2000)
    reason = models.CharField(_("justification"), max_length=1000, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status, default=Status.WAITING)
    comment = models.CharField(_("moderator's comment"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("submitted"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("template for moderation")
        verbose_name_plural = _("templates for moderation")
        constraints = [
            models.UniqueConstraint(fields=["account", "name"], name="one_template_control_name")
        ]

    def __str__(self):
        return self.name


class HlrLookup(models.Model):
    """A number lookup (OVH `sms.HlrLookupNumber`): does the number exist, is it reachable,
    ported, roaming — answered by the operator (the simulator: messaging.operator.hlr)."""

    class Status(models.TextChoices):
        TODO = "todo", _("To do")
        DOING = "doing", _("Running")
        DONE = "done", _("Done")
        ERROR = "error", _("Failed")

    account = models.ForeignKey(SmsAccount, on_delete=models.CASCADE, related_name="hlr_lookups")
    number = models.CharField(_("number"), max_length=16)
    status = models.CharField(_("status"), max_length=8, choices=Status, default=Status.TODO)
    valid = models.BooleanField(default=False)
    reachable = models.BooleanField(default=False)
    ported = models.BooleanField(default=False)
    roaming = models.BooleanField(default=False)
    # MCC+MNC of the network serving the number.
    operator_code = models.CharField(max_length=8, blank=True)
    credits = models.DecimalField(_("credits"), max_digits=10, decimal_places=2)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("number lookup")
        verbose_name_plural = _("number lookups")
        indexes = [models.Index(fields=["account", "-id"], name="hlr_account_idx")]

    def __str__(self):
        return f"{self.number} ({self.status})"


class ChatAccess(models.Model):
    """A secret address where a virtual number's conversations can be read (OVH chatAccess)."""

    sender = models.OneToOneField(Sender, on_delete=models.CASCADE, related_name="chat_access")
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"chat of {self.sender}"


from .campaign_models import Campaign, ClickFlush, HeldRecipients, ShortLink  # noqa: E402, F401 - Django finds them here
