"""Celery tasks: load by id, call one service. Safe to run twice.

The services import this module to queue the tasks; the tasks import the services inside their
body, so the two modules do not import each other at load time.
"""

from celery import shared_task


@shared_task(acks_late=True, soft_time_limit=3300, time_limit=3500)
def contact_import(import_id: int) -> int:
    from .services import contact_import_run

    return contact_import_run(import_id).imported


@shared_task(acks_late=True, soft_time_limit=3300, time_limit=3500)
def recipient_list_import(list_id: int) -> int:
    from .lists import list_import_run

    return list_import_run(list_id).records


@shared_task(ignore_result=True)
def recover_stale_imports() -> int:
    """Contact imports and recipient list uploads whose worker or task was lost."""
    from .lists import lists_recover_stale
    from .services import imports_recover_stale

    return len(imports_recover_stale()) + len(lists_recover_stale())
