"""The audit log: one call per staff action or security event (AuditEvent, append-only)."""

import ipaddress

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from core.ratelimit import client_ip

from .models import AuditEvent, User

Action = AuditEvent.Action


def _ip(request) -> str | None:
    if request is None:
        return None
    address = client_ip(request)
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def record(
    action: str, *, request=None, actor=None, subject=None, account=None, detail: str = ""
) -> AuditEvent:
    """Write one event. `actor` defaults to the request's signed-in user; `subject` is the user
    whose security the event concerns (for the customer's own page)."""
    if actor is None and request is not None and request.user.is_authenticated:
        actor = request.user
    return AuditEvent.objects.create(
        action=action,
        actor=actor,
        subject=subject,
        account=account,
        ip=_ip(request),
        detail=detail[:255],
    )


@receiver(user_logged_in, dispatch_uid="audit-login")
def _logged_in(sender, request, user, **kwargs):
    record(Action.LOGIN, request=request, actor=user, subject=user)


@receiver(user_login_failed, dispatch_uid="audit-login-failed")
def _login_failed(sender, credentials, request=None, **kwargs):
    email = (credentials.get("username") or credentials.get("email") or "").strip().lower()
    subject = User.objects.filter(email=email).first() if email else None
    throttled = getattr(request, "login_throttled", False)
    record(
        Action.LOGIN_THROTTLED if throttled else Action.LOGIN_FAILED,
        request=request,
        subject=subject,
        # The address typed, so staff see guessing against addresses that have no account.
        detail=email,
    )
