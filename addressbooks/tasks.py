"""Celery tasks: load by id, call one service. Safe to run twice."""

from celery import shared_task

from . import services


@shared_task(acks_late=True, soft_time_limit=3300, time_limit=3500)
def contact_import(import_id: int) -> int:
    return services.contact_import_run(import_id).imported


@shared_task(ignore_result=True)
def recover_stale_imports() -> int:
    return len(services.imports_recover_stale())
