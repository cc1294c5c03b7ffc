"""Dashboard totals kept as messages change state (imported by messaging.models, where Django
finds an app's models; this module imports nothing of messaging)."""

from django.db import models

from accounts.models import SmsAccount


class MessageTotal(models.Model):
    """How many of an account's messages created in one UTC hour entered a state, and their
    credits: `queued` (charged), `stoplisted`, `submitted` (left the panel), then `delivered`,
    `undelivered`, `expired`, `failed`, `cancelled`. Only ever added to, in the transaction
    that moves the messages (messaging.totals), so the dashboard sums a few rows per hour
    instead of reading every message. Paris days are whole UTC hours, so hours add up to them.
    """

    account = models.ForeignKey(SmsAccount, on_delete=models.CASCADE, related_name="+")
    hour = models.DateTimeField()
    status = models.CharField(max_length=12)
    count = models.BigIntegerField(default=0)
    credits = models.DecimalField(max_digits=16, decimal_places=2, default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "hour", "status"], name="one_total_per_hour_and_status"
            )
        ]

    def __str__(self):
        return f"{self.account_id} {self.hour:%Y-%m-%d %H}h {self.status}: {self.count}"
