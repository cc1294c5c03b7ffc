"""Celery tasks: load by id, call one service. All are safe to run twice."""

from celery import shared_task
from django.db import OperationalError

from . import services


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def dispatch_job(job_id: int) -> int:
    return services.job_dispatch(job_id=job_id)


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def dispatch_batch(job_id: int, message_ids: list[int], attempt: int = 0) -> None:
    services.batch_submit(job_id=job_id, message_ids=message_ids, attempt=attempt)


@shared_task(ignore_result=True)
def release_due_jobs() -> int:
    return len(services.jobs_release_due())


@shared_task(ignore_result=True)
def retry_due_messages() -> int:
    return services.messages_retry_due()


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
