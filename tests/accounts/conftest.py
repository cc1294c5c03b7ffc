import pytest

from tests.accounts.factories import AccountFactory, MembershipFactory

PASSWORD = "secret-pass-123"  # the password UserFactory sets


@pytest.fixture
def second_account(owner):
    """Another account of the same customer (owner), with 20 credits."""
    account = AccountFactory(credits_amount="20")
    MembershipFactory(user=owner, account=account, role="owner")
    return account
