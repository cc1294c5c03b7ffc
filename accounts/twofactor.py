"""Two-factor authentication over django-otp.

A user has at most one confirmed TOTP device (an authenticator app) and one static device that
holds the recovery codes (each works once). Having a confirmed device means the login asks for
a code after the password; staff must have one before the admin opens (accounts.admin_site).
"""

import base64
import time

import segno
from django.db import transaction
from django_otp import user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

RECOVERY_CODES = 10
# The code step must follow the password step within this many seconds.
CODE_STEP_SECONDS = 300
PENDING = "login_pending"  # session key: the user who passed the password step


def is_enabled(user) -> bool:
    return user_has_device(user, confirmed=True)


def pending_device(user) -> TOTPDevice:
    """The unconfirmed device being set up (its secret stays the same across page loads)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name="Authenticator", confirmed=False)


def secret(device: TOTPDevice) -> str:
    """The key as authenticator apps expect it to be typed: base32, in groups of four."""
    key = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


def qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// URI as an inline SVG QR code (no image request, no external service)."""
    return segno.make(device.config_url, error="m").svg_inline(scale=4, dark="#000", light="#fff")


def normalise(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def enable(*, user, device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm `device` with a code from the app; returns new recovery codes, None if wrong."""
    if not device.verify_token(normalise(code)):
        return None
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        return recovery_codes_renew(user=user)


def recovery_codes_renew(*, user) -> list[str]:
    """Replace the recovery codes by RECOVERY_CODES new ones; shown once, stored as given
    (django-otp's static tokens)."""
    with transaction.atomic():
        device, _ = StaticDevice.objects.get_or_create(
            user=user, name="Recovery codes", defaults={"confirmed": True}
        )
        device.token_set.all().delete()
        codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
        StaticToken.objects.bulk_create(StaticToken(device=device, token=c) for c in codes)
    return codes


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user).count()


def disable(*, user) -> None:
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()


def start_code_step(request, user, *, next_url: str) -> None:
    """Remember that `user` passed the password step, for the code step (accounts:login_code)."""
    request.session[PENDING] = {
        "user": user.pk,
        "backend": getattr(user, "backend", "accounts.backends.ThrottledModelBackend"),
        "next": next_url,
        "at": time.time(),
    }


def pending_login(request) -> dict | None:
    pending = request.session.get(PENDING)
    if not pending or time.time() - pending["at"] > CODE_STEP_SECONDS:
        request.session.pop(PENDING, None)
        return None
    return pending
