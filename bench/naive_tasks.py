"""The naive baseline for bench/send.py: one Celery task per message (load, submit, save)."""

from django.utils import timezone

from messaging.models import OutgoingMessage
from messaging.operator import OutboundSms, get_operator
from smspanel.celery import app


@app.task(acks_late=True)
def naive_send(message_id: int) -> None:
    message = OutgoingMessage.objects.select_related("job").get(pk=message_id)
    if message.status != OutgoingMessage.Status.QUEUED:
        return
    job = message.job
    [result] = get_operator().submit(
        [
            OutboundSms(
                message_id=message.pk,
                receiver=message.receiver,
                sender=job.sender_label,
                text=job.full_text,
                parts=message.parts,
                sms_class=job.sms_class,
                reply_allowed=True,
            )
        ]
    )
    message.status = OutgoingMessage.Status.SUBMITTED
    message.operator_id = result.operator_id
    message.submitted_at = timezone.now()
    message.attempts += 1
    message.save(update_fields=["status", "operator_id", "submitted_at", "attempts"])
