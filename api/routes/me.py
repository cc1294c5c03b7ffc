"""/me: the account holder's basic identity (OVH `nichandle.Nichandle`), which scripts read
first as a connection check."""

from typing import Literal

from django.conf import settings
from ninja import Router, Schema

from ..schemas import responses
from .base import user_for

router = Router(tags=["me"])


class Currency(Schema):
    code: str
    symbol: str


class Me(Schema):
    nichandle: str
    email: str
    firstname: str
    name: str
    organisation: str
    country: str
    language: str
    currency: Currency
    ovhCompany: Literal["kimsufi", "ovh", "soyoustart"]
    ovhSubsidiary: str
    state: Literal["complete", "incomplete"]
    legalform: Literal["administration", "association", "corporation", "individual", "other",
                       "personalcorporation"]  # fmt: skip
    customerCode: str | None = None


@router.get("/me", response=responses(Me))
def me(request):
    """The person the key acts for: the member who validated it (their customer handle is the
    nichandle, as in the service names sms-<handle>-<n>)."""
    user = user_for(request)
    language = "fr_FR" if settings.LANGUAGE_CODE.startswith("fr") else "en_GB"
    return {
        "nichandle": user.handle,
        "email": user.email,
        "firstname": user.first_name,
        "name": user.last_name,
        "organisation": user.company,
        "country": request.auth.application.account.default_region,
        "language": language,
        "currency": {"code": "EUR", "symbol": "EURO"},
        "ovhCompany": "ovh",
        "ovhSubsidiary": "FR",
        "state": "complete" if user.first_name and user.last_name else "incomplete",
        "legalform": "corporation" if user.company else "individual",
        "customerCode": None,
    }
