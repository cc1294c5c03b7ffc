"""Celery tasks of the accounts app: thin, safe to run twice."""

from importlib import import_module

from celery import shared_task
from django.conf import settings


@shared_task(ignore_result=True)
def clear_expired_sessions() -> None:
    """Delete expired sessions (what `manage.py clearsessions` does), daily from beat."""
    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()
