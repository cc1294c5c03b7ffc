"""Credits under real concurrency (PostgreSQL): threads with their own connections and commits.

Each worker opens its connection first, waits on a barrier so the debits hit the database
together, and closes its connection at the end.
"""

import random
import threading
from decimal import Decimal

import pytest
from django.db import connection

from accounts import services
from accounts.models import CreditMovement, SmsAccount
from tests.accounts.factories import AccountFactory, MembershipFactory, UserFactory, ledger_sum
from tests.conftest import ON_POSTGRES

# Threads need committed rows, hence transaction=True (tests/conftest.py puts the seeded
# destination rates back after the flush).
pytestmark = pytest.mark.django_db(transaction=True)

JOIN_TIMEOUT = 120  # a hung worker fails the test instead of hanging the suite


# Run by the PostgreSQL pass of CI (.ci/run); SQLite serialises writers anyway.
pytestmark = [pytestmark, pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL")]


def run_together(count, work):
    """Run work(i) in `count` threads released at once; return ("ok", value) / ("error", exc)."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def worker(i):
        try:
            connection.ensure_connection()
            barrier.wait(timeout=JOIN_TIMEOUT)
            results[i] = ("ok", work(i))
        except BaseException as error:  # noqa: BLE001 - reported to the test
            results[i] = ("error", error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a worker is stuck"
    assert None not in results
    return results


def balance(account):
    return SmsAccount.objects.values_list("credits", flat=True).get(pk=account.pk)


def test_concurrent_debits_never_overdraw():
    account = AccountFactory(credits_amount="50")

    results = run_together(
        20, lambda i: services.credits_debit(account=account, amount=5, key=f"job:{i}:debit")
    )

    successes = [value for status, value in results if status == "ok"]
    errors = [value for status, value in results if status == "error"]
    assert len(successes) == 10
    assert all(isinstance(m, CreditMovement) for m in successes)
    assert len(errors) == 10
    assert all(isinstance(e, services.InsufficientCredits) for e in errors), errors
    assert balance(account) == Decimal("0.00")
    debits = CreditMovement.objects.filter(account=account, kind="debit")
    assert debits.count() == 10
    assert sorted(debits.values_list("balance_after", flat=True)) == [
        Decimal(5 * n) for n in range(10)
    ]
    assert ledger_sum(account) == balance(account)


def test_concurrent_calls_with_the_same_key_debit_once():
    account = AccountFactory(credits_amount="100")

    results = run_together(
        8, lambda i: services.credits_debit(account=account, amount=5, key="job:42:debit")
    )

    assert [status for status, _ in results] == ["ok"] * 8, results
    applied = [value for _, value in results if value is not None]
    assert len(applied) == 1
    assert balance(account) == Decimal("95.00")
    assert CreditMovement.objects.filter(key="job:42:debit").count() == 1
    assert CreditMovement.objects.filter(account=account, kind="debit").count() == 1
    assert ledger_sum(account) == balance(account)


def test_opposite_transfers_do_not_deadlock_and_conserve_credits():
    user = UserFactory()
    a = AccountFactory(credits_amount="100")
    b = AccountFactory(credits_amount="100")
    MembershipFactory(user=user, account=a, role="owner")
    MembershipFactory(user=user, account=b, role="owner")
    rounds = 10

    def work(i):
        rng = random.Random(i)
        source, target = (a, b) if i % 2 == 0 else (b, a)
        done = 0
        for r in range(rounds):
            try:
                services.credits_transfer(
                    source=source,
                    target=target,
                    amount=rng.randint(1, 40),
                    by=user,
                    key=f"t:{i}:{r}",
                )
                done += 1
            except services.InsufficientCredits:
                pass
        return done

    results = run_together(16, work)

    errors = [value for status, value in results if status == "error"]
    assert errors == []
    applied = sum(value for _, value in results)
    assert applied > 0
    assert balance(a) + balance(b) == Decimal("200.00")
    assert balance(a) >= 0 and balance(b) >= 0
    assert ledger_sum(a) == balance(a)
    assert ledger_sum(b) == balance(b)
    outs = CreditMovement.objects.filter(kind="transfer_out").count()
    ins = CreditMovement.objects.filter(kind="transfer_in").count()
    assert outs == ins == applied
