"""Done when: a staff user adds an SMPP route in admin, the send form's SMS reach the test SMSC
(tests/smsc, npm `smpp`), their receipts come back and the history shows them delivered per
part. At 1280 and 390 px."""

import threading

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from messaging.encoding import count
from messaging.models import OutgoingMessage, Route
from messaging.operator.smpp_connector import Connector
from tests.accounts.test_two_factor import code as totp_code
from tests.smsc import harness

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
TEXT = "Bonjour 😀 ! Votre rendez-vous de jeudi est confirmé à 10 h 30, au cabinet du Dr Martin."


@pytest.fixture
def connector(fast_smpp):
    running = Connector(rescan=0.3)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    yield running
    running.stop.set()
    thread.join(15)


def log_in(page, live_server, email, password):
    page.goto(live_server.url + "/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", password)
    page.get_by_role("button", name="Se connecter").click()


@pytest.mark.parametrize("width", [1280, 390])
def test_staff_add_an_smpp_route_and_the_send_forms_sms_are_delivered_per_part(
    page, live_server, smsc, connector, staff, owner, account, eager_celery, width
):
    page.set_viewport_size({"width": width, "height": 900})
    staff.set_password("staff-pass-123")
    staff.save()
    # The admin sends staff to the panel's login: password, then the authenticator's code.
    page.goto(live_server.url + "/admin/login/")
    page.fill("#id_username", staff.email)
    page.fill("#id_password", "staff-pass-123")
    page.get_by_role("button", name="Se connecter").click()
    page.fill("#id_code", totp_code(TOTPDevice.objects.get(user=staff)))
    page.get_by_role("button", name="Vérifier").click()
    page.goto(live_server.url + "/admin/messaging/route/add/")
    page.fill("#id_name", "Test SMSC")
    page.select_option("#id_kind", "smpp")
    page.fill("#id_config", f'{{"host": "127.0.0.1", "port": {smsc.port}, "system_id": "panel"}}')
    page.fill("#id_password", "secret")
    page.fill("#id_countries-0-country", "FR")
    page.fill("#id_countries-0-cost", "0.02")
    page.locator("input[name=_continue]").click()
    expect(page.locator(".field-status")).to_be_visible()
    assert page.locator("#id_password").input_value() == ""  # never shown again
    route = Route.objects.get(name="Test SMSC")
    expect(page.locator(".field-status")).to_contain_text("Connectée (bind)")
    harness.wait_for(lambda: Route.objects.get(pk=route.pk).link == Route.Link.UP, what="bind")
    page.reload()
    expect(page.locator(".field-status .route-figure").first).to_contain_text("oui")
    page.screenshot(path=f"var/screenshots/route-{width}.png", full_page=True)

    page.context.clear_cookies()
    log_in(page, live_server, owner.email, "secret-pass-123")
    page.goto(f"{live_server.url}/sms/{account.name}/send/")
    page.fill("#id_receivers", "+33612345678\n+33612345679")
    page.locator("#id_message").fill(TEXT)
    page.check("#id_no_stop_clause")
    page.get_by_role("button", name="Envoyer", exact=True).click()
    expect(page.get_by_test_id("count-delivered")).to_have_text("2", timeout=20_000)
    segments = count(TEXT).segments
    page.goto(f"{live_server.url}/sms/{account.name}/outgoing/")
    parts = page.get_by_test_id("parts-delivered")
    expect(parts).to_have_count(2)
    expect(parts.first).to_have_text(f"Parties remises : {segments}/{segments}")
    page.screenshot(path=f"var/screenshots/history-routes-{width}.png", full_page=True)
    submits = smsc.state()["submits"]
    assert len(submits) == 2 * segments
    assert set(OutgoingMessage.objects.values_list("status", "route_id")) == {
        ("delivered", route.pk)
    }
