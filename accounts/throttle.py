"""Login throttling: count failures per e-mail and per client address (core.ratelimit)."""

import hashlib

from django.conf import settings
from django.core.cache import cache

from core import ratelimit


def _keys(email: str, ip: str | None) -> list[str]:
    keys = ["login-fail:email:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()]
    if ip:
        keys.append(f"login-fail:ip:{ip}")
    return keys


def client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR")


def is_locked(email: str, ip: str | None) -> bool:
    limit = settings.LOGIN_THROTTLE_ATTEMPTS
    # An address gets more room than one e-mail: offices share addresses.
    limits = [limit, limit * 4]
    values = cache.get_many(_keys(email, ip))
    return any(values.get(k, 0) >= lim for k, lim in zip(_keys(email, ip), limits, strict=False))


def record_failure(email: str, ip: str | None) -> None:
    for key in _keys(email, ip):
        ratelimit.hit(key, timeout=settings.LOGIN_THROTTLE_WINDOW)


def reset(email: str) -> None:
    cache.delete(_keys(email, None)[0])
