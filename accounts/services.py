"""Credit workflows. Balances change only here, always with a ledger row and a unique key."""

import uuid
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core import signing
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .models import CreditMovement, CreditOrder, Membership, SmsAccount, SmsUser

CENT = Decimal("0.01")


class InsufficientCredits(Exception):
    """The account does not hold enough credits; nothing was changed."""


class _AlreadyApplied(Exception):
    pass


def _quantize(amount) -> Decimal:
    return Decimal(amount).quantize(CENT)


def _apply(*, account_id: int, amount: Decimal, kind: str, key: str, reason: str = "", by=None):
    """Apply one movement inside the caller's transaction (or a new one).

    Returns the new movement, or None when a movement with this key already exists (the cause
    was already applied: a retried task, a double click). Raises InsufficientCredits when a
    negative amount would overdraw the account; the conditional UPDATE makes that check atomic.
    """
    if CreditMovement.objects.filter(key=key).exists():
        return None
    try:
        with transaction.atomic():
            accounts = SmsAccount.objects.filter(pk=account_id)
            if amount < 0:
                accounts = accounts.filter(credits__gte=-amount)
            if not accounts.update(credits=F("credits") + amount):
                raise InsufficientCredits
            balance, threshold = SmsAccount.objects.filter(pk=account_id).values_list(
                "credits", "low_credit_threshold"
            )[0]
            try:
                with transaction.atomic():
                    movement = CreditMovement.objects.create(
                        account_id=account_id,
                        kind=kind,
                        amount=amount,
                        balance_after=balance,
                        key=key,
                        reason=reason,
                        created_by=by,
                    )
            except IntegrityError:
                # A concurrent call with the same key won; undo our balance change.
                raise _AlreadyApplied from None
            if threshold is not None and balance < threshold <= balance - amount:
                # This movement took the balance below the threshold: exactly one alert.
                transaction.on_commit(lambda: _low_credit_alert(account_id))
            return movement
    except _AlreadyApplied:
        return None


def _low_credit_alert(account_id: int) -> None:
    account = SmsAccount.objects.get(pk=account_id)
    owners = Membership.objects.filter(account=account, role=Membership.Role.OWNER)
    to = (
        [account.alert_email]
        if account.alert_email
        else [m.user.email for m in owners.select_related("user")]
    )
    with translation.override(settings.LANGUAGE_CODE):
        send_mail(
            _("Low credits on %(name)s") % {"name": account.name},
            render_to_string("accounts/email/low_credits.txt", {"account": account}),
            None,
            to,
            fail_silently=True,  # an alert must never undo or block a send
        )


def credits_debit(*, account: SmsAccount, amount, key: str, reason: str = "", by=None):
    """Take `amount` credits, or raise InsufficientCredits and change nothing."""
    amount = _quantize(amount)
    if amount <= 0:
        raise ValueError("A debit must be positive")
    return _apply(
        account_id=account.pk,
        amount=-amount,
        kind=CreditMovement.Kind.DEBIT,
        key=key,
        reason=reason,
        by=by,
    )


def credits_refund(*, account: SmsAccount, amount, key: str, reason: str = ""):
    amount = _quantize(amount)
    if amount <= 0:
        raise ValueError("A refund must be positive")
    return _apply(
        account_id=account.pk,
        amount=amount,
        kind=CreditMovement.Kind.REFUND,
        key=key,
        reason=reason,
    )


def credits_refund_many(*, account_id: int, refunds: list[tuple[str, Decimal, str]]) -> int:
    """Refund several causes of one account at once: (key, amount, reason) each, one movement
    per cause, one balance update. A cause whose key is already in the ledger is skipped (the
    unique key refuses a second refund of it); returns how many were applied.

    For the hot path (a batch of failed messages): `credits_refund` costs four queries a cause.
    """
    wanted = {key: (_quantize(amount), reason) for key, amount, reason in refunds if amount > 0}
    if not wanted:
        return 0
    with transaction.atomic():
        done = set(
            CreditMovement.objects.filter(key__in=list(wanted)).values_list("key", flat=True)
        )
        todo = [(key, *wanted[key]) for key in wanted if key not in done]
        if not todo:
            return 0
        total = sum((amount for _key, amount, _reason in todo), Decimal("0"))
        # The UPDATE locks the account row until commit: the balances written below are exact.
        SmsAccount.objects.filter(pk=account_id).update(credits=F("credits") + total)
        balance = SmsAccount.objects.values_list("credits", flat=True).get(pk=account_id) - total
        movements = []
        for key, amount, reason in todo:
            balance += amount
            movements.append(
                CreditMovement(
                    account_id=account_id,
                    kind=CreditMovement.Kind.REFUND,
                    amount=amount,
                    balance_after=balance,
                    key=key,
                    reason=reason,
                )
            )
        # A key inserted meanwhile by another transaction raises IntegrityError here and rolls
        # the whole batch back (balance included): never two refunds for one cause.
        CreditMovement.objects.bulk_create(movements)
    return len(todo)


def credits_add(*, account: SmsAccount, amount, kind: str, key: str, reason: str = "", by=None):
    """Orders, welcome credits and staff adjustments (which may be negative)."""
    amount = _quantize(amount)
    if amount == 0:
        raise ValueError("The amount cannot be zero")
    return _apply(account_id=account.pk, amount=amount, kind=kind, key=key, reason=reason, by=by)


def credits_transfer(*, source: SmsAccount, target: SmsAccount, amount, by, key: str | None = None):
    """Move credits between two accounts of the same customer, both sides or neither.

    `by` must own the source account and be a member of the target. Returns the pair of
    movements (out, in), or None when this transfer key was already applied.
    """
    amount = _quantize(amount)
    if amount <= 0:
        raise ValueError("A transfer must be positive")
    if source.pk == target.pk:
        raise ValueError("Source and target are the same account")
    if (
        not Membership.objects.filter(user=by, account=source, role=Membership.Role.OWNER).exists()
        or not Membership.objects.filter(user=by, account=target).exists()
    ):
        raise PermissionError("The user must own the source and be a member of the target")
    key = key or str(uuid.uuid4())
    out_args = dict(
        account_id=source.pk,
        amount=-amount,
        kind=CreditMovement.Kind.TRANSFER_OUT,
        key=f"transfer:{key}:out",
        reason=target.name,
        by=by,
    )
    in_args = dict(
        account_id=target.pk,
        amount=amount,
        kind=CreditMovement.Kind.TRANSFER_IN,
        key=f"transfer:{key}:in",
        reason=source.name,
        by=by,
    )
    # Touch the two rows in primary-key order so opposite transfers cannot deadlock.
    steps = [out_args, in_args] if source.pk < target.pk else [in_args, out_args]
    with transaction.atomic():
        done = [_apply(**steps[0]), _apply(**steps[1])]
        if None in done:
            if done != [None, None]:
                raise IntegrityError(f"Transfer {key} was half applied")
            return None
    return (done[0], done[1]) if steps[0] is out_args else (done[1], done[0])


def account_open(*, user, description: str = "", free_credits: Decimal = Decimal("0")):
    """Create an SMS account owned by `user`, with optional welcome credits."""
    with transaction.atomic():
        account = SmsAccount.objects.create(
            name=SmsAccount.next_name_for(user), description=description
        )
        Membership.objects.create(user=user, account=account, role=Membership.Role.OWNER)
        if free_credits > 0:
            credits_add(
                account=account,
                amount=free_credits,
                kind=CreditMovement.Kind.SIGNUP,
                key=f"signup:{account.pk}",
            )
    return account


# --- SMS users (OVH sms.User): http2sms logins and API sub-identities ---------------------------


class SmsUserError(Exception):
    """The change was refused; the message says why."""


def sms_user_create(*, account: SmsAccount, login: str, password: str) -> SmsUser:
    if SmsUser.objects.filter(account=account, login=login).exists():
        raise SmsUserError(_("This login is already used on this account."))
    try:
        with transaction.atomic():
            return SmsUser.objects.create(
                account=account, login=login, password=make_password(password)
            )
    except IntegrityError:  # created meanwhile by a concurrent call
        raise SmsUserError(_("This login is already used on this account.")) from None


def sms_user_update(user: SmsUser, *, password: str | None = None, quota_left=None, **fields):
    """Change a user's settings; a new quota replaces the one left (OVH sets it this way)."""
    for name, value in fields.items():
        setattr(user, name, value)
    if password:
        user.password = make_password(password)
    if quota_left is not None:
        user.quota_left = _quantize(quota_left)
    user.save()


def sms_user_authenticate(*, account_name: str, login: str, password: str, address: str):
    """The SMS user these http2sms credentials name, or None (unknown account or login, wrong
    password, or an address outside the user's ipRestrictions)."""
    user = (
        SmsUser.objects.select_related("account")
        .filter(account__name=account_name, login=login)
        .first()
    )
    if user is None:
        make_password(password)  # the same work as a known login: no timing oracle
        return None
    if not check_password(password, user.password):
        return None
    if user.ip_restrictions and address not in user.ip_restrictions:
        return None
    return user


def sms_user_quota_debit(*, user: SmsUser, amount) -> bool:
    """Take `amount` from the user's quota when it is on; False (nothing changed) when the
    quota left is short. Inside the caller's transaction, next to the account's debit."""
    if user.quota_status != SmsUser.QuotaStatus.ACTIVE:
        return True
    amount = _quantize(amount)
    users = SmsUser.objects.filter(pk=user.pk, quota_left__gte=amount)
    if not users.update(quota_left=F("quota_left") - amount):
        return False
    left = SmsUser.objects.filter(pk=user.pk).values_list("quota_left", flat=True)[0]
    threshold = user.alert_threshold
    if threshold and left < threshold <= left + amount:
        transaction.on_commit(lambda: _quota_alert(user.pk))
    return True


def _quota_alert(user_id: int) -> None:
    user = SmsUser.objects.select_related("account").get(pk=user_id)
    if not user.alert_email or user.alert_support == SmsUser.Support.SMS:
        return  # alerts by SMS are not sent: no sender is dedicated to them
    with translation.override(settings.LANGUAGE_CODE):
        send_mail(
            _("SMS user %(login)s: quota low") % {"login": user.login},
            _("The SMS user %(login)s of %(account)s has %(left)s credits of quota left.")
            % {"login": user.login, "account": user.account.name, "left": user.quota_left},
            None,
            [user.alert_email],
            fail_silently=True,
        )


# --- credit orders («Recharger»): placed by the customer, confirmed by staff ------------------


def order_create(*, account: SmsAccount, quantity: int, by) -> CreditOrder:
    """A pending order of `quantity` credits at the pack's price; nothing is credited yet."""
    from .pricing import PACKS, credit_price

    if quantity not in PACKS:
        raise ValueError(f"No pack of {quantity} credits")
    return CreditOrder.objects.create(
        account=account, quantity=quantity, unit_price=credit_price(quantity), created_by=by
    )


def order_confirm(*, order_id: int, by) -> bool:
    """Credit the account with a pending order's credits (the order's own ledger key) and mark
    it confirmed. False, changing nothing, when it is not pending any more."""
    with transaction.atomic():
        order = CreditOrder.objects.select_for_update().filter(pk=order_id).first()
        if order is None or order.status != CreditOrder.Status.PENDING:
            return False
        credits_add(
            account=order.account,
            amount=order.quantity,
            kind=CreditMovement.Kind.ORDER,
            key=order.ledger_key,
            reason=_("Order #%(id)s") % {"id": order.pk},
            by=by,
        )
        order.status = CreditOrder.Status.CONFIRMED
        order.decided_by, order.decided_at = by, timezone.now()
        order.save(update_fields=["status", "decided_by", "decided_at"])
    return True


def order_cancel(*, order_id: int, by) -> bool:
    """Cancel a pending order (nothing was credited). False when it is not pending."""
    updated = CreditOrder.objects.filter(pk=order_id, status=CreditOrder.Status.PENDING).update(
        status=CreditOrder.Status.CANCELLED, decided_by=by, decided_at=timezone.now()
    )
    return bool(updated)


# --- E-mail verification: the welcome credits wait for it ----------------------------------

VERIFY_SALT = "accounts.email-verification"
VERIFY_MAX_AGE = 7 * 86400


def email_verification_token(user) -> str:
    # The address is signed too: a link sent before an address change verifies nothing.
    return signing.dumps({"u": user.pk, "e": user.email}, salt=VERIFY_SALT)


def email_verification_send(*, user, url: str) -> None:
    """E-mail `user` the link (`url`, absolute, ending in the token) that verifies the address."""
    with translation.override(settings.LANGUAGE_CODE):
        send_mail(
            _("Confirm your e-mail address"),
            render_to_string("accounts/email/verify_email.txt", {"user": user, "url": url}),
            None,
            [user.email],
        )


def email_verify(*, token: str):
    """Mark the address in `token` verified and give the welcome credits, once.

    Returns the user, or None for a link that is forged, expired or for an address changed
    since. Following a link twice gives the credits once (the ledger key)."""
    from django.contrib.auth import get_user_model

    try:
        data = signing.loads(token, salt=VERIFY_SALT, max_age=VERIFY_MAX_AGE)
    except signing.BadSignature:
        return None
    user = get_user_model().objects.filter(pk=data.get("u"), email=data.get("e")).first()
    if user is None:
        return None
    with transaction.atomic():
        first = (
            get_user_model()
            .objects.filter(pk=user.pk, email_verified_at__isnull=True)
            .update(email_verified_at=timezone.now())
        )
        account = (
            SmsAccount.objects.filter(
                memberships__user=user, memberships__role=Membership.Role.OWNER
            )
            .order_by("created_at", "pk")
            .first()
        )
        if first and account is not None and settings.SIGNUP_FREE_CREDITS > 0:
            credits_add(
                account=account,
                amount=settings.SIGNUP_FREE_CREDITS,
                kind=CreditMovement.Kind.SIGNUP,
                key=f"signup:{account.pk}",
            )
    user.refresh_from_db()
    return user
