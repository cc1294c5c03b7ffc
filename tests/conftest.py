import importlib
import os
import shutil
import socket
import uuid

import pytest
from django.apps import apps as django_apps
from django.conf import settings
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.accounts.factories import AccountFactory, MembershipFactory, UserFactory

IN_CI = os.environ.get("CI") == "true"
ON_POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


@pytest.fixture(autouse=True)
def _test_settings(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.LANGUAGE_CODE = "fr"
    # Each test counts short-link clicks under its own Redis key, from an empty link cache.
    settings.SHORT_LINK_CLICKS_KEY = f"test:{uuid.uuid4().hex}:clicks"
    from django.core.cache import cache

    from messaging.shortlinks import targets_forget

    cache.clear()
    targets_forget()


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    """Fail any test that would open a connection outside this machine."""
    real_connect = socket.socket.connect

    def guarded(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and not (
            host.startswith("127.") or host in {"localhost", "::1"} or host.startswith("/")
        ):
            raise RuntimeError(f"Test tried to reach the network: {address!r}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture(autouse=True)
def _destination_rates(request, django_db_blocker):
    """Transactional tests end with a flush that also empties the tables the data migrations
    filled, and --reuse-db keeps that for later runs: put the destination rates back first."""
    if request.node.get_closest_marker("django_db") or {
        "db",
        "transactional_db",
        "live_server",
    } & set(request.fixturenames):
        from accounts.models import DestinationRate

        with django_db_blocker.unblock():
            if not DestinationRate.objects.exists():
                seed = importlib.import_module("accounts.migrations.0002_seed_destination_rates")
                seed.seed(django_apps, None)


def require(condition: bool, reason: str):
    """Skip locally when a service is missing, but fail in CI, where every service runs."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI must provide this: {reason}")
    pytest.skip(reason)


@pytest.fixture
def owner(db):
    return UserFactory()


@pytest.fixture
def account(owner):
    account = AccountFactory(credits_amount="100")
    MembershipFactory(user=owner, account=account, role="owner")
    return account


@pytest.fixture
def member(account):
    user = UserFactory()
    MembershipFactory(user=user, account=account, role="member")
    return user


@pytest.fixture
def outsider(db):
    """A customer with an account of their own, who must never see `account`."""
    user = UserFactory()
    MembershipFactory(user=user, account=AccountFactory(), role="owner")
    return user


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def staff(db):
    """A superuser with an authenticator app (staff must have one: accounts.admin_site)."""
    user = UserFactory(is_staff=True, is_superuser=True)
    TOTPDevice.objects.create(user=user, name="Authenticator", confirmed=True)
    return user


@pytest.fixture
def staff_client(client, staff):
    """Logged in as staff, past the two-factor code step."""
    client.force_login(staff)
    verified_session(client, staff)
    return client


def verified_session(client, user) -> None:
    """Mark the client's session as having passed the code step (what django_otp.login()
    stores), as force_login() skips the login pages."""
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=user).persistent_id
    session.save()


@pytest.fixture
def english(client):
    """Ask for English pages (the language switcher's cookie)."""
    client.cookies["django_language"] = "en"
    return client


# --- Browser tests (Debian's Chromium driven by Playwright) -----------------------------------

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser():
    require(os.path.exists(CHROMIUM) or bool(shutil.which("chromium")), "Debian chromium missing")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
    # around it are synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server, settings):
    settings.ALLOWED_HOSTS = ["*"]
    settings.SECURE_SSL_REDIRECT = False
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    os.makedirs("var/screenshots", exist_ok=True)
    context.close()


@pytest.fixture
def eager_celery(settings):
    """Tasks run in-process at once, against the simulator with every error turned off."""
    from smspanel.celery import app

    settings.SMS_OPERATOR = {
        "BACKEND": "simulated",
        "SIMULATOR": {"seed": 3, "transient_error_rate": 0, "permanent_error_rate": 0,
                      "undelivered_rate": 0, "expired_rate": 0, "duplicate_report_rate": 0,
                      "out_of_order_rate": 0},
    }  # fmt: skip
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture
def smsc():
    """The test SMSC (tests/smsc/smsc.js, on the npm `smpp` package), killed afterwards."""
    from tests.smsc import harness

    require(*harness.available())
    server = harness.Smsc()
    yield server
    server.kill()


@pytest.fixture
def fast_smpp(settings):
    """SMPP connectors that heartbeat and poll often (tests wait on them)."""
    settings.SMPP = {"HANDOFF_LEASE_SECONDS": 120, "HEARTBEAT_SECONDS": 0.3, "POLL_SECONDS": 0.05}
