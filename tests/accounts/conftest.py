import pytest

from tests.accounts.factories import AccountFactory, MembershipFactory, UserFactory

PASSWORD = "secret-pass-123"  # the password UserFactory sets


@pytest.fixture(autouse=True)
def _plain_http(settings):
    """Settings run with DEBUG off, hence SECURE_SSL_REDIRECT: the test client speaks plain HTTP."""
    settings.SECURE_SSL_REDIRECT = False


@pytest.fixture
def second_account(owner):
    """Another account of the same customer (owner), with 20 credits."""
    account = AccountFactory(credits_amount="20")
    MembershipFactory(user=owner, account=account, role="owner")
    return account


@pytest.fixture
def staff(db):
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def english(client):
    """Ask for English pages (the LocaleMiddleware reads the language cookie)."""
    client.cookies["django_language"] = "en"
    return client
