"""What the resource routers share: the key's account and user, identifiers given as text, form
errors, OVHcloud's empty answer, creation-date filters, phone numbers as filters and the
Idempotency-Key of the POSTs that create."""

import re
from collections.abc import Callable
from datetime import UTC, datetime

from django.http import Http404, HttpResponse
from django.utils import timezone

from accounts.models import SmsAccount
from core import recipients as rcpt

from .. import services as api_services
from ..errors import ApiError
from ..models import ConsumerKey, IdempotentRequest

# Identifiers given as text (bookKey, receiversSlotId, document id): ASCII digits that fit a
# bigint. (str.isdigit() also accepts "²", which int() refuses, and int() refuses 5,000 digits.)
_ID = re.compile(r"[0-9]{1,18}")
# The query parameters of OVHcloud's date filters.
DATE_FROM = "creationDatetime.from"
DATE_TO = "creationDatetime.to"


def parse_id(text: str) -> int | None:
    return int(text) if _ID.fullmatch(text) else None


def account_for(request, service_name: str) -> SmsAccount:
    """The key's account, read with the key at the start of this request (money moves through
    conditional updates, never through this object); any other service name is unknown."""
    account = request.auth.application.account
    if account.name != service_name:
        raise Http404
    return account


def user_for(request):
    """The person the key acts for: the member who validated it, else the application's author."""
    ck: ConsumerKey = request.auth
    return ck.validated_by or ck.application.created_by


def column(request, service_name: str, model, field: str, order: str = "") -> list:
    """One field of the account's rows of `model`: the id lists OVHcloud's GET routes return."""
    rows = model.objects.filter(account=account_for(request, service_name))
    return list(rows.order_by(order or field).values_list(field, flat=True))


def once_per_key(request, account: SmsAccount, run: Callable[[], dict]) -> dict:
    """`run()`'s answer; with an `Idempotency-Key` header (up to 255 visible ASCII characters,
    a UUID for instance), run once per key and account within 24 hours: a repeat of the same
    request gets the first answer and does nothing, a key used for another request (method,
    path or body) is refused with 409. `run()` must return JSON (the stored answer)."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return run()
    if not api_services.IDEMPOTENCY_KEY.fullmatch(key):
        raise ApiError.invalid("Invalid Idempotency-Key: 1 to 255 visible ASCII characters")
    try:
        answer, _ran = api_services.idempotent_call(
            account=account,
            key=key,
            fingerprint=IdempotentRequest.fingerprint_of(request),
            run=run,
        )
    except api_services.KeyReused:
        raise ApiError(
            409, "This Idempotency-Key was used for another request", "IDEMPOTENCY_KEY_REUSED"
        ) from None
    return answer


def done() -> HttpResponse:
    """A call that returns nothing answers JSON null, as OVHcloud does (python-ovh decodes
    every 200 body)."""
    return HttpResponse("null", content_type="application/json")


def form_invalid(form) -> ApiError:
    """The error to raise for a panel form that refused the call's parameters."""
    return ApiError.invalid(
        "; ".join(
            f"{field}: {' '.join(errs)}" if field != "__all__" else " ".join(errs)
            for field, errs in form.errors.items()
        )
    )


def _instant(value: datetime, name: str) -> datetime:
    """A filter date as UTC; one the database cannot hold (0001-01-01 in Paris time is in
    year 0 in UTC) is a bad parameter, not a server error."""
    try:
        if timezone.is_naive(value):
            value = timezone.make_aware(value)
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise ApiError.invalid(f"Invalid parameters: {name}: date out of range") from None


def between(qs, field: str, start: datetime | None, end: datetime | None):
    """`qs` filtered on `field` by the creationDatetime.from / .to parameters."""
    if start:
        qs = qs.filter(**{f"{field}__gte": _instant(start, DATE_FROM)})
    if end:
        qs = qs.filter(**{f"{field}__lte": _instant(end, DATE_TO)})
    return qs


def stored_number(value: str, account: SmsAccount) -> str:
    """A phone number as stored (E.164) when it is one, else as given (then it matches nothing)."""
    outcome = rcpt.normalise(value, account.default_region, allow_landline=True)
    return value if isinstance(outcome, str) else outcome.number
