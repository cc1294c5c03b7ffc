import pytest


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Uploaded documents land in a fresh directory that each test can inspect."""
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = str(root)
    return root


def stored_files(root) -> list:
    return [p for p in root.rglob("*") if p.is_file()]
