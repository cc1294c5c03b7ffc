"""/password/change/: the current password is checked under the login throttle, from the same
budget as the login form; changes, resets and refused attempts are audit events."""

import re

import pytest
from django.core import mail

from accounts.models import AuditEvent
from tests.accounts.conftest import PASSWORD

pytestmark = pytest.mark.django_db

URL = "/password/change/"
NEW = "Nouveau-Mot-2-Passe"
IP = "10.6.6.6"


@pytest.fixture(autouse=True)
def _three_attempts(settings):
    settings.LOGIN_THROTTLE_ATTEMPTS = 3


def change(client, old, new=NEW):
    return client.post(
        URL,
        {"old_password": old, "new_password1": new, "new_password2": new},
        REMOTE_ADDR=IP,
    )


def actions(user) -> list[str]:
    """The user's security events but logins (force_login records one)."""
    events = AuditEvent.objects.filter(subject=user).exclude(action="login").order_by("id")
    return list(events.values_list("action", flat=True))


def test_it_changes_the_password_and_records_it(owner_client, owner):
    response = change(owner_client, PASSWORD)

    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.check_password(NEW)
    event = AuditEvent.objects.get(action="password_changed")
    assert (event.actor, event.subject, event.ip) == (owner, owner, IP)


def test_guessing_the_current_password_is_throttled(owner_client, owner):
    """From a stolen session: three wrong guesses, then even the right password is refused
    without being checked, with a message that says why."""
    for guess in ("guess-1", "guess-2", "guess-3"):
        page = change(owner_client, guess).content.decode()
        assert "Votre ancien mot de passe est incorrect" in page

    refused = change(owner_client, PASSWORD)

    assert refused.status_code == 200
    assert "Trop de tentatives infructueuses depuis votre connexion" in refused.content.decode()
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD) and not owner.check_password(NEW)
    assert actions(owner) == ["password_failed"] * 3 + ["password_throttled"]
    assert set(AuditEvent.objects.exclude(action="login").values_list("ip", flat=True)) == {IP}


def test_the_refusal_reads_in_english(owner_client, english):
    for _ in range(3):
        change(owner_client, "wrong")

    page = change(owner_client, PASSWORD).content.decode()

    assert "Too many failed attempts from your connection." in page


def test_guesses_here_and_at_the_login_share_one_budget(client, owner):
    """The same secret: two wrong current passwords and one wrong login from the same address
    use the three attempts."""
    client.force_login(owner)
    change(client, "guess-1")
    change(client, "guess-2")
    client.logout()
    client.post("/login/", {"username": owner.email, "password": "guess-3"}, REMOTE_ADDR=IP)

    response = client.post(
        "/login/", {"username": owner.email, "password": PASSWORD}, REMOTE_ADDR=IP
    )

    assert "Trop de tentatives" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_right_password_clears_the_count(owner_client, owner):
    change(owner_client, "guess-1")
    change(owner_client, "guess-2")
    assert change(owner_client, PASSWORD).status_code == 302

    # Signed in again after the change (Django keeps this session): a new count.
    for guess in ("guess-3", "guess-4"):
        change(owner_client, guess, new="Encore-1-Autre")
    assert change(owner_client, NEW, new="Encore-1-Autre").status_code == 302


def test_a_reset_through_the_emailed_link_is_recorded(client, owner):
    client.post("/password/reset/", {"email": owner.email})
    link = re.search(r"https?://[^/\s]+(/password/reset/[^/\s]+/[^/\s]+/)", mail.outbox[0].body)
    form_page = client.get(link.group(1), follow=True)
    set_password_url = form_page.redirect_chain[-1][0]

    client.post(set_password_url, {"new_password1": NEW, "new_password2": NEW}, REMOTE_ADDR=IP)

    event = AuditEvent.objects.get(action="password_reset")
    assert (event.actor, event.subject, event.ip) == (owner, owner, IP)


def test_the_admin_sends_staff_to_the_throttled_page(staff_client):
    response = staff_client.get("/admin/password_change/")

    assert response.status_code == 302 and response.url == URL


def test_the_person_sees_the_refused_attempts_on_their_security_page(owner_client):
    change(owner_client, "guess-1")

    page = owner_client.get("/security/").content.decode()

    assert "Mot de passe actuel erroné (changement de mot de passe)" in page
    assert IP in page
