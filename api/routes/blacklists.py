"""/sms/{serviceName}/blacklists: the account's STOP list."""

from django.shortcuts import get_object_or_404
from ninja import Router

from messaging.models import StopListEntry

from .. import schemas
from ..schemas import responses
from .base import account_for, column, done, stored_number

router = Router(tags=["blacklists"])


@router.get("/sms/{serviceName}/blacklists", response=responses(list[str]))
def blacklists_list(request, serviceName: str):
    return column(request, serviceName, StopListEntry, "number", order="-id")


def _stop_entry(request, service_name: str, value: str) -> StopListEntry:
    account = account_for(request, service_name)
    return get_object_or_404(StopListEntry, account=account, number=stored_number(value, account))


@router.get("/sms/{serviceName}/blacklists/{number}", response=responses(schemas.BlacklistOut))
def blacklists_get(request, serviceName: str, number: str):
    entry = _stop_entry(request, serviceName, number)
    return {"number": entry.number, "dateCreation": entry.created_at}


@router.delete("/sms/{serviceName}/blacklists/{number}", response=responses(None))
def blacklists_delete(request, serviceName: str, number: str):
    _stop_entry(request, serviceName, number).delete()
    return done()
