"""accounts.services: every balance change comes with one ledger row, keyed for idempotence."""

from decimal import Decimal

import pytest

from accounts import services
from accounts.models import CreditMovement, Membership, SmsAccount
from tests.accounts.factories import AccountFactory, MembershipFactory, UserFactory, ledger_sum

pytestmark = pytest.mark.django_db

D = Decimal


def balance(account) -> Decimal:
    return SmsAccount.objects.values_list("credits", flat=True).get(pk=account.pk)


def rows(account, **filters):
    return list(CreditMovement.objects.filter(account=account, **filters).order_by("id"))


# --- credits_debit ----------------------------------------------------------------------------


def test_it_debits_the_balance_and_writes_a_ledger_row(account, owner):
    movement = services.credits_debit(
        account=account, amount=7, key="job:1:debit", reason="job 1", by=owner
    )

    assert balance(account) == D("93.00")
    assert movement is not None
    row = CreditMovement.objects.get(key="job:1:debit")
    assert row.pk == movement.pk
    assert row.account_id == account.pk
    assert row.kind == CreditMovement.Kind.DEBIT
    assert row.amount == D("-7.00")
    assert row.balance_after == D("93.00")
    assert row.reason == "job 1"
    assert row.created_by == owner
    assert ledger_sum(account) == balance(account)


def test_it_debits_fractional_amounts_rounded_to_the_cent(account):
    services.credits_debit(account=account, amount="1.5", key="k1")
    services.credits_debit(account=account, amount=D("0.25"), key="k2")

    assert balance(account) == D("98.25")
    assert [r.balance_after for r in rows(account, kind="debit")] == [D("98.50"), D("98.25")]


def test_it_can_debit_the_whole_balance(account):
    services.credits_debit(account=account, amount=100, key="all")

    assert balance(account) == D("0.00")
    assert CreditMovement.objects.get(key="all").balance_after == D("0.00")


def test_it_refuses_an_insufficient_balance_and_changes_nothing(account):
    before = CreditMovement.objects.count()

    with pytest.raises(services.InsufficientCredits):
        services.credits_debit(account=account, amount="100.01", key="too-much")

    assert balance(account) == D("100.00")
    assert CreditMovement.objects.count() == before
    assert not CreditMovement.objects.filter(key="too-much").exists()


def test_it_refuses_an_insufficient_balance_after_earlier_debits(account):
    services.credits_debit(account=account, amount=60, key="a")

    with pytest.raises(services.InsufficientCredits):
        services.credits_debit(account=account, amount=41, key="b")

    assert balance(account) == D("40.00")
    assert not CreditMovement.objects.filter(key="b").exists()
    # The refused key stays free: the same cause can be charged once credits are back.
    services.credits_add(account=account, amount=1, kind="order", key="topup")
    assert services.credits_debit(account=account, amount=41, key="b") is not None
    assert balance(account) == D("0.00")


def test_it_debits_once_for_the_same_key(account):
    first = services.credits_debit(account=account, amount=5, key="job:9:debit")
    second = services.credits_debit(account=account, amount=5, key="job:9:debit")

    assert first is not None
    assert second is None
    assert balance(account) == D("95.00")
    assert CreditMovement.objects.filter(key="job:9:debit").count() == 1
    assert len(rows(account, kind="debit")) == 1


def test_it_ignores_a_replayed_key_even_with_another_amount(account):
    services.credits_debit(account=account, amount=5, key="job:10:debit")

    assert services.credits_debit(account=account, amount=50, key="job:10:debit") is None
    assert balance(account) == D("95.00")


@pytest.mark.parametrize("amount", [0, -1, "0.001"])
def test_it_refuses_a_debit_that_is_not_positive(account, amount):
    with pytest.raises(ValueError):
        services.credits_debit(account=account, amount=amount, key="bad")

    assert balance(account) == D("100.00")
    assert not CreditMovement.objects.filter(key="bad").exists()


def test_it_does_not_touch_other_accounts(account, second_account):
    services.credits_debit(account=account, amount=10, key="only-first")

    assert balance(second_account) == D("20.00")
    assert ledger_sum(second_account) == D("20.00")


# --- credits_refund ---------------------------------------------------------------------------


def test_it_refunds_once_for_the_same_key(account):
    services.credits_debit(account=account, amount=10, key="job:3:debit")

    first = services.credits_refund(account=account, amount=4, key="job:3:refund", reason="failed")
    second = services.credits_refund(account=account, amount=4, key="job:3:refund", reason="failed")

    assert first is not None
    assert second is None
    assert balance(account) == D("94.00")
    refund = CreditMovement.objects.get(key="job:3:refund")
    assert refund.kind == CreditMovement.Kind.REFUND
    assert refund.amount == D("4.00")
    assert refund.balance_after == D("94.00")
    assert refund.reason == "failed"
    assert ledger_sum(account) == balance(account)


def test_it_refuses_a_refund_that_is_not_positive(account):
    with pytest.raises(ValueError):
        services.credits_refund(account=account, amount=0, key="r0")
    with pytest.raises(ValueError):
        services.credits_refund(account=account, amount=-3, key="r1")

    assert balance(account) == D("100.00")
    assert not CreditMovement.objects.filter(key__in=["r0", "r1"]).exists()


# --- credits_add ------------------------------------------------------------------------------


def test_it_adds_an_order(account, owner):
    services.credits_add(account=account, amount=250, kind="order", key="order:1", by=owner)

    assert balance(account) == D("350.00")
    row = CreditMovement.objects.get(key="order:1")
    assert (row.kind, row.amount, row.balance_after, row.created_by) == (
        "order",
        D("250.00"),
        D("350.00"),
        owner,
    )


def test_it_applies_a_negative_adjustment(account, owner):
    movement = services.credits_add(
        account=account,
        amount=-30,
        kind="adjustment",
        key="adj:1",
        reason="duplicate order",
        by=owner,
    )

    assert movement is not None
    assert balance(account) == D("70.00")
    row = CreditMovement.objects.get(key="adj:1")
    assert row.kind == CreditMovement.Kind.ADJUSTMENT
    assert row.amount == D("-30.00")
    assert row.balance_after == D("70.00")
    assert row.reason == "duplicate order"
    assert ledger_sum(account) == balance(account)


def test_it_refuses_a_negative_adjustment_beyond_the_balance(account):
    with pytest.raises(services.InsufficientCredits):
        services.credits_add(account=account, amount=-101, kind="adjustment", key="adj:2")

    assert balance(account) == D("100.00")
    assert not CreditMovement.objects.filter(key="adj:2").exists()


def test_it_adds_once_for_the_same_key(account):
    services.credits_add(account=account, amount=10, kind="order", key="order:2")
    assert services.credits_add(account=account, amount=10, kind="order", key="order:2") is None

    assert balance(account) == D("110.00")


def test_it_refuses_a_zero_addition(account):
    with pytest.raises(ValueError):
        services.credits_add(account=account, amount=0, kind="order", key="zero")

    assert not CreditMovement.objects.filter(key="zero").exists()


# --- credits_transfer -------------------------------------------------------------------------


def test_it_transfers_between_two_accounts_of_the_owner(account, second_account, owner):
    out, in_ = services.credits_transfer(
        source=account, target=second_account, amount=30, by=owner, key="t1"
    )

    assert balance(account) == D("70.00")
    assert balance(second_account) == D("50.00")
    out_row = CreditMovement.objects.get(key="transfer:t1:out")
    in_row = CreditMovement.objects.get(key="transfer:t1:in")
    assert (out.pk, in_.pk) == (out_row.pk, in_row.pk)
    assert (out_row.account_id, out_row.kind, out_row.amount, out_row.balance_after) == (
        account.pk,
        "transfer_out",
        D("-30.00"),
        D("70.00"),
    )
    assert (in_row.account_id, in_row.kind, in_row.amount, in_row.balance_after) == (
        second_account.pk,
        "transfer_in",
        D("30.00"),
        D("50.00"),
    )
    assert out_row.reason == second_account.name
    assert in_row.reason == account.name
    assert out_row.created_by == owner and in_row.created_by == owner
    assert ledger_sum(account) == balance(account)
    assert ledger_sum(second_account) == balance(second_account)


def test_it_transfers_from_the_higher_pk_to_the_lower_pk(account, second_account, owner):
    # second_account was created later: the two rows are touched in the other order.
    assert second_account.pk > account.pk
    out, in_ = services.credits_transfer(
        source=second_account, target=account, amount=20, by=owner, key="t-back"
    )

    assert out.account_id == second_account.pk and out.amount == D("-20.00")
    assert in_.account_id == account.pk and in_.amount == D("20.00")
    assert balance(second_account) == D("0.00")
    assert balance(account) == D("120.00")


def test_it_applies_a_transfer_key_once(account, second_account, owner):
    first = services.credits_transfer(
        source=account, target=second_account, amount=10, by=owner, key="same"
    )
    second = services.credits_transfer(
        source=account, target=second_account, amount=10, by=owner, key="same"
    )

    assert first is not None
    assert second is None
    assert balance(account) == D("90.00")
    assert balance(second_account) == D("30.00")
    assert CreditMovement.objects.filter(key__startswith="transfer:same:").count() == 2


def test_it_gives_each_transfer_without_key_its_own_key(account, second_account, owner):
    services.credits_transfer(source=account, target=second_account, amount=1, by=owner)
    services.credits_transfer(source=account, target=second_account, amount=1, by=owner)

    assert balance(account) == D("98.00")
    assert CreditMovement.objects.filter(kind="transfer_out", account=account).count() == 2


@pytest.mark.parametrize("source_first", [True, False])
def test_it_leaves_both_accounts_untouched_when_the_source_is_short(
    account, second_account, owner, source_first
):
    source, target = (second_account, account) if source_first else (account, second_account)
    amount = balance(source) + 1
    before = CreditMovement.objects.count()

    with pytest.raises(services.InsufficientCredits):
        services.credits_transfer(source=source, target=target, amount=amount, by=owner, key="x")

    assert balance(account) == D("100.00")
    assert balance(second_account) == D("20.00")
    assert CreditMovement.objects.count() == before
    assert not CreditMovement.objects.filter(key__startswith="transfer:x:").exists()


def test_it_checks_ownership_of_the_source(account, second_account, member):
    # member belongs to `account` (role member) and owns nothing there.
    MembershipFactory(user=member, account=second_account, role="owner")

    with pytest.raises(PermissionError):
        services.credits_transfer(source=account, target=second_account, amount=1, by=member)

    assert balance(account) == D("100.00")
    assert balance(second_account) == D("20.00")
    assert not CreditMovement.objects.filter(kind__startswith="transfer").exists()


def test_it_checks_membership_of_the_target(account, owner, outsider):
    foreign = SmsAccount.objects.get(memberships__user=outsider)
    before = balance(foreign)

    with pytest.raises(PermissionError):
        services.credits_transfer(source=account, target=foreign, amount=5, by=owner)

    assert balance(account) == D("100.00")
    assert balance(foreign) == before
    assert not CreditMovement.objects.filter(kind__startswith="transfer").exists()


def test_it_allows_a_target_where_the_user_is_only_a_member(account, owner):
    shared = AccountFactory()
    MembershipFactory(user=owner, account=shared, role="member")

    services.credits_transfer(source=account, target=shared, amount=5, by=owner)

    assert balance(shared) == D("5.00")
    assert balance(account) == D("95.00")


def test_it_refuses_a_transfer_to_the_same_account(account, owner):
    with pytest.raises(ValueError):
        services.credits_transfer(source=account, target=account, amount=5, by=owner)

    assert balance(account) == D("100.00")


def test_it_refuses_a_transfer_that_is_not_positive(account, second_account, owner):
    with pytest.raises(ValueError):
        services.credits_transfer(source=account, target=second_account, amount=0, by=owner)

    assert balance(account) == D("100.00")
    assert balance(second_account) == D("20.00")


# --- account_open -----------------------------------------------------------------------------


def test_it_names_accounts_after_the_handle():
    user = UserFactory()

    first = services.account_open(user=user)
    second = services.account_open(user=user)

    assert first.name == f"sms-{user.handle}-1"
    assert second.name == f"sms-{user.handle}-2"
    assert SmsAccount.objects.for_user(user).count() == 2


def test_it_reuses_the_first_free_number():
    user = UserFactory()
    first = services.account_open(user=user)
    services.account_open(user=user)
    first.delete()

    assert services.account_open(user=user).name == f"sms-{user.handle}-1"
    assert services.account_open(user=user).name == f"sms-{user.handle}-3"


def test_it_makes_the_user_owner_of_the_new_account():
    user = UserFactory()

    account = services.account_open(user=user, description="Marketing")

    membership = Membership.objects.get(account=account)
    assert membership.user == user
    assert membership.role == Membership.Role.OWNER
    assert account.description == "Marketing"


def test_it_gives_welcome_credits_with_a_signup_row():
    user = UserFactory()

    account = services.account_open(user=user, free_credits=D("5"))

    assert balance(account) == D("5.00")
    row = CreditMovement.objects.get(account=account)
    assert row.kind == CreditMovement.Kind.SIGNUP
    assert row.amount == D("5.00")
    assert row.balance_after == D("5.00")
    assert row.key == f"signup:{account.pk}"


def test_it_opens_an_empty_account_without_welcome_credits():
    user = UserFactory()

    account = services.account_open(user=user)

    assert balance(account) == D("0.00")
    assert not CreditMovement.objects.filter(account=account).exists()


# --- the ledger invariant ---------------------------------------------------------------------


def test_the_ledger_sums_to_the_balance_after_any_sequence(owner):
    a = services.account_open(user=owner, free_credits=D("5"))
    b = services.account_open(user=owner)
    steps = [
        lambda: services.credits_add(account=a, amount=100, kind="order", key="o1"),
        lambda: services.credits_debit(account=a, amount="12.34", key="d1"),
        lambda: services.credits_debit(account=a, amount="12.34", key="d1"),  # replay
        lambda: services.credits_refund(account=a, amount="2.34", key="r1"),
        lambda: services.credits_transfer(source=a, target=b, amount=40, by=owner, key="t1"),
        lambda: services.credits_transfer(source=b, target=a, amount="0.5", by=owner, key="t2"),
        lambda: services.credits_add(account=b, amount=-9, kind="adjustment", key="adj"),
        lambda: services.credits_debit(account=b, amount=1000, key="d2"),  # refused
        lambda: services.credits_transfer(source=b, target=a, amount=1000, by=owner),  # refused
        lambda: services.credits_debit(account=b, amount="30.5", key="d3"),
    ]
    for step in steps:
        try:
            step()
        except services.InsufficientCredits:
            pass

    assert balance(a) == D("5") + 100 - D("12.34") + D("2.34") - 40 + D("0.5")
    assert balance(b) == D("0.00")
    for account in (a, b):
        assert ledger_sum(account) == balance(account)
        # Each row's balance_after is the running total of the rows before it.
        running = D("0")
        for row in rows(account):
            running += row.amount
            assert row.balance_after == running
