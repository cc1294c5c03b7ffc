"""Two-factor authentication: set-up with a code, the login's code step, recovery codes, staff
required to have it before the admin opens."""

import base64
import io
import re
import time

import pytest
from django.core.management import call_command
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AuditEvent
from tests.accounts.conftest import PASSWORD
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


def code(device: TOTPDevice, steps_ahead: int = 0) -> str:
    """What the authenticator app shows now (or that many 30-second steps later: a code is
    accepted once, and one step of drift is tolerated)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def enable(client, user) -> list[str]:
    client.get("/security/")
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post("/security/", {"action": "enable", "code": code(device)}, follow=True)
    assert response.status_code == 200
    return re.findall(r"<li><code>([a-z0-9]+)</code></li>", response.content.decode())


def password_step(client, user, next_url=""):
    return client.post("/login/", {"username": user.email, "password": PASSWORD, "next": next_url})


def test_the_set_up_page_shows_a_qr_code_and_the_key(english, owner):
    english.force_login(owner)

    page = english.get("/security/").content.decode()

    device = TOTPDevice.objects.get(user=owner, confirmed=False)
    assert "<svg" in page
    assert "otpauth://totp/smspanel" in page
    assert 'data-testid="totp-secret"' in page
    # The same secret on every load until confirmed.
    english.get("/security/")
    assert TOTPDevice.objects.filter(user=owner).count() == 1
    assert TOTPDevice.objects.get(user=owner).key == device.key


def test_a_wrong_code_does_not_enable_it(owner_client, owner):
    owner_client.get("/security/")

    response = owner_client.post("/security/", {"action": "enable", "code": "000000"})

    assert response.status_code == 200
    assert response.context["form"].errors["code"]
    assert not TOTPDevice.objects.filter(user=owner, confirmed=True).exists()


def test_it_enables_then_the_login_asks_for_a_code(client, owner, account, settings):
    # django-otp's own back-off (1 s after a failure) would refuse the good code typed at once.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    client.force_login(owner)
    codes = enable(client, owner)
    assert len(codes) == 10
    assert StaticToken.objects.filter(device__user=owner).count() == 10
    # The codes are shown once.
    assert client.get("/security/recovery-codes/").status_code == 302
    client.post("/logout/")

    response = password_step(client, owner)
    assert response.status_code == 302 and response.url == "/login/code/"
    assert "_auth_user_id" not in client.session  # not logged in yet
    assert client.get(account.get_absolute_url()).status_code == 302

    wrong = client.post("/login/code/", {"code": "123456"})
    assert wrong.status_code == 200 and wrong.context["form"].errors["code"]
    device = TOTPDevice.objects.get(user=owner, confirmed=True)
    response = client.post("/login/code/", {"code": code(device, steps_ahead=1)})

    assert response.status_code == 302 and response.url == "/"
    assert client.session["_auth_user_id"] == str(owner.pk)
    assert client.get(account.get_absolute_url()).status_code == 200
    actions = set(AuditEvent.objects.filter(subject=owner).values_list("action", flat=True))
    assert {"2fa_enabled", "code_failed", "login"} <= actions


def test_a_recovery_code_works_once(client, owner):
    client.force_login(owner)
    codes = enable(client, owner)
    client.post("/logout/")

    password_step(client, owner)
    assert client.post("/login/code/", {"code": codes[0].upper()}).status_code == 302
    client.post("/logout/")
    password_step(client, owner)
    again = client.post("/login/code/", {"code": codes[0]})

    assert again.status_code == 200
    assert "_auth_user_id" not in client.session
    assert StaticToken.objects.filter(device__user=owner).count() == 9


def test_the_code_step_is_throttled(client, owner, settings):
    client.force_login(owner)
    enable(client, owner)
    client.post("/logout/")
    password_step(client, owner)
    for _ in range(settings.LOGIN_THROTTLE_ATTEMPTS):
        client.post("/login/code/", {"code": "000000"})

    device = TOTPDevice.objects.get(user=owner, confirmed=True)
    response = client.post("/login/code/", {"code": code(device, steps_ahead=1)})

    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert "_auth_user_id" not in client.session


def test_the_code_step_needs_the_password_step(client):
    response = client.get("/login/code/")

    assert response.status_code == 302 and response.url == "/login/"


def test_the_code_step_expires(client, owner, monkeypatch):
    client.force_login(owner)
    enable(client, owner)
    client.post("/logout/")
    password_step(client, owner)
    later = time.time() + 301
    monkeypatch.setattr("accounts.twofactor.time.time", lambda: later)

    assert client.get("/login/code/").url == "/login/"


def test_a_customer_turns_it_off_with_a_code(client, owner):
    client.force_login(owner)
    enable(client, owner)
    device = TOTPDevice.objects.get(user=owner, confirmed=True)

    client.post("/security/", {"action": "disable", "code": code(device, steps_ahead=1)})

    assert not TOTPDevice.objects.filter(user=owner).exists()
    assert not StaticToken.objects.filter(device__user=owner).exists()
    assert AuditEvent.objects.filter(subject=owner, action="2fa_disabled").exists()
    client.post("/logout/")
    assert password_step(client, owner).url == "/"


# --- staff ----------------------------------------------------------------------------------


def test_staff_without_a_device_are_sent_to_set_one_up(client):
    staff = UserFactory(is_staff=True, is_superuser=True)

    response = password_step(client, staff, "/admin/")

    assert response.url == "/security/?next=%2Fadmin%2F"
    assert client.get("/admin/", follow=True).redirect_chain[-1][0] == (
        "/security/?next=%2Fadmin%2F"
    )
    assert client.get("/admin/accounts/smsaccount/").status_code == 302

    enable(client, staff)

    # Confirming the device verified this session: the admin opens.
    assert client.get("/admin/").status_code == 200


def test_staff_log_in_to_the_admin_with_a_code(client, staff):
    response = password_step(client, staff, "/admin/")
    assert response.url == "/login/code/"
    device = TOTPDevice.objects.get(user=staff)

    response = client.post("/login/code/", {"code": code(device)})

    assert response.url == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_staff_signed_in_without_a_code_must_give_one(client, staff):
    client.force_login(staff)  # a session from before the device (no code given)

    response = client.get("/admin/", follow=True)

    assert response.redirect_chain[-1][0] == "/login/code/"


def test_staff_cannot_turn_it_off(staff_client, staff):
    device = TOTPDevice.objects.get(user=staff)

    response = staff_client.post("/security/", {"action": "disable", "code": code(device)})

    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert TOTPDevice.objects.filter(user=staff).exists()


def test_a_customer_is_not_sent_round_the_admin_login(owner_client):
    response = owner_client.get("/admin/", follow=True)

    assert [url for url, _ in response.redirect_chain[:3]] == [
        "/admin/login/?next=/admin/",
        "/",
        "/sms/",
    ]


def test_the_demo_staff_user_gets_a_device_and_its_key_is_printed(client):
    out = io.StringIO()
    call_command("demo", force=True, stdout=out)
    call_command("demo", force=True, stdout=io.StringIO())  # run again: the same device

    device = TOTPDevice.objects.get(user__email="admin@example.com")
    key = base64.b32encode(device.bin_key).decode().rstrip("=")
    assert f"authenticator key {key}" in out.getvalue()
    response = client.post(
        "/login/", {"username": "admin@example.com", "password": "demo-sms-2026", "next": "/admin/"}
    )
    assert response.url == "/login/code/"
    assert client.post("/login/code/", {"code": code(device)}).url == "/admin/"
    assert client.get("/admin/").status_code == 200
