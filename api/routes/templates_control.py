"""/sms/{serviceName}/templatesControl: message templates submitted for moderation; staff
approve or refuse them (with a reason, in `comment`) in the admin."""

import datetime as dt
from typing import Literal

from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema

from messaging import services as messaging
from messaging.models import TemplateControl

from ..errors import ApiError
from ..schemas import responses
from .base import account_for, done

router = Router(tags=["templatesControl"])

Activity = Literal["alerting", "authentification", "transactional"]
Status = Literal["disable", "enable", "refused", "waitingValidation"]
_ONE = "/sms/{serviceName}/templatesControl/{name}"


class TemplateIn(Schema):
    activity: Activity
    name: str = Field(..., min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_.-]+$")
    message: str = Field(..., min_length=1, max_length=2000)
    description: str | None = Field(None, max_length=200)
    reason: str | None = Field(None, max_length=1000)


class TemplateUpdate(Schema):
    activity: Activity | None = None
    description: str | None = Field(None, max_length=200)
    message: str | None = Field(None, min_length=1, max_length=2000)
    status: Status | None = None


class RelaunchIn(Schema):
    description: str = Field(..., max_length=200)
    message: str = Field(..., min_length=1, max_length=2000)


class TemplateOut(Schema):
    activity: Activity
    comment: str
    datetime: dt.datetime
    description: str
    message: str
    name: str
    status: Status


def _template(request, service_name: str, name: str) -> TemplateControl:
    account = account_for(request, service_name)
    return get_object_or_404(TemplateControl, account=account, name=name)


@router.get("/sms/{serviceName}/templatesControl", response=responses(list[str]))
def templates_list(request, serviceName: str):
    account = account_for(request, serviceName)
    return list(TemplateControl.objects.filter(account=account).values_list("name", flat=True))


@router.post("/sms/{serviceName}/templatesControl", response=responses(None))
def templates_create(request, serviceName: str, payload: TemplateIn):
    """Submit a template (`#VALUE#` marks the parts that change); staff moderate it."""
    try:
        messaging.template_control_create(
            account=account_for(request, serviceName), name=payload.name,
            activity=payload.activity, message=payload.message,
            description=payload.description or "", reason=payload.reason or "",
        )  # fmt: skip
    except messaging.TemplateControlError as exc:
        raise ApiError(409, str(exc), "ALREADY_EXISTS") from None
    return done()


@router.get(_ONE, response=responses(TemplateOut))
def templates_get(request, serviceName: str, name: str):
    t = _template(request, serviceName, name)
    return {"activity": t.activity, "comment": t.comment, "datetime": t.created_at,
            "description": t.description, "message": t.message, "name": t.name,
            "status": t.status}  # fmt: skip


@router.put(_ONE, response=responses(None))
def templates_update(request, serviceName: str, name: str, payload: TemplateUpdate):
    """A new message or activity goes back to moderation; an approved template may be
    disabled and enabled again."""
    try:
        messaging.template_control_update(
            _template(request, serviceName, name), activity=payload.activity,
            description=payload.description, message=payload.message, status=payload.status,
        )  # fmt: skip
    except messaging.TemplateControlError as exc:
        raise ApiError.invalid(str(exc)) from None
    return done()


@router.delete(_ONE, response=responses(None))
def templates_delete(request, serviceName: str, name: str):
    _template(request, serviceName, name).delete()
    return done()


@router.post(_ONE + "/relaunchValidation", response=responses(None))
def templates_relaunch(request, serviceName: str, name: str, payload: RelaunchIn):
    """Submit a refused template again, corrected."""
    try:
        messaging.template_control_relaunch(_template(request, serviceName, name),
                                            description=payload.description,
                                            message=payload.message)  # fmt: skip
    except messaging.TemplateControlError as exc:
        raise ApiError.invalid(str(exc)) from None
    return done()
