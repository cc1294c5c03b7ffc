"""The counter's token path: typing posts a signed token instead of reading the session, the
membership is still checked on each request, and anything doubtful goes through the session."""

import re
import time

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse

from messaging.views import COUNTER_TOKEN_MAX_AGE, COUNTER_TOKEN_SALT
from tests.accounts.factories import AccountFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

# 48 × 25 = 1,200 septets + 11 for the STOP mention = 1,211: 8 parts of 153.
MESSAGE = "Bonjour Camille, votre commande 4512 est prete. " * 25


def counter_url(account):
    return reverse("messaging:counter", args=[account.name])


def token_in(html: str) -> str:
    return re.search(r'name="counter_token" value="([^"]+)"', html).group(1)


def page_token(client, account) -> str:
    """The token the compose page gives this browser."""
    return token_in(client.get(reverse("messaging:compose", args=[account.name])).content.decode())


def post(client, account, **data):
    return client.post(counter_url(account), data, HTTP_HX_REQUEST="true")


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_typing_with_the_page_token_skips_the_session(
    owner_client, account, django_assert_num_queries
):
    token = page_token(owner_client, account)
    with django_assert_num_queries(1):  # the membership, checked now; no session, no user
        response = post(owner_client, account, message=MESSAGE, counter_token=token)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="segments">8<' in html
    assert token_in(html) == token  # the token path never extends the token


def test_without_a_token_the_session_is_read(owner_client, account, django_assert_num_queries):
    with django_assert_num_queries(3):  # session, user, membership
        response = post(owner_client, account, message=MESSAGE)
    assert 'data-testid="segments">8<' in response.content.decode()
    assert token_in(response.content.decode())  # a fresh one for the next keystrokes


def test_token_path_and_session_path_render_the_same_partial(owner_client, account):
    token = page_token(owner_client, account)
    for data in (
        {"message": MESSAGE},
        {"message": "Prix : 10 € « promo » 😀", "smart_replace": "1"},
        {"message": "x" * 40000},
        {"message": "Stop", "no_stop_clause": "on", "when": "later"},
    ):
        by_token = post(owner_client, account, counter_token=token, **data).content.decode()
        by_session = post(owner_client, account, **data).content.decode()
        strip = lambda html: re.sub(r'name="counter_token" value="[^"]+"', "", html)  # noqa: E731
        assert strip(by_token) == strip(by_session)


def test_recipients_go_through_the_session(owner_client, account, django_assert_num_queries):
    token = page_token(owner_client, account)
    response = post(
        owner_client, account, message="Bonjour", receivers="+33612345678", counter_token=token
    )
    assert 'data-testid="estimate-recipients">1<' in response.content.decode()
    owner_client.post(reverse("accounts:logout"))
    response = post(
        owner_client, account, message="Bonjour", receivers="+33612345678", counter_token=token
    )
    assert response.status_code == 302  # the login page, not the account's credits


def test_logging_out_voids_the_token(owner_client, account):
    token = page_token(owner_client, account)
    owner_client.post(reverse("accounts:logout"))
    response = post(owner_client, account, message="x", counter_token=token)
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


def test_changing_the_password_voids_the_token(owner_client, owner, account):
    token = page_token(owner_client, account)
    owner.set_password("another-pass-456")
    owner.save()
    response = post(owner_client, account, message="x", counter_token=token)
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


def test_the_token_only_works_with_the_session_it_was_given_to(owner, account, outsider):
    token = page_token(signed_in(owner), account)
    # Replayed by someone else, signed in or not, it opens nothing.
    assert post(signed_in(outsider), account, message="x", counter_token=token).status_code == 404
    assert post(Client(), account, message="x", counter_token=token).status_code == 302
    # Another session of the same person reads its own session instead: still served.
    assert post(signed_in(owner), account, message="x", counter_token=token).status_code == 200


def test_a_removed_member_is_refused_at_once(account):
    user = UserFactory()
    membership = MembershipFactory(user=user, account=account, role="member")
    client = signed_in(user)
    token = page_token(client, account)
    assert post(client, account, message="x", counter_token=token).status_code == 200
    membership.delete()
    assert post(client, account, message="x", counter_token=token).status_code == 404


def test_an_inactive_user_is_refused(owner_client, owner, account):
    token = page_token(owner_client, account)
    owner.is_active = False
    owner.save()
    response = post(owner_client, account, message="x", counter_token=token)
    assert response.status_code == 302  # the session path: no longer signed in


def test_a_token_for_another_account_is_read_through_the_session(
    owner_client, owner, account, django_assert_num_queries
):
    second = AccountFactory()
    MembershipFactory(user=owner, account=second, role="member")
    first_token, second_token = page_token(owner_client, account), page_token(owner_client, second)
    with django_assert_num_queries(1):
        assert (
            post(owner_client, second, message="x", counter_token=second_token).status_code == 200
        )
    with django_assert_num_queries(3):
        assert post(owner_client, second, message="x", counter_token=first_token).status_code == 200
    outsider_account = AccountFactory()
    assert (
        post(owner_client, outsider_account, message="x", counter_token=first_token).status_code
        == 404
    )


@pytest.mark.parametrize(
    "token",
    [
        "",
        "garbage",
        "1/sms-ab12345-1/abc:1abcde:forged",
        signing.TimestampSigner(salt="x").sign("1"),
    ],
)
def test_forged_tokens_fall_back_to_the_session(
    owner_client, account, token, django_assert_num_queries
):
    with django_assert_num_queries(3):
        assert post(owner_client, account, message="x", counter_token=token).status_code == 200
    assert post(Client(), account, message="x", counter_token=token).status_code == 302


def test_an_expired_token_falls_back_to_the_session(
    owner_client, account, monkeypatch, django_assert_num_queries
):
    token = page_token(owner_client, account)
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + COUNTER_TOKEN_MAX_AGE + 5)
    with django_assert_num_queries(3):
        assert post(owner_client, account, message="x", counter_token=token).status_code == 200


def test_the_token_is_signed_for_the_counter_only(owner_client, owner, account):
    token = page_token(owner_client, account)
    user_id, name, binding = (
        signing.TimestampSigner(salt=COUNTER_TOKEN_SALT).unsign(token).split("/")
    )
    assert (user_id, name, len(binding)) == (str(owner.pk), account.name, 32)
    with pytest.raises(signing.BadSignature):
        signing.TimestampSigner(salt="django.contrib.sessions").unsign(token)


def test_the_token_path_checks_csrf(owner, account):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    token = page_token(client, account)
    assert post(client, account, message="x", counter_token=token).status_code == 403


def test_get_is_refused(owner_client, account, outsider):
    assert owner_client.get(counter_url(account)).status_code == 405
    assert signed_in(outsider).get(counter_url(account)).status_code == 404


def test_the_template_page_token_works_too(owner_client, account, django_assert_num_queries):
    page = owner_client.get(reverse("messaging:template_new", args=[account.name]))
    token = token_in(page.content.decode())
    with django_assert_num_queries(1):
        response = post(
            owner_client, account, text="Bonjour", no_stop_clause="on", counter_token=token
        )
    assert 'data-testid="remaining">153<' in response.content.decode()
