"""The apps import one another in one direction, and no module of app code grows past 600 lines.

core ← accounts ← senders, addressbooks ← messaging ← api (docs/architecture.md). Every import
statement of every module is read (those inside functions too), so a cycle cannot hide in a
late import.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# An app may import the apps of a lower rank, never one of its own rank or above.
RANKS = {"core": 0, "accounts": 1, "senders": 2, "addressbooks": 2, "messaging": 3, "api": 4}
# The project package imports every app (settings, root URLs, Celery); apps import it only
# for the embedded Redis starter, which imports nothing of the project.
PROJECT = "smspanel"
PROJECT_MODULES_APPS_MAY_IMPORT = {"smspanel.embedded_redis"}

MAX_LINES = 600
# Being split right now; this list only ever shrinks.
TOO_LONG_FOR_NOW: set[str] = set()


def app_modules():
    for package in [*RANKS, PROJECT]:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.relative_to(ROOT).parts:
                yield path


def imported_modules(path: Path):
    """(line, absolute module name) of each import in the file ("from messaging import x"
    gives "messaging"); relative imports stay inside their own package and are left out."""
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module


def violations(path: Path) -> list[str]:
    relative = path.relative_to(ROOT)
    app = relative.parts[0]
    found = []
    for line, module in imported_modules(path):
        target = module.split(".")[0]
        if app == PROJECT or target == app:
            continue
        if target in RANKS and RANKS[target] >= RANKS[app]:
            found.append(f"{relative}:{line} imports {module} ({app} is below {target})")
        if target == PROJECT and not any(
            module == allowed or module.startswith(allowed + ".")
            for allowed in PROJECT_MODULES_APPS_MAY_IMPORT
        ):
            found.append(f"{relative}:{line} imports {module} (apps do not import the project)")
    return found


def test_apps_import_in_one_direction():
    found = [v for path in app_modules() for v in violations(path)]

    assert found == []


def test_no_module_of_app_code_is_over_600_lines():
    lengths = {
        str(path.relative_to(ROOT)): len(path.read_text().splitlines()) for path in app_modules()
    }
    too_long = {name: n for name, n in lengths.items() if n > MAX_LINES}

    assert set(too_long) <= TOO_LONG_FOR_NOW, too_long


@pytest.mark.parametrize(
    ("app", "source", "reported"),
    [
        ("accounts", "from messaging.models import SmsJob\n", True),
        ("senders", "def f():\n    from addressbooks import services\n", True),
        ("core", "import accounts.models\n", True),
        ("messaging", "from smspanel.urls import urlpatterns\n", True),
        ("messaging", "from addressbooks.models import Contact\nfrom core import bulk\n", False),
        ("api", "from . import ovh\nfrom messaging import services\n", False),
        ("accounts", "from smspanel.embedded_redis import stop\n", False),
    ],
)
def test_the_check_sees_an_import_against_the_direction(tmp_path, monkeypatch, app, source, reported):
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    module = tmp_path / app / "example.py"
    module.parent.mkdir()
    module.write_text(source)

    assert bool(violations(module)) is reported
