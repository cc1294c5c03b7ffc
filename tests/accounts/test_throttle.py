"""accounts.throttle: reservations before the check, per e-mail and client address, with a
lockout that doubles each time."""

import time

import pytest

from accounts import throttle


@pytest.fixture(autouse=True)
def _small(settings):
    settings.LOGIN_THROTTLE_ATTEMPTS = 3
    settings.LOGIN_THROTTLE_WINDOW = 1


def attempts(identity="a@example.com", ip="10.0.0.1") -> int:
    """How many reservations pass before the first refusal (at most 10 tried)."""
    for n in range(10):
        try:
            throttle.reserve(identity, ip)
        except throttle.Throttled:
            return n
    return 10


def test_it_reserves_up_to_the_limit_then_refuses():
    assert attempts() == 3
    assert attempts() == 0  # still locked
    assert attempts(ip="10.0.0.2") == 3  # the same e-mail from elsewhere: its own count
    assert attempts(identity="b@example.com") == 3


def test_a_success_clears_the_pair():
    for _ in range(2):
        throttle.reserve("a@example.com", "10.0.0.1")
    throttle.succeeded("a@example.com", "10.0.0.1")

    assert attempts() == 3


def test_each_lockout_lasts_twice_as_long():
    assert attempts() == 3
    time.sleep(1.2)  # first lockout: one window
    assert attempts() == 3
    time.sleep(1.2)  # second lockout: two windows, not over yet
    assert attempts() == 0
    time.sleep(1.0)
    assert attempts() == 3


def test_an_address_has_a_budget_across_e_mails():
    passed = sum(attempts(identity=f"u{i}@example.com") for i in range(10))

    assert passed == 3 * throttle.ADDRESS_FACTOR
