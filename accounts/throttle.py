"""Login throttling that holds under concurrency, with a soft lockout.

Every check of a password (or of a two-factor code) first *reserves* an attempt with one atomic
cache INCR; a request whose reservation is over the limit is refused before anything is checked.
Sixty wrong passwords sent at once therefore check at most LOGIN_THROTTLE_ATTEMPTS of them: a
check-then-count scheme (count failures after the check, as django-axes does) lets every request
that arrives before the first failure is recorded through.

The counter is per identity *and* client address: a stranger who exhausts it locks out only
their own address, never the owner logging in from elsewhere. Each lockout of the same pair
within a day lasts twice as long as the previous one (LOGIN_THROTTLE_WINDOW, then ×2, ×4… up
to a day). A client address also has a budget across identities (4 × the limit), against one
machine trying many e-mail addresses. A successful check clears the pair and gives the
address's reservation back.
"""

import hashlib

from django.conf import settings
from django.core.cache import cache

from core import ratelimit

DAY = 86400
ADDRESS_FACTOR = 4  # offices share one address: it gets more room than one e-mail


class Throttled(Exception):
    """Too many attempts for this identity from this address: nothing was checked."""


def _pair_keys(identity: str, ip: str) -> tuple[str, str]:
    digest = hashlib.sha256(f"{identity.strip().lower()}|{ip}".encode()).hexdigest()
    return f"login:pair:{digest}", f"login:strikes:{digest}"


def _address_key(ip: str) -> str:
    return f"login:ip:{ip}"


def reserve(identity: str, ip: str) -> None:
    """Take one attempt for `identity` (an e-mail, or "otp:<user id>") from `ip`, or raise
    Throttled. Call before checking the secret; call succeeded() when it was right."""
    limit = settings.LOGIN_THROTTLE_ATTEMPTS
    window = settings.LOGIN_THROTTLE_WINDOW
    pair, strikes = _pair_keys(identity, ip)
    count = ratelimit.hit(pair, timeout=window)
    if count > limit:
        if count == limit + 1:
            # Exactly one request sees this number, so the lockout grows once per lockout.
            lockouts = ratelimit.hit(strikes, timeout=DAY)
            cache.touch(pair, min(window * 2 ** (lockouts - 1), DAY))
        raise Throttled
    if ratelimit.hit(_address_key(ip), timeout=window) > limit * ADDRESS_FACTOR:
        ratelimit.give_back(pair)
        raise Throttled


def succeeded(identity: str, ip: str) -> None:
    cache.delete_many(_pair_keys(identity, ip))
    ratelimit.give_back(_address_key(ip))
