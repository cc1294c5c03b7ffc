"""/signup/: a new customer gets a user, an owned SMS account with welcome credits, a session."""

from decimal import Decimal

import pytest
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


def test_it_creates_the_user_and_an_account_with_welcome_credits(client, settings):
    settings.SIGNUP_FREE_CREDITS = Decimal("7")

    response = client.post(URL, form_data())

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
    assert "est prêt, avec 5,00 crédits offerts." in page

    settings.SIGNUP_FREE_CREDITS = Decimal("1")
    client.logout()
    client.cookies["django_language"] = "en"
    page = client.post(URL, form_data(email="b@example.com"), follow=True).content.decode()
    assert "is ready with 1.00 free credit." in page


def test_it_logs_the_new_customer_in(client):
    client.post(URL, form_data())

    user = User.objects.get(email="camille.dupont@example.com")
    assert client.session["_auth_user_id"] == str(user.pk)
    account = SmsAccount.objects.get(memberships__user=user)
    dashboard = client.get(f"/sms/{account.name}/")
    assert dashboard.status_code == 200
    assert dashboard.context["account"] == account


def test_it_gives_the_default_welcome_credits(client, settings):
    client.post(URL, form_data())

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
