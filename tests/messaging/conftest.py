from decimal import Decimal

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


@pytest.fixture
def make_route():
    """make_route(name, {"FR": "0.03", "*": "0.05"}, kind=…, config={…}, **fields): a route
    serving those countries at those costs. A simulated route is fault-free (fakes.CLEAN)
    except for what `config` sets; other kinds get `config` as given."""
    from messaging.models import Route, RouteCountry

    def _make(name, countries=None, *, kind=Route.Kind.SIMULATED, config=None, **fields):
        base = fakes.CLEAN if kind == Route.Kind.SIMULATED else {}
        route = Route.objects.create(
            name=name, kind=kind, config={**base, **(config or {})}, **fields
        )
        for country, cost in (countries or {}).items():
            RouteCountry.objects.create(route=route, country=country, cost=Decimal(cost))
        return route

    return _make
