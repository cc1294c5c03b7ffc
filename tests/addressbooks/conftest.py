import pytest


@pytest.fixture(autouse=True)
def _plain_http(settings):
    settings.SECURE_SSL_REDIRECT = False


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = str(root)
    return root


@pytest.fixture
def queued(monkeypatch):
    """Import tasks queued by the views, not run: [import_id, …]."""
    from addressbooks import tasks

    calls = []
    monkeypatch.setattr(tasks.contact_import, "delay", lambda import_id: calls.append(import_id))
    return calls
