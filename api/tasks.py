"""Celery tasks of the API: thin, safe to run twice (they import services in their body, as
every app's tasks do)."""

from celery import shared_task


@shared_task(ignore_result=True)
def purge() -> int:
    """Expired documents, credentials nobody validated, idempotency keys past their lifetime."""
    from . import services

    return (
        services.documents_purge()
        + services.pending_credentials_purge()
        + services.idempotent_requests_purge()
    )
