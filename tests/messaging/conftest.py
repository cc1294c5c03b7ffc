import pytest

from tests.messaging import fakes


@pytest.fixture
def scripted_operator(settings):
    fakes.reset()
    settings.SMS_OPERATOR = {"BACKEND": "tests.messaging.fakes.ScriptedOperator"}
    yield fakes
    fakes.reset()


@pytest.fixture(autouse=True)
def _eager_celery():
    """Tasks queued by the code under test run in-process, at once (no broker needed)."""
    from smspanel.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager = False
