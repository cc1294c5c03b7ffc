"""/sms/{serviceName}/smpp/*: refused in OVHcloud's error shape until smspanel has SMPP
customer accounts (the `smpp` field of every account is false)."""

from typing import Literal

from ninja import Field, Router, Schema

from ..errors import ApiError
from ..schemas import responses
from .base import account_for

router = Router(tags=["smpp"])

REASON = ("SMPP customer accounts do not exist in smspanel yet: send through the API "
          "(/sms/{serviceName}/jobs) or http2sms")
_REFUSED = {"x-refused": REASON}


class AllowedIPs(Schema):
    action: Literal["add", "remove"]
    ips: list[str] = Field(..., max_length=100)


def _refuse(request, service_name: str):
    account_for(request, service_name)  # another account's name is still unknown (404)
    raise ApiError(400, "This account is not an SMPP account: " + REASON, "NOT_AVAILABLE")


@router.get("/sms/{serviceName}/smpp/allowedIPs", response=responses(list[str]),
            openapi_extra=_REFUSED)  # fmt: skip
def smpp_allowed_ips(request, serviceName: str):
    _refuse(request, serviceName)


@router.put("/sms/{serviceName}/smpp/allowedIPs", response=responses(list[str]),
            openapi_extra=_REFUSED)  # fmt: skip
def smpp_allowed_ips_update(request, serviceName: str, payload: AllowedIPs):
    _refuse(request, serviceName)


@router.post("/sms/{serviceName}/smpp/password", response=responses(None),
             openapi_extra=_REFUSED)  # fmt: skip
def smpp_password(request, serviceName: str):
    _refuse(request, serviceName)


@router.get("/sms/{serviceName}/smpp/settings", response=responses(dict),
            openapi_extra=_REFUSED)  # fmt: skip
def smpp_settings(request, serviceName: str):
    _refuse(request, serviceName)
