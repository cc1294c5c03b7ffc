"""In a real browser: the customer requests a sender, staff approve it in the admin, the
customer sends an SMS with it."""

import os
import shutil

import pytest
from django.core import mail
from playwright.sync_api import expect

from messaging.models import SmsJob
from senders.models import Sender
from tests.accounts.factories import UserFactory
from tests.browser.conftest import CHROMIUM
from tests.conftest import require
from tests.senders.factories import PDF

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "secret-pass-123"  # the password UserFactory sets


def _browser_of_tests_browser(request):
    """The session browser of tests/browser/conftest.py, when it already runs.

    Playwright's sync API allows one instance per thread: a second one cannot start while
    that session fixture is alive (it is when tests/browser ran first). Its fixtures are not
    visible from here, so look its cached value up through one of its tests. Drop this once
    `browser` and `page` move to tests/conftest.py.
    """
    item = next((i for i in request.session.items if i.nodeid.startswith("tests/browser/")), None)
    if item is None:
        return None
    for fixturedef in request._fixturemanager.getfixturedefs("browser", item) or ():
        cached = fixturedef.cached_result
        if cached and cached[2] is None:
            return cached[0]
    return None


@pytest.fixture(scope="module")
def browser(request):
    shared = _browser_of_tests_browser(request)
    if shared is not None:
        yield shared
        return
    require(os.path.exists(CHROMIUM) or bool(shutil.which("chromium")), "Debian chromium missing")
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    # Module scope: closed before tests/browser may start its own.
    with sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        yield launched
        launched.close()


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


def in_english(context, live_server):
    context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])


def test_request_approve_then_send(page, browser, live_server, owner, account, eager_celery):
    # The customer asks for a sender, with a supporting document.
    in_english(page.context, live_server)
    page.goto(live_server.url + "/login/")
    page.fill("#id_username", owner.email)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server.url}/sms/{account.name}/senders/add/")
    expect(page.get_by_test_id("mode-manual")).to_be_visible()
    page.fill("#id_sender", "BOUTIQUE")
    page.fill("#id_description", "Main shop")
    page.fill("#id_reason", "It is the trade name of our shop.")
    page.screenshot(path="var/screenshots/sender-add.png", full_page=True)
    page.set_input_files(
        "#id_documents", files=[{"name": "kbis.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    page.get_by_role("button", name="Send the request").click()

    expect(page).to_have_url(f"{live_server.url}/sms/{account.name}/senders/")
    row = page.get_by_test_id("sender-row").filter(has_text="BOUTIQUE")
    expect(row.get_by_test_id("sender-status")).to_have_text("Validation in progress")
    expect(row.get_by_test_id("sender-documents")).to_contain_text("kbis.pdf")
    sender = Sender.objects.get(account=account)
    assert sender.documents.count() == 1

    # The mode radios swap the form (HTMX) without leaving the page.
    page.goto(f"{live_server.url}/sms/{account.name}/senders/add/")
    page.check("input[name=mode][value=domain]")
    expect(page.get_by_test_id("mode-domain")).to_be_visible()
    page.screenshot(path="var/screenshots/sender-add-domain.png", full_page=True)
    expect(page).to_have_url(f"{live_server.url}/sms/{account.name}/senders/add/?mode=domain")

    # Staff approve it from the queue, in another browser session.
    staff = UserFactory(is_staff=True, is_superuser=True)
    staff_context = browser.new_context(locale="en-US")
    in_english(staff_context, live_server)
    admin = staff_context.new_page()
    admin.set_default_timeout(10_000)
    admin.goto(live_server.url + "/admin/login/?next=/admin/senders/sender/")
    admin.fill("#id_username", staff.email)
    admin.fill("#id_password", PASSWORD)
    admin.locator("input[type=submit]").click()
    admin.get_by_role("link", name="Validation in progress").click()  # the status filter
    admin.get_by_role("link", name="BOUTIQUE").click()
    expect(admin.get_by_test_id("document-download")).to_be_visible()
    admin.screenshot(path="var/screenshots/sender-admin.png", full_page=True)
    admin.get_by_role("button", name="Approve").click()
    expect(admin.locator(".messagelist")).to_contain_text("BOUTIQUE was approved.")
    staff_context.close()

    sender.refresh_from_db()
    assert (sender.status, sender.decided_by) == ("enable", staff)
    assert [m.to for m in mail.outbox] == [[owner.email]]

    # The customer sees it enabled and sends with it.
    page.goto(f"{live_server.url}/sms/{account.name}/senders/")
    expect(page.get_by_test_id("sender-status")).to_have_text("Enabled")
    page.screenshot(path="var/screenshots/senders.png", full_page=True)
    page.goto(f"{live_server.url}/sms/{account.name}/send/")
    page.select_option("#id_sender", label="BOUTIQUE")
    page.fill("#id_receivers", "+33612345678")
    page.locator("#id_message").fill("Your order is ready.")
    page.check("#id_no_stop_clause")
    expect(page.get_by_test_id("estimate-recipients")).to_have_text("1")
    page.get_by_role("button", name="Send", exact=True).click()

    job = SmsJob.objects.get()
    expect(page).to_have_url(f"{live_server.url}/sms/{account.name}/jobs/{job.pk}/")
    expect(page.locator(".summary")).to_contain_text("BOUTIQUE")
    assert (job.sender, job.sender_label, job.reply_allowed) == (sender, "BOUTIQUE", False)
    page.screenshot(path="var/screenshots/sender-job.png", full_page=True)
