"""Celery tasks: thin, safe to run twice, and never the only record of work to do.

The database holds what is to be done (messaging.dispatch); these tasks only wake workers up.
Services import this module at the top to enqueue; tasks import services inside their body.
A task that hits a database outage just ends: the next beat tick resumes the work, so nothing
is given up after a fixed number of retries.
"""

from celery import shared_task


@shared_task(ignore_result=True, acks_late=False)
def dispatch_pump(slot: str = "") -> int:
    """Start queued jobs and submit due messages for a while (acknowledged on receipt: if the
    worker dies, the rows it claimed come back after their lease and the tick wakes another)."""
    from . import dispatch

    return dispatch.pump_task(slot)


@shared_task(ignore_result=True, acks_late=False)
def dispatch_tick() -> int:
    """Beat, every few seconds: release planned jobs and campaigns' messages at their pace,
    wake pumps when work is due."""
    from . import campaigns, dispatch

    campaigns.tick()
    return dispatch.tick()


# A million recipients take minutes on a busy machine; within campaigns.PREPARE_LEASE.
@shared_task(ignore_result=True, acks_late=False, time_limit=25 * 60, soft_time_limit=24 * 60)
def campaign_prepare(campaign_id: int) -> bool:
    """Gather a campaign's audience, charge it and write its held messages (the tick queues
    this again if the worker died meanwhile)."""
    from . import campaigns

    return campaigns.campaign_prepare(campaign_id)


@shared_task(ignore_result=True, acks_late=False)
def clicks_flush() -> int:
    """Beat: write the short links' clicks counted in Redis to their rows (nothing is lost
    if this dies midway: the next run finishes the batch, never counting it twice)."""
    from . import clicks

    return clicks.flush()


@shared_task(ignore_result=True, acks_late=False)
def reports_sweep() -> int:
    """Beat: apply kept reports whose message became known; expire overdue messages."""
    from . import reports

    return reports.unmatched_reports_apply() + reports.messages_expire_overdue()


@shared_task(ignore_result=True)
def simulator_tick() -> int:
    from .operator.simulated import deliver_due_events

    handled = 0
    while batch := deliver_due_events():
        handled += batch
    return handled


@shared_task(ignore_result=True)
def send_customer_callbacks() -> int:
    from .webhooks import send_due

    tried = 0
    while batch := send_due():
        tried += batch
    return tried


@shared_task(ignore_result=True)
def ovh_reports_poll() -> int:
    """Beat: delivery reports of the messages OVHcloud routes carried."""
    from .operator.ovh import reports_poll

    return reports_poll()
