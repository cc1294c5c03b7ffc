"""What an SMS user sends and receives: /sms/{serviceName}/users/{login}/jobs, outgoing,
incoming, and receivers (the account's recipient lists: slots 1–9 are shared by the account and
its users)."""

from datetime import datetime
from typing import Annotated

from django.shortcuts import get_object_or_404
from ninja import Query, Router

from .. import schemas
from ..schemas import responses
from . import receivers as account_receivers
from .base import DATE_FROM, DATE_TO, done
from .incoming import replies, reply_ids, reply_out
from .jobs import pending, pending_cancel, send
from .outgoing import SentFilters, message_out, sent, sent_delete, sent_message
from .users import sms_user_for

router = Router(tags=["users"])

_USER = "/sms/{serviceName}/users/{login}"


@router.get(_USER + "/jobs", response=responses(list[int]))
def user_jobs_list(request, serviceName: str, login: str):
    user = sms_user_for(request, serviceName, login)
    return list(pending(user.account, user).order_by("id").values_list("id", flat=True))


@router.post(_USER + "/jobs", response=responses(schemas.SendingReport))
def user_jobs_create(request, serviceName: str, login: str, payload: schemas.JobIn):
    """Send as this SMS user: charged to the account, and to the user's quota when it is on."""
    user = sms_user_for(request, serviceName, login)
    return send(request, user.account, payload, sms_user=user)


@router.get(_USER + "/jobs/{id}", response=responses(schemas.JobOut))
def user_jobs_get(request, serviceName: str, login: str, id: int):
    user = sms_user_for(request, serviceName, login)
    return message_out(get_object_or_404(pending(user.account, user).select_related("job"),
                                         pk=id))  # fmt: skip


@router.delete(_USER + "/jobs/{id}", response=responses(None))
def user_jobs_delete(request, serviceName: str, login: str, id: int):
    user = sms_user_for(request, serviceName, login)
    return pending_cancel(pending(user.account, user), id)


@router.get(_USER + "/outgoing", response=responses(list[int]))
def user_outgoing_list(request, serviceName: str, login: str, filters: Query[SentFilters]):
    user = sms_user_for(request, serviceName, login)
    return filters.apply(sent(user.account, user), user.account)


@router.get(_USER + "/outgoing/{id}", response=responses(schemas.OutgoingOut))
def user_outgoing_get(request, serviceName: str, login: str, id: int):
    user = sms_user_for(request, serviceName, login)
    return message_out(sent_message(sent(user.account, user), id))


@router.delete(_USER + "/outgoing/{id}", response=responses(None))
def user_outgoing_delete(request, serviceName: str, login: str, id: int):
    user = sms_user_for(request, serviceName, login)
    return sent_delete(sent(user.account, user), id)


@router.get(_USER + "/incoming", response=responses(list[int]))
def user_incoming_list(
    request,
    serviceName: str,
    login: str,
    date_from: Annotated[datetime | None, Query(alias=DATE_FROM)] = None,
    date_to: Annotated[datetime | None, Query(alias=DATE_TO)] = None,
    sender: str | None = None,
    tag: str | None = None,
):
    user = sms_user_for(request, serviceName, login)
    return reply_ids(replies(user.account, user), user.account, sender=sender, tag=tag,
                     date_from=date_from, date_to=date_to)  # fmt: skip


@router.get(_USER + "/incoming/{id}", response=responses(schemas.IncomingOut))
def user_incoming_get(request, serviceName: str, login: str, id: int):
    user = sms_user_for(request, serviceName, login)
    return reply_out(get_object_or_404(replies(user.account, user), pk=id))


@router.delete(_USER + "/incoming/{id}", response=responses(None))
def user_incoming_delete(request, serviceName: str, login: str, id: int):
    user = sms_user_for(request, serviceName, login)
    get_object_or_404(replies(user.account, user), pk=id).delete()
    return done()


# Recipient lists: the account's, reached through the user (who must exist).


@router.get(_USER + "/receivers", response=responses(list[int]))
def user_receivers_list(request, serviceName: str, login: str):
    sms_user_for(request, serviceName, login)
    return account_receivers.receivers_list(request, serviceName)


@router.post(_USER + "/receivers", response=responses(schemas.ReceiverOut))
def user_receivers_create(request, serviceName: str, login: str, payload: schemas.ReceiverIn):
    sms_user_for(request, serviceName, login)
    return account_receivers.receivers_create(request, serviceName, payload)


@router.get(_USER + "/receivers/{slotId}", response=responses(schemas.ReceiverOut))
def user_receivers_get(request, serviceName: str, login: str, slotId: int):
    sms_user_for(request, serviceName, login)
    return account_receivers.receivers_get(request, serviceName, slotId)


@router.put(_USER + "/receivers/{slotId}", response=responses(None))
def user_receivers_update(request, serviceName: str, login: str, slotId: int,
                          payload: schemas.ReceiverUpdate):  # fmt: skip
    sms_user_for(request, serviceName, login)
    return account_receivers.receivers_update(request, serviceName, slotId, payload)


@router.delete(_USER + "/receivers/{slotId}", response=responses(None))
def user_receivers_delete(request, serviceName: str, login: str, slotId: int):
    sms_user_for(request, serviceName, login)
    return account_receivers.receivers_delete(request, serviceName, slotId)


@router.get(_USER + "/receivers/{slotId}/csv", response=responses(str))
def user_receivers_csv(request, serviceName: str, login: str, slotId: int):
    sms_user_for(request, serviceName, login)
    return account_receivers.receivers_csv(request, serviceName, slotId)


@router.post(_USER + "/receivers/{slotId}/clean", response=responses(schemas.CleanOut))
def user_receivers_clean(request, serviceName: str, login: str, slotId: int,
                         payload: schemas.CleanIn):  # fmt: skip
    sms_user_for(request, serviceName, login)
    return account_receivers.receivers_clean(request, serviceName, slotId, payload)
