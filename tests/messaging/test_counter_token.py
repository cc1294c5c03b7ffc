"""The counter's token path: typing posts a signed token instead of reading the session, the
membership is still checked on each request, and anything doubtful goes through the session."""

import re

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse

from accounts.models import Membership
from messaging.views import COUNTER_TOKEN_MAX_AGE, COUNTER_TOKEN_SALT, counter_token
from tests.accounts.factories import AccountFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

# 48 × 25 = 1,200 septets + 11 for the STOP mention = 1,211: 8 parts of 153.
MESSAGE = "Bonjour Camille, votre commande 4512 est prete. " * 25


def counter_url(account):
    return reverse("messaging:counter", args=[account.name])


def token_from(html: str) -> str:
    return re.search(r'name="counter_token" value="([^"]+)"', html).group(1)


def post(client, account, **data):
    return client.post(counter_url(account), data, HTTP_HX_REQUEST="true")


def test_the_page_carries_a_token_that_counts_without_the_session(
    owner_client, account, django_assert_num_queries
):
    page = owner_client.get(reverse("messaging:compose", args=[account.name])).content.decode()
    token = token_from(page)
    anonymous = Client()  # no session cookie at all: the token names user and account
    with django_assert_num_queries(1):  # the membership, checked now
        response = post(anonymous, account, message=MESSAGE, counter_token=token)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="segments">8<' in html
    assert token_from(html) == token  # the token path never extends the token


def test_token_path_and_session_path_render_the_same_partial(owner_client, owner, account):
    token = counter_token(owner, account)
    for data in (
        {"message": MESSAGE},
        {"message": "Prix : 10 € « promo » 😀", "smart_replace": "1"},
        {"message": "x" * 40000},
        {"message": "Stop", "no_stop_clause": "on", "when": "later"},
    ):
        by_token = post(Client(), account, counter_token=token, **data).content.decode()
        by_session = post(owner_client, account, **data).content.decode()
        assert token_from(by_session)  # a fresh token, same user and account
        strip = lambda html: re.sub(r'name="counter_token" value="[^"]+"', "", html)  # noqa: E731
        assert strip(by_token) == strip(by_session)


def test_recipients_go_through_the_session(owner, account, django_assert_max_num_queries):
    token = counter_token(owner, account)
    response = post(
        Client(), account, message="Bonjour", receivers="+33612345678", counter_token=token
    )
    assert response.status_code == 302  # no session: the login page, not the account's credits
    assert reverse("accounts:login") in response["Location"]


def test_a_removed_member_is_refused_at_once(client, account):
    user = UserFactory()
    membership = MembershipFactory(user=user, account=account, role="member")
    token = counter_token(user, account)
    assert post(Client(), account, message="x", counter_token=token).status_code == 200
    membership.delete()
    client.force_login(user)
    assert post(client, account, message="x", counter_token=token).status_code == 404


def test_an_inactive_user_is_refused(owner, account):
    token = counter_token(owner, account)
    owner.is_active = False
    owner.save()
    response = post(Client(), account, message="x", counter_token=token)
    assert response.status_code == 302  # the session path: not signed in


def test_a_token_for_another_account_opens_nothing(owner, account, outsider):
    other = Membership.objects.get(user=outsider).account
    stolen = counter_token(owner, account)
    outsider_client = Client()
    outsider_client.force_login(outsider)
    # The outsider's own token names their account: not this one.
    assert (
        post(
            outsider_client, account, message="x", counter_token=counter_token(outsider, other)
        ).status_code
        == 404
    )
    # A member's token replayed on another account's URL is worth nothing either.
    assert post(outsider_client, other, message="x", counter_token=stolen).status_code == 200
    response = post(Client(), other, message="x", counter_token=stolen)
    assert response.status_code == 302


@pytest.mark.parametrize(
    "token",
    [
        "",
        "1/sms-ab12345-1:1abcde:forged",
        signing.TimestampSigner(salt="another.salt").sign("1/x"),
    ],
)
def test_forged_tokens_fall_back_to_the_session(owner, account, token):
    anonymous = post(Client(), account, message="x", counter_token=token)
    assert anonymous.status_code == 302
    client = Client()
    client.force_login(owner)
    assert post(client, account, message="x", counter_token=token).status_code == 200


def test_an_expired_token_falls_back_to_the_session(owner, account, monkeypatch):
    import time

    token = counter_token(owner, account)
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + COUNTER_TOKEN_MAX_AGE + 5)
    assert post(Client(), account, message="x", counter_token=token).status_code == 302


def test_the_token_is_signed_for_the_counter_only(owner, account):
    token = counter_token(owner, account)
    value = signing.TimestampSigner(salt=COUNTER_TOKEN_SALT).unsign(token)
    assert value == f"{owner.pk}/{account.name}"
    with pytest.raises(signing.BadSignature):
        signing.TimestampSigner(salt="django.contrib.sessions").unsign(token)


def test_get_is_refused_by_the_session_path(owner_client, account, outsider):
    assert owner_client.get(counter_url(account)).status_code == 405
    other = Client()
    other.force_login(outsider)
    assert other.get(counter_url(account)).status_code == 404


def test_two_accounts_two_tokens(owner, account):
    second = AccountFactory()
    MembershipFactory(user=owner, account=second, role="member")
    first_token, second_token = counter_token(owner, account), counter_token(owner, second)
    assert post(Client(), second, message="x", counter_token=second_token).status_code == 200
    assert post(Client(), second, message="x", counter_token=first_token).status_code == 302
