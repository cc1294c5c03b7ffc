"""In a real browser: a member creates an application and a consumer key, copies them once."""

import os

import pytest
from playwright.sync_api import expect

from api.models import ApiApplication, ConsumerKey, key_hash

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "secret-pass-123"  # the password UserFactory sets
SCREENSHOT = os.environ.get("API_KEYS_SCREENSHOT", "var/screenshots/api-keys.png")


def test_create_an_application_then_a_custom_key(page, live_server, owner, account):
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    page.goto(f"{live_server.url}/sms/{account.name}/api/")
    page.fill("#id_username", owner.email)  # sent to the login page, then back here
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_test_id("api-example")).to_contain_text(f"{live_server.url}/1.0")

    page.fill("#id_name", "Boutique CRM")
    page.fill("#id_description", "Sends the order confirmations")
    page.get_by_role("button", name="Create the application").click()
    app = ApiApplication.objects.get()
    expect(page.get_by_test_id("created-app-secret")).to_have_text(app.app_secret)

    page.screenshot(path=SCREENSHOT.replace(".png", "-app.png"), full_page=True)

    # The key form is open while the application has no key; the rules box only shows for
    # custom rules (CSS :has, no script).
    rules = page.locator(f"#ck{app.pk}_rules")
    expect(rules).to_be_hidden()
    page.get_by_label("Custom rules").check()
    expect(rules).to_be_visible()
    rules.fill("GET /sms/*\nPOST /sms/*/jobs")
    page.select_option(f"#ck{app.pk}_validity", "1y")
    page.get_by_role("button", name="Create the key").click()

    key = page.get_by_test_id("created-consumer-key").inner_text()
    assert ConsumerKey.objects.get().key_hash == key_hash(key)
    page.screenshot(path=SCREENSHOT.replace(".png", "-created.png"), full_page=True)

    page.goto(f"{live_server.url}/sms/{account.name}/api/")
    row = page.get_by_test_id("consumer-key-row")
    expect(row.get_by_test_id("key-status")).to_have_text("Valid")
    expect(row.get_by_test_id("key-rules")).to_have_text("GET /sms/*POST /sms/*/jobs")
    expect(page.get_by_test_id("created-credentials")).to_have_count(0)
    page.screenshot(path=SCREENSHOT, full_page=True)

    row.get_by_role("button", name="Revoke").click()
    expect(page.get_by_test_id("key-status")).to_have_text("Revoked")
    assert ConsumerKey.objects.get().status == ConsumerKey.Status.REVOKED
