"""Under the Content-Security-Policy, the pages still work in Chromium, with no violation in
the console: the HTMX counter, the account switcher, the status filter, the admin's widgets
(built by its JavaScript) and the API's documentation page, at 1280 and 390 px."""

import re

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from accounts.models import Membership
from tests.accounts.factories import AccountFactory
from tests.conftest import verified_session

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def console(page):
    """Console errors and warnings of the page, and CSP violations reported to it."""
    messages = []
    page.on("console", lambda m: m.type in ("error", "warning") and messages.append(m.text))
    page.on("pageerror", lambda e: messages.append(str(e)))
    return messages


def violations(messages):
    return [m for m in messages if "Content Security Policy" in m or "Refused to" in m]


def log_in(page, live_server, user):
    page.goto(live_server.url + "/login/")
    page.fill("#id_username", user.email)
    page.fill("#id_password", "secret-pass-123")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: "/login/" not in url)


@pytest.mark.parametrize("width", [1280, 390])
def test_customer_pages_work_under_the_policy(page, live_server, owner, account, console, width):
    other = AccountFactory(credits_amount="5")
    Membership.objects.create(user=owner, account=other, role=Membership.Role.OWNER)
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, live_server, owner)

    page.goto(f"{live_server.url}/sms/{account.name}/send/")
    page.locator("#id_message").fill("a" * 161)
    expect(page.get_by_test_id("segments")).to_have_text("2")  # the counter answered (HTMX)
    page.locator("#id_message").fill("Bonjour ✓")
    expect(page.get_by_test_id("encoding")).to_contain_text("Unicode")

    page.select_option("#account-switch", other.get_absolute_url())  # static/js/nav.js
    expect(page).to_have_url(live_server.url + other.get_absolute_url())

    for path in ("/", f"/sms/{account.name}/addressbooks/", f"/sms/{account.name}/lists/",
                 f"/sms/{account.name}/senders/", f"/sms/{account.name}/history/"):  # fmt: skip
        page.goto(live_server.url + path)
    page.screenshot(path=f"var/screenshots/csp-{width}.png", full_page=True)

    assert violations(console) == []


def test_the_status_filter_of_a_send_submits_on_change(
    page, live_server, owner, account, console, eager_celery
):
    log_in(page, live_server, owner)
    page.goto(f"{live_server.url}/sms/{account.name}/send/")
    page.fill("#id_receivers", "+33612345678")
    page.locator("#id_message").fill("Code 1234")
    page.check("#id_no_stop_clause")
    page.get_by_role("button", name="Envoyer", exact=True).click()
    expect(page.locator("progress.progress")).to_be_visible()

    page.select_option("#id_status", "delivered")

    expect(page).to_have_url(re.compile(r"status=delivered"))
    assert violations(console) == []


def test_the_admin_works_under_the_policy(page, live_server, staff, console):
    # A staff session past the two-factor step (the code pages have their own tests).
    client = Client()
    client.force_login(staff)
    verified_session(client, staff)
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "url": live_server.url,
                               "value": client.cookies[settings.SESSION_COOKIE_NAME].value}])  # fmt: skip
    page.goto(live_server.url + "/admin/")
    expect(page.locator("#site-name")).to_be_visible()

    page.goto(live_server.url + "/admin/auth/group/add/")
    # SelectFilter2.js builds the two-box permission chooser: the admin's scripts ran.
    expect(page.locator(".selector-available")).to_be_visible()
    page.goto(live_server.url + "/admin/accounts/user/")
    page.locator("#result_list tbody th a").first.click()
    expect(page.locator("#id_email")).to_be_visible()
    page.goto(live_server.url + "/admin/senders/sender/")
    page.goto(live_server.url + "/1.0/docs")
    expect(page.locator(".swagger-ui .info")).to_be_visible()  # Swagger UI rendered

    assert violations(console) == []
