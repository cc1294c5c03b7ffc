"""Upstreams ("routes") staff configure, and what routing and the SMPP connector record.

Imported by messaging.models (Django finds the models there); the references to
OutgoingMessage are by name, so this module imports nothing of messaging.
"""

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

# Seconds without a connector heartbeat after which an SMPP route counts as down.
HEARTBEAT_STALE_SECONDS = 20


class Route(models.Model):
    """One upstream the panel can hand messages to, with its connection settings."""

    class Kind(models.TextChoices):
        SIMULATED = "simulated", _("Simulator")
        SMPP = "smpp", _("SMPP 3.4")
        OVH = "ovh", _("OVHcloud API")
        HTTP = "http", _("Generic HTTP (JSON)")

    class Link(models.TextChoices):
        UNKNOWN = "unknown", _("Unknown")
        UP = "up", _("Up")
        DOWN = "down", _("Down")

    name = models.CharField(_("name"), max_length=60, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind, default=Kind.SIMULATED)
    enabled = models.BooleanField(_("enabled"), default=True)
    # Connection settings, no secret (shown in admin): see messaging.routing.CONFIG_HELP.
    config = models.JSONField(_("settings"), default=dict, blank=True)
    # Password, token, application secret…: written in admin, never shown again.
    credentials = models.JSONField(default=dict, blank=True, editable=False)
    throughput = models.PositiveIntegerField(
        _("throughput limit (messages/s)"), default=100, validators=[MinValueValidator(1)]
    )
    # Delivery error codes that mean "this route has a problem" (not "this handset"):
    # such an undelivered report sends the message again through the next route.
    failover_errors = models.CharField(
        _("delivery errors that fail over"),
        max_length=200,
        blank=True,
        help_text=_("Comma-separated error codes, e.g. 069,0FF"),
    )
    # Written by whatever talks to the upstream (the SMPP connector, routing for the others).
    link = models.CharField(_("link"), max_length=8, choices=Link, default=Link.UNKNOWN)
    link_error = models.CharField(_("last link error"), max_length=200, blank=True)
    link_changed_at = models.DateTimeField(_("link changed"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("connector heartbeat"), null=True, blank=True)
    # Throttled or down until then: routing passes over it meanwhile.
    resting_until = models.DateTimeField(_("resting until"), null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("route")
        verbose_name_plural = _("routes")

    def __str__(self):
        return self.name

    def failover_codes(self) -> set[str]:
        return {c.strip().upper() for c in self.failover_errors.split(",") if c.strip()}


class RouteCountry(models.Model):
    """A destination a route serves, at a cost; the cheapest healthy route goes first."""

    ANY = "*"

    route = models.ForeignKey(Route, on_delete=models.CASCADE, related_name="countries")
    country = models.CharField(
        _("country (ISO code)"), max_length=2, help_text=_("FR, BE… or * for every country")
    )
    cost = models.DecimalField(
        _("cost per SMS"), max_digits=8, decimal_places=4, default=Decimal("0")
    )
    # Among routes of equal cost, the lower number goes first.
    priority = models.PositiveSmallIntegerField(_("priority"), default=10)

    class Meta:
        ordering = ["country", "cost", "priority"]
        verbose_name = _("country served")
        verbose_name_plural = _("countries served")
        constraints = [
            models.UniqueConstraint(fields=["route", "country"], name="one_route_country")
        ]

    def __str__(self):
        return f"{self.route} {self.country}"


class RouteFailover(models.Model):
    """One message moved from a route to the next (submit error, throttling, link down, or
    a delivery error configured as a route problem)."""

    message = models.ForeignKey(
        "messaging.OutgoingMessage", on_delete=models.CASCADE, related_name="failovers"
    )
    from_route = models.ForeignKey(
        Route, on_delete=models.CASCADE, related_name="failovers_from", verbose_name=_("from")
    )
    # Null when no other route was left (the message waits or fails as its error says).
    to_route = models.ForeignKey(
        Route,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("to"),
    )
    reason = models.CharField(_("reason"), max_length=32)
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("failover")
        verbose_name_plural = _("failovers")
        indexes = [models.Index(fields=["from_route", "at"], name="failover_route_at_idx")]

    def __str__(self):
        return f"{self.message_id}: {self.from_route_id} → {self.to_route_id} ({self.reason})"


class SmppOutbox(models.Model):
    """A message handed to an SMPP route's connector, and what became of its submission.

    Routing writes it `waiting` (the message stays `submitting`, its lease lengthened); the
    connector claims it (`sending`, committed before the first submit_sm), then records
    `accepted` with the SMSC's ids, or hands the message back. A row still `sending` when its
    link dropped (or the connector died) is `unknown`: see the duplicate policy in
    messaging.operator.smpp_connector."""

    class State(models.TextChoices):
        WAITING = "waiting", _("Waiting for the connector")
        SENDING = "sending", _("Being sent")
        ACCEPTED = "accepted", _("Accepted")
        UNKNOWN = "unknown", _("No answer (link lost)")

    message = models.OneToOneField(
        "messaging.OutgoingMessage",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="smpp",
    )
    route = models.ForeignKey(Route, on_delete=models.CASCADE, related_name="+")
    # The dispatch claim (OutgoingMessage.attempts) the connector records its answer under.
    claim = models.PositiveSmallIntegerField()
    state = models.CharField(max_length=8, choices=State, default=State.WAITING)
    # What to send, as dispatch prepared it: receiver, sender, text, sms_class.
    payload = models.JSONField(default=dict)
    # Sent again after an unknown outcome (the duplicate policy allows it once).
    resent = models.BooleanField(default=False)
    smsc_ids = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["route", "state"], name="smpp_outbox_route_idx")]

    def __str__(self):
        return f"{self.message_id} on {self.route_id} ({self.state})"


class SmppPart(models.Model):
    """One part of a message as the SMSC knows it: its id and its receipt."""

    route = models.ForeignKey(Route, on_delete=models.CASCADE, related_name="+")
    smsc_id = models.CharField(max_length=65)
    message = models.ForeignKey(
        "messaging.OutgoingMessage", on_delete=models.CASCADE, related_name="smpp_parts"
    )
    part = models.PositiveSmallIntegerField()
    parts = models.PositiveSmallIntegerField()
    # Empty until its receipt: then DELIVRD, UNDELIV, EXPIRED, REJECTD…
    stat = models.CharField(max_length=8, blank=True)
    err = models.CharField(max_length=8, blank=True)
    reported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["message_id", "part"]
        constraints = [
            models.UniqueConstraint(fields=["route", "smsc_id"], name="one_smpp_part_id")
        ]

    def __str__(self):
        return f"{self.smsc_id} ({self.part}/{self.parts} {self.stat})"
