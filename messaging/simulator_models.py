"""The simulated operator's own state (messaging.operator.simulated), kept in the panel's
database so that it survives a worker killed mid-send, as a real operator's would.

Imported by messaging.models (Django finds the models there)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class SimulatorBatch(models.Model):
    """The simulated operator's own record of what it accepted (its idempotency store): one
    row per accepted batch, its message ids as ranges (a big job's ids run in sequence). One
    row per message cost the simulator as much as the panel's own insert of the message."""

    first_id = models.BigIntegerField()
    last_id = models.BigIntegerField()
    # [[first, last], ...]: inclusive, ascending, disjoint
    ranges = models.JSONField()
    accepted_at = models.DateTimeField()

    class Meta:
        verbose_name = _("simulator batch")
        verbose_name_plural = _("simulator batches")
        # Batches overlapping [lo, hi] are those with last_id >= lo and first_id <= hi; new ids
        # are above every batch's last_id, so the range scan is short.
        indexes = [models.Index(fields=["last_id"], name="simulator_last_idx")]

    def __str__(self):
        return f"messages {self.first_id}–{self.last_id}"


class SimulatorEvent(models.Model):
    """A delivery report or reply the simulated operator will send when due."""

    due_at = models.DateTimeField(db_index=True)
    kind = models.CharField(max_length=8)  # "report" | "reply"
    payload = models.JSONField()

    class Meta:
        verbose_name = _("simulator event")
        verbose_name_plural = _("simulator events")

    def __str__(self):
        return f"{self.kind} due {self.due_at}"
