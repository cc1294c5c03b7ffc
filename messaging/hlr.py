"""Number lookups (HLR) asked by a customer: charged like a send (one debit for the whole
request, a tenth of one SMS part to the number's country each), answered at once by the
simulated operator's seeded model (messaging.operator.hlr)."""

import secrets
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from accounts.services import InsufficientCredits, credits_debit
from core import recipients as rcpt

from . import selectors
from .models import ChatAccess, HlrLookup
from .operator import hlr
from .services import SendError

# A lookup costs this share of one SMS part to the number's country.
HLR_SHARE = Decimal("0.1")


def _seed() -> int:
    return settings.SMS_OPERATOR.get("SIMULATOR", {}).get("seed", 42)


def hlr_request(*, account, user, parsed: rcpt.ParsedRecipients) -> tuple[list[HlrLookup], list]:
    """Look the valid numbers up; returns (lookups, numbers not looked up with the reason).
    Raises SendError when the credits do not cover them (nothing is then charged or stored)."""
    split = selectors.recipients_served(parsed.valid)
    rates, served = split.rates, split.recipients
    unserved = [[raw, reason] for raw, reason in parsed.invalid] + split.unserved
    if not served:
        return [], unserved
    costs = [(rates[r.region] * HLR_SHARE).quantize(Decimal("0.01")) for r in served]
    seed = _seed()
    with transaction.atomic():
        rows = []
        for recipient, cost in zip(served, costs, strict=True):
            answer = hlr.lookup(recipient.number, seed=seed)
            rows.append(HlrLookup(
                account=account, number=recipient.number, status=HlrLookup.Status.DONE,
                valid=answer.valid, reachable=answer.reachable, ported=answer.ported,
                roaming=answer.roaming, operator_code=answer.operator_code, credits=cost,
            ))  # fmt: skip
        lookups = HlrLookup.objects.bulk_create(rows)
        total = sum(costs, Decimal("0"))
        if total > 0:
            try:
                credits_debit(account=account, amount=total, by=user,
                              key=f"hlr:{secrets.token_hex(12)}", reason="HLR")  # fmt: skip
            except InsufficientCredits:
                transaction.set_rollback(True)
                raise SendError(
                    _("Your credit balance is insufficient: these lookups need %(cost)s credits.")
                    % {"cost": number_format(total, 2)}
                ) from None
    if lookups and lookups[0].pk is None:  # backends that do not return ids from bulk_create
        lookups = list(HlrLookup.objects.filter(account=account).order_by("-id")[: len(rows)])
        lookups.reverse()
    return lookups, unserved


def chat_access_open(*, sender) -> ChatAccess:
    """The virtual number's chat address (one per number; asked again, the same one)."""
    access, _created = ChatAccess.objects.get_or_create(
        sender=sender, defaults={"token": secrets.token_urlsafe(32)}
    )
    return access


def chat_access_close(*, sender) -> bool:
    return bool(ChatAccess.objects.filter(sender=sender).delete()[0])
