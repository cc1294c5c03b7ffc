"""Celery tasks of the API: thin, safe to run twice."""

from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def purge() -> int:
    """Expired documents and credentials nobody validated."""
    return services.documents_purge() + services.pending_credentials_purge()
