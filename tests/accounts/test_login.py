"""/login/ (e-mail + password, throttled), /logout/ (POST only) and the password reset flow
(limited per address)."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from tests.accounts.conftest import PASSWORD
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/login/"


def login(client, email, password, ip="10.0.0.1"):
    return client.post(URL, {"username": email, "password": password}, REMOTE_ADDR=ip)


def user_id(client):
    return client.session.get("_auth_user_id")


def test_the_urls():
    assert reverse("accounts:login") == URL
    assert reverse("accounts:logout") == "/logout/"
    assert reverse("accounts:password_reset") == "/password/reset/"


def test_it_shows_the_form(client):
    response = client.get(URL)

    assert response.status_code == 200
    assert set(response.context["form"].fields) == {"username", "password"}


def test_it_logs_in_and_redirects_home(client, owner, account):
    response = login(client, owner.email, PASSWORD)

    assert response.status_code == 302
    assert response.url == "/"
    assert user_id(client) == str(owner.pk)
    # Home then leads to the only account's dashboard.
    assert client.get("/").url == f"/sms/{account.name}/"


def test_it_follows_a_safe_next(client, owner, account):
    target = f"/sms/{account.name}/credits/"

    response = client.post(URL, {"username": owner.email, "password": PASSWORD, "next": target})

    assert response.status_code == 302
    assert response.url == target


def test_it_ignores_an_external_next(client, owner):
    response = client.post(
        URL, {"username": owner.email, "password": PASSWORD, "next": "https://evil.example/"}
    )

    assert response.status_code == 302
    assert response.url == "/"


def test_it_refuses_a_wrong_password(client, owner):
    response = login(client, owner.email, "not-the-password")

    assert response.status_code == 200
    assert response.context["form"].errors
    assert user_id(client) is None


def test_it_refuses_an_unknown_email(client):
    response = login(client, "nobody@example.com", PASSWORD)

    assert response.status_code == 200
    assert user_id(client) is None


def test_it_refuses_an_inactive_user(client):
    user = UserFactory(is_active=False)

    response = login(client, user.email, PASSWORD)

    assert response.status_code == 200
    assert user_id(client) is None


def test_it_accepts_the_email_as_typed_at_signup(client):
    signup = client.post(
        "/signup/",
        {
            "email": "Camille.Dupont@Example.com",
            "first_name": "Camille",
            "last_name": "Dupont",
            "password1": "Tr0mbone-Violet-42",
            "password2": "Tr0mbone-Violet-42",
        },
    )
    assert signup.status_code == 302
    client.post("/logout/")

    response = login(client, "Camille.Dupont@Example.com", "Tr0mbone-Violet-42")

    assert response.status_code == 302
    assert user_id(client) is not None


def test_it_locks_an_email_after_too_many_failures(english, owner, settings):
    client = english
    for _ in range(settings.LOGIN_THROTTLE_ATTEMPTS):
        assert login(client, owner.email, "wrong").status_code == 200

    response = login(client, owner.email, PASSWORD)

    assert response.status_code == 200
    assert user_id(client) is None
    assert [e.code for e in response.context["form"].non_field_errors().as_data()] == ["throttled"]
    assert "Too many failed attempts" in response.content.decode()


def test_a_stranger_cannot_lock_the_owner_out(client, owner, settings):
    """Soft lockout: the count is per e-mail and client address."""
    for _ in range(3 * settings.LOGIN_THROTTLE_ATTEMPTS):
        login(client, owner.email, "wrong", ip="10.0.1.1")
    assert login(client, owner.email, PASSWORD, ip="10.0.1.1").status_code == 200

    response = login(client, owner.email, PASSWORD, ip="10.9.9.9")

    assert response.status_code == 302
    assert user_id(client) == str(owner.pk)


def test_it_counts_the_email_whatever_its_case(client, owner, settings):
    for _ in range(settings.LOGIN_THROTTLE_ATTEMPTS):
        login(client, owner.email.upper(), "wrong")

    login(client, owner.email, PASSWORD)

    assert user_id(client) is None


def test_it_allows_one_attempt_less_than_the_limit(client, owner, settings):
    for _ in range(settings.LOGIN_THROTTLE_ATTEMPTS - 1):
        login(client, owner.email, "wrong")

    response = login(client, owner.email, PASSWORD)

    assert response.status_code == 302
    assert user_id(client) == str(owner.pk)


def test_it_resets_the_count_after_a_success(client, owner, settings):
    for _ in range(settings.LOGIN_THROTTLE_ATTEMPTS - 1):
        login(client, owner.email, "wrong")
    login(client, owner.email, PASSWORD)
    client.logout()
    for _ in range(settings.LOGIN_THROTTLE_ATTEMPTS - 1):
        login(client, owner.email, "wrong")

    login(client, owner.email, PASSWORD)

    assert user_id(client) == str(owner.pk)


def test_it_locks_per_email(client, settings):
    locked, other = UserFactory(), UserFactory()
    for _ in range(settings.LOGIN_THROTTLE_ATTEMPTS):
        login(client, locked.email, "wrong", ip="10.0.0.1")
    login(client, locked.email, PASSWORD, ip="10.0.0.1")
    assert user_id(client) is None

    response = login(client, other.email, PASSWORD, ip="10.0.0.2")

    assert response.status_code == 302
    assert user_id(client) == str(other.pk)


def test_it_locks_an_address_that_tries_many_emails(client, settings):
    limit = settings.LOGIN_THROTTLE_ATTEMPTS
    # Spread under the per-e-mail limit, but 4 × limit failures from one address.
    for i in range(4 * limit):
        login(client, f"guess{i % 4}@example.com", "wrong", ip="10.6.6.6")
    victim = UserFactory()

    login(client, victim.email, PASSWORD, ip="10.6.6.6")
    assert user_id(client) is None

    login(client, victim.email, PASSWORD, ip="10.7.7.7")
    assert user_id(client) == str(victim.pk)


def test_it_redirects_a_signed_in_user(owner_client, account):
    response = owner_client.get(URL)

    assert response.status_code == 302
    assert response.url == "/"


# --- logout -----------------------------------------------------------------------------------


def test_logout_refuses_get(owner_client, owner):
    response = owner_client.get("/logout/")

    assert response.status_code == 405
    assert user_id(owner_client) == str(owner.pk)


def test_logout_signs_out_on_post(owner_client):
    response = owner_client.post("/logout/")

    assert response.status_code == 302
    assert response.url == URL
    assert user_id(owner_client) is None
    assert owner_client.get("/").status_code == 302


# --- password reset ---------------------------------------------------------------------------


def reset_link(message) -> str:
    match = re.search(r"https?://[^/\s]+(/password/reset/[^/\s]+/[^/\s]+/)", message.body)
    assert match, message.body
    return match.group(1)


def test_password_reset_sends_a_link_that_sets_a_new_password(client, owner):
    response = client.post("/password/reset/", {"email": owner.email.upper()})

    assert response.status_code == 302
    assert response.url == reverse("accounts:password_reset_done")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [owner.email]
    assert owner.email in message.body

    form_page = client.get(reset_link(message), follow=True)
    assert form_page.status_code == 200
    assert form_page.context["validlink"] is True
    set_password_url = form_page.redirect_chain[-1][0]

    done = client.post(
        set_password_url,
        {"new_password1": "Nouveau-Mot-2-Passe", "new_password2": "Nouveau-Mot-2-Passe"},
    )
    assert done.status_code == 302
    assert done.url == reverse("accounts:password_reset_complete")

    assert login(client, owner.email, PASSWORD).status_code == 200
    assert user_id(client) is None
    assert login(client, owner.email, "Nouveau-Mot-2-Passe").status_code == 302
    assert user_id(client) == str(owner.pk)


def test_password_reset_link_works_once(client, owner):
    client.post("/password/reset/", {"email": owner.email})
    link = reset_link(mail.outbox[0])
    page = client.get(link, follow=True)
    client.post(
        page.redirect_chain[-1][0],
        {"new_password1": "Nouveau-Mot-2-Passe", "new_password2": "Nouveau-Mot-2-Passe"},
    )

    again = client.get(link, follow=True)

    assert again.context["validlink"] is False


def test_password_reset_sends_nothing_for_an_unknown_email(client):
    response = client.post("/password/reset/", {"email": "nobody@example.com"})

    assert response.status_code == 302
    assert mail.outbox == []


def test_password_reset_sends_a_few_mails_per_address_an_hour(client, owner, settings):
    for i in range(50):  # from many clients: the per-address limit holds
        response = client.post(
            "/password/reset/", {"email": owner.email}, REMOTE_ADDR=f"10.4.{i}.1"
        )
        # The same answer each time: nothing tells that the limit was reached.
        assert response.status_code == 302
        assert response.url == reverse("accounts:password_reset_done")

    assert len(mail.outbox) == settings.RESET_EMAILS_PER_ADDRESS_HOUR
    # Another address still gets its e-mail.
    other = UserFactory()
    client.post("/password/reset/", {"email": other.email})
    assert mail.outbox[-1].to == [other.email]


def test_password_reset_limits_one_client_across_addresses(client, settings):
    settings.RESET_REQUESTS_PER_CLIENT_HOUR = 5
    users = [UserFactory() for _ in range(8)]
    for user in users:
        client.post("/password/reset/", {"email": user.email}, REMOTE_ADDR="10.3.3.3")

    assert len(mail.outbox) == 5
