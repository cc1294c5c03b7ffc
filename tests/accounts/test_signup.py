"""/signup/: a new customer gets a user, an owned SMS account, a session, and the welcome
credits once the e-mail address is verified; sign-ups are limited per client address."""

import re
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import CreditMovement, Membership, SmsAccount, User
from tests.accounts.factories import UserFactory, ledger_sum

pytestmark = pytest.mark.django_db

URL = "/signup/"
GOOD_PASSWORD = "Tr0mbone-Violet-42"


def form_data(**overrides):
    data = {
        "email": "camille.dupont@example.com",
        "first_name": "Camille",
        "last_name": "Dupont",
        "company": "Boulangerie Dupont",
        "password1": GOOD_PASSWORD,
        "password2": GOOD_PASSWORD,
    }
    data.update(overrides)
    return data


def test_the_url_is_signup():
    assert reverse("accounts:signup") == URL


def test_it_shows_the_form(client):
    response = client.get(URL)

    assert response.status_code == 200
    assert set(response.context["form"].fields) >= {"email", "password1", "password2"}


def verify_link(message) -> str:
    match = re.search(r"https?://[^/\s]+(/verify/[^/\s]+/)", message.body)
    assert match, message.body
    return match.group(1)


def test_it_creates_the_user_and_an_account_credited_after_verification(client, settings):
    settings.SIGNUP_FREE_CREDITS = Decimal("7")

    response = client.post(URL, form_data())

    user = User.objects.get(email="camille.dupont@example.com")
    account = SmsAccount.objects.get(memberships__user=user)
    assert user.email_verified_at is None
    assert account.credits == Decimal("0.00")
    assert not CreditMovement.objects.filter(account=account).exists()
    assert 'data-testid="verify-banner"' in client.get(f"/sms/{account.name}/").content.decode()
    [message] = mail.outbox
    assert message.to == ["camille.dupont@example.com"]

    # Followed twice (a double click, a mail scanner): the credits come once.
    client.get(verify_link(message))
    client.get(verify_link(message))

    user = User.objects.get(email="camille.dupont@example.com")
    assert user.first_name == "Camille"
    assert user.last_name == "Dupont"
    assert user.company == "Boulangerie Dupont"
    assert user.check_password(GOOD_PASSWORD)
    account = SmsAccount.objects.get(memberships__user=user)
    assert account.name == f"sms-{user.handle}-1"
    assert Membership.objects.get(user=user, account=account).role == "owner"
    assert account.credits == Decimal("7.00")
    signup_row = CreditMovement.objects.get(account=account)
    assert signup_row.kind == CreditMovement.Kind.SIGNUP
    assert signup_row.amount == Decimal("7.00")
    assert ledger_sum(account) == account.credits
    assert response.status_code == 302
    assert response.url == f"/sms/{account.name}/"


def test_the_welcome_message_formats_the_credits_by_the_locale(client, settings):
    settings.SIGNUP_FREE_CREDITS = Decimal("5")
    page = client.post(URL, form_data(), follow=True).content.decode()
    assert "pour recevoir 5,00 crédits offerts." in page

    settings.SIGNUP_FREE_CREDITS = Decimal("1")
    client.logout()
    client.cookies["django_language"] = "en"
    page = client.post(URL, form_data(email="b@example.com"), follow=True).content.decode()
    assert "to receive 1.00 free credit." in page


def test_it_logs_the_new_customer_in(client):
    client.post(URL, form_data())

    user = User.objects.get(email="camille.dupont@example.com")
    assert client.session["_auth_user_id"] == str(user.pk)
    account = SmsAccount.objects.get(memberships__user=user)
    dashboard = client.get(f"/sms/{account.name}/")
    assert dashboard.status_code == 200
    assert dashboard.context["account"] == account


def test_it_gives_the_default_welcome_credits_after_verification(client, settings):
    client.post(URL, form_data())
    client.logout()  # the link works without a session
    assert client.get(verify_link(mail.outbox[0])).status_code == 302

    account = SmsAccount.objects.get(memberships__user__email="camille.dupont@example.com")
    assert account.credits == settings.SIGNUP_FREE_CREDITS


def test_it_stores_the_email_in_lower_case(client):
    client.post(URL, form_data(email="Camille.Dupont@Example.COM"))

    assert list(User.objects.values_list("email", flat=True)) == ["camille.dupont@example.com"]


@pytest.mark.parametrize(
    "email", ["taken@example.com", "TAKEN@example.com", "Taken@Example.Com", " taken@example.com "]
)
def test_it_refuses_an_email_already_used_whatever_its_case(client, email):
    UserFactory(email="taken@example.com")

    response = client.post(URL, form_data(email=email))

    assert response.status_code == 200
    assert "email" in response.context["form"].errors
    assert User.objects.count() == 1
    assert not SmsAccount.objects.exists()
    assert "_auth_user_id" not in client.session


def test_it_refuses_mismatched_passwords(client):
    response = client.post(URL, form_data(password2=GOOD_PASSWORD + "x"))

    assert response.status_code == 200
    assert "password2" in response.context["form"].errors
    assert not User.objects.exists()
    assert not SmsAccount.objects.exists()
    assert "_auth_user_id" not in client.session


def test_it_refuses_a_weak_password(client):
    response = client.post(URL, form_data(password1="12345678", password2="12345678"))

    assert response.status_code == 200
    assert "password1" in response.context["form"].errors
    assert not User.objects.exists()


@pytest.mark.parametrize("missing", ["email", "first_name", "last_name"])
def test_it_requires_the_identity_fields(client, missing):
    response = client.post(URL, form_data(**{missing: ""}))

    assert response.status_code == 200
    assert missing in response.context["form"].errors
    assert not User.objects.exists()


def test_it_sends_a_signed_in_user_home(owner_client, account):
    response = owner_client.get(URL)

    assert response.status_code == 302
    assert response.url == "/"
    assert User.objects.count() == 1


def test_a_forged_or_stale_link_verifies_nothing(client):
    client.post(URL, form_data())
    link = verify_link(mail.outbox[0])
    user = User.objects.get()
    User.objects.filter(pk=user.pk).update(email="changed@example.com")

    assert client.get(link).status_code == 302  # signed for the old address
    assert client.get(link[:-3] + "xx/").status_code == 302

    user.refresh_from_db()
    assert user.email_verified_at is None
    assert SmsAccount.objects.get().credits == Decimal("0.00")


def test_the_banner_resends_the_link(english):
    english.post(URL, form_data())
    page = english.get("/sms/", follow=True).content.decode()
    assert "Confirm your e-mail address" in page

    english.post(reverse("accounts:verify_email_send"), {"next": "/sms/"})

    assert len(mail.outbox) == 2
    english.get(verify_link(mail.outbox[1]))
    assert "Confirm your e-mail address" not in english.get("/sms/").content.decode()


def test_it_limits_sign_ups_per_client_address(client, settings):
    settings.SIGNUPS_PER_ADDRESS_HOUR = 3
    for i in range(10):
        client.post(URL, form_data(email=f"user{i}@example.com"), REMOTE_ADDR="10.1.1.1")
        client.logout()

    assert User.objects.count() == 3
    refused = client.post(URL, form_data(email="late@example.com"), REMOTE_ADDR="10.1.1.1")
    assert refused.status_code == 429
    assert refused.context["form"].non_field_errors()
    # Another network still signs up.
    client.post(URL, form_data(email="other@example.com"), REMOTE_ADDR="10.2.2.2")
    assert User.objects.filter(email="other@example.com").exists()


def test_it_takes_the_address_from_the_trusted_proxy_header(client, settings):
    settings.SIGNUPS_PER_ADDRESS_HOUR = 1
    settings.CLIENT_IP_HEADER = "X-Forwarded-For"
    # The client sets its own X-Forwarded-For; the proxy appends the real address.
    for i, spoofed in enumerate(["1.1.1.1", "2.2.2.2", "3.3.3.3"]):
        client.post(
            URL,
            form_data(email=f"user{i}@example.com"),
            REMOTE_ADDR="127.0.0.1",
            HTTP_X_FORWARDED_FOR=f"{spoofed}, 203.0.113.9",
        )
        client.logout()

    assert User.objects.count() == 1
