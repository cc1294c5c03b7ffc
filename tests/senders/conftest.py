import pytest

from tests.accounts.factories import UserFactory


@pytest.fixture(autouse=True)
def _plain_http(settings):
    settings.SECURE_SSL_REDIRECT = False


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Uploaded documents land in a fresh directory that each test can inspect."""
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = str(root)
    return root


@pytest.fixture
def staff(db):
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def english(client):
    """English pages (the language switcher's cookie)."""
    client.cookies["django_language"] = "en"
    return client


def stored_files(root) -> list:
    return [p for p in root.rglob("*") if p.is_file()]
