"""In a real browser: a member creates an application and a consumer key, copies them once."""

import os
import re

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


def test_a_script_asks_for_a_key_and_a_person_validates_it(
    page, live_server, owner, account, settings, monkeypatch
):
    """OVHcloud's credential flow with the real python-ovh: the script asks, the person logs
    in, reads what is asked, validates, is sent back; the script's key then works."""
    from datetime import timedelta

    import ovh
    from django.utils import timezone

    from api import services

    settings.ALLOWED_HOSTS = ["*"]
    monkeypatch.setitem(ovh.client.ENDPOINTS, "smspanel", live_server.url + "/1.0")
    app, secret = services.application_create(
        account=account, user=owner, name="Boutique CRM", description="Order confirmations"
    )
    client = ovh.Client(endpoint="smspanel", application_key=app.app_key,
                        application_secret=secret)  # fmt: skip
    ck_request = client.new_consumer_key_request()
    ck_request.add_rules(ovh.API_READ_ONLY, "/sms*")
    validation = ck_request.request(redirect_url=live_server.url + "/")
    assert validation["state"] == "pendingValidation"
    assert validation["validationUrl"].startswith(live_server.url + "/auth/validate/")
    with pytest.raises(ovh.exceptions.NotCredential):
        client.get("/sms")  # not usable before a person validates it

    page.context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    page.goto(validation["validationUrl"])
    expect(page).to_have_url(re.compile(r"/login/\?next=/auth/validate/"))
    page.fill("#id_username", owner.email)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()

    expect(page).to_have_url(validation["validationUrl"])
    expect(page.get_by_test_id("validate-application")).to_contain_text("Boutique CRM")
    expect(page.get_by_test_id("validate-account")).to_contain_text(account.name)
    expect(page.get_by_test_id("validate-rules")).to_have_text("GET /sms*")
    page.get_by_label("Validity").select_option("30d")
    os.makedirs(os.path.dirname(SCREENSHOT) or ".", exist_ok=True)
    page.screenshot(path=SCREENSHOT.replace(".png", "-validate.png"), full_page=True)

    with page.expect_request(live_server.url + "/"):  # the redirection the script gave
        page.get_by_role("button", name="Validate").click()
    # "/" then sends a member of one account to that account's dashboard.
    expect(page).to_have_url(f"{live_server.url}/sms/{account.name}/")

    ck = ConsumerKey.objects.get()
    assert (ck.status, ck.validated_by, ck.validation_token) == (
        ConsumerKey.Status.VALIDATED, owner, None,
    )  # fmt: skip
    expected_expiry = timezone.now() + timedelta(days=30)
    assert abs((ck.expires_at - expected_expiry).total_seconds()) < 60
    assert client.get("/sms") == [account.name]
    assert client.get("/auth/currentCredential")["rules"] == [{"method": "GET", "path": "/sms*"}]
    with pytest.raises(ovh.exceptions.NotGrantedCall):
        client.post("/sms/estimate", message="x", noStopClause=True, senderType="alpha")


def test_the_api_documentation_page_lists_the_routes(page, live_server):
    page.goto(f"{live_server.url}/1.0/docs")
    expect(page.get_by_text("/1.0/sms/{serviceName}/jobs").first).to_be_visible()
    expect(page.get_by_text("/1.0/auth/credential").first).to_be_visible()
    page.screenshot(path=SCREENSHOT.replace(".png", "-docs.png"))
