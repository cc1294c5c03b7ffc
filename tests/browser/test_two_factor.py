"""In a real browser, at 1280 and 390 px: a customer turns on two-factor authentication from
the QR code page, keeps the recovery codes, then logs in with password and code."""

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from tests.accounts.test_two_factor import code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "secret-pass-123"  # the password UserFactory sets


@pytest.mark.parametrize("width", [1280, 390])
def test_set_up_then_log_in_with_a_code(page, live_server, owner, account, width):
    page.set_viewport_size({"width": width, "height": 900})
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    page.goto(live_server.url + "/login/")
    page.fill("#id_username", owner.email)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{live_server.url}/sms/{account.name}/")

    page.get_by_role("link", name="Security").click()
    expect(page.locator("h2").first).to_have_text("Two-factor authentication")
    expect(page.locator(".qr svg")).to_be_visible()
    box = page.locator(".qr svg").bounding_box()
    assert box["width"] >= 150 and box["x"] + box["width"] <= width
    page.screenshot(path=f"var/screenshots/two-factor-setup-{width}.png", full_page=True)
    device = TOTPDevice.objects.get(user=owner, confirmed=False)
    page.fill("#id_code", code(device))
    page.get_by_role("button", name="Turn on").click()

    codes = page.get_by_test_id("recovery-codes").locator("li")
    expect(codes).to_have_count(10)
    page.screenshot(path=f"var/screenshots/recovery-codes-{width}.png", full_page=True)
    page.get_by_role("link", name="I have saved them").click()
    expect(page.locator(".alert-success")).to_contain_text("On:")

    page.get_by_role("button", name="Log out").click()
    page.fill("#id_username", owner.email)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{live_server.url}/login/code/")
    expect(page.locator("h1")).to_have_text("Enter your security code")
    page.screenshot(path=f"var/screenshots/login-code-{width}.png", full_page=True)
    page.fill("#id_code", code(device, steps_ahead=1))
    page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(f"{live_server.url}/sms/{account.name}/")
