"""What every page under an account reads before its own work (the session, the user, the
membership): who gets in, who is signed out, and at what cost in queries."""

import importlib
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.tasks import clear_expired_sessions
from tests.accounts.factories import AccountFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

BACKEND_KEY = "_auth_user_backend"  # django.contrib.auth.BACKEND_SESSION_KEY


def with_cookie(session_key: str) -> Client:
    """A new browser that only has this session cookie."""
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = session_key
    return client


def test_login_by_form_then_pages_open(client, owner, account):
    response = client.post(
        reverse("accounts:login"), {"username": owner.email, "password": "secret-pass-123"}
    )
    assert response.status_code == 302
    page = client.get(account.get_absolute_url())
    assert page.status_code == 200 and account.name in page.content.decode()
    # The throttled backend (the only one) signed this session in.
    data = Session.objects.get().get_decoded()
    assert data[BACKEND_KEY] == "accounts.backends.ThrottledModelBackend"


def test_logging_out_ends_the_session_for_the_old_cookie(owner_client, account):
    old_key = owner_client.cookies[settings.SESSION_COOKIE_NAME].value
    assert with_cookie(old_key).get(account.get_absolute_url()).status_code == 200

    owner_client.post(reverse("accounts:logout"))

    assert not Session.objects.filter(session_key=old_key).exists()
    replay = with_cookie(old_key)
    response = replay.get(account.get_absolute_url())
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]
    counter = reverse("messaging:counter", args=[account.name])
    assert replay.post(counter, {"message": "x"}).status_code == 302
    assert "_auth_user_id" not in replay.session


def test_expired_session_signs_out(owner_client, account):
    assert owner_client.get(account.get_absolute_url()).status_code == 200
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    response = owner_client.get(account.get_absolute_url())
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


def test_password_change_elsewhere_signs_out(owner_client, owner, account):
    owner.set_password("another-pass-456")
    owner.save()
    response = owner_client.get(account.get_absolute_url())
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


def test_an_inactive_user_is_signed_out(owner_client, owner, account):
    owner.is_active = False
    owner.save()
    response = owner_client.get(account.get_absolute_url())
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


def test_removed_member_gets_404_at_once(client, account):
    user = UserFactory()
    membership = MembershipFactory(user=user, account=account, role="member")
    client.force_login(user)
    assert client.get(account.get_absolute_url()).status_code == 200
    membership.delete()
    assert client.get(account.get_absolute_url()).status_code == 404


def test_an_outsider_gets_404(client, outsider, account):
    client.force_login(outsider)
    assert client.get(account.get_absolute_url()).status_code == 404
    assert client.get("/sms/sms-nope-1/").status_code == 404


def test_each_account_shows_the_users_own_role(client, owner, account):
    second = AccountFactory()
    MembershipFactory(user=owner, account=second, role="member")
    client.force_login(owner)
    transfer = "Transférer des crédits"
    assert transfer in client.get(account.get_absolute_url()).content.decode()
    assert transfer not in client.get(second.get_absolute_url()).content.decode()


def test_an_account_page_costs_three_small_queries(
    owner_client, account, django_assert_num_queries
):
    """Session, user and membership (with its account): one query each, then the view's work
    (the counter while typing does none)."""
    url = reverse("messaging:counter", args=[account.name])
    with django_assert_num_queries(3):
        response = owner_client.post(url, {"message": "Bonjour"}, HTTP_HX_REQUEST="true")
    assert 'data-testid="segments">1<' in response.content.decode()


def test_clear_expired_sessions_keeps_live_ones(client, owner):
    client.force_login(owner)
    live = Session.objects.get()
    Session.objects.create(
        session_key="x" * 32, session_data="{}", expire_date=timezone.now() - timedelta(days=1)
    )
    clear_expired_sessions()
    assert list(Session.objects.values_list("pk", flat=True)) == [live.pk]


def test_sessions_of_the_removed_backend_stay_signed_in(client, owner, account):
    """Migrations 0005 then 0010: sessions that name accounts.backends.AccountsBackend (set by
    0004) are pointed back at Django's ModelBackend, then at the throttled backend, so the
    upgrades sign nobody out."""
    migrations = [
        importlib.import_module("accounts.migrations.0005_sessions_model_backend"),
        importlib.import_module("accounts.migrations.0010_sessions_throttled_backend"),
    ]
    client.force_login(owner)
    session = Session.objects.get()
    store = SessionStore()
    data = store.decode(session.session_data)
    data[BACKEND_KEY] = "accounts.backends.AccountsBackend"
    session.session_data = store.encode(data)
    session.save()
    untouched = Session.objects.create(
        session_key="y" * 32,
        session_data=store.encode({"django_language": "en"}),
        expire_date=timezone.now() + timedelta(days=1),
    )
    assert client.get(account.get_absolute_url()).status_code == 302  # signed out as it is

    for migration in migrations:
        migration.forwards(apps, SimpleNamespace(connection=connection))

    assert client.get(account.get_absolute_url()).status_code == 200
    session.refresh_from_db()
    assert session.get_decoded()[BACKEND_KEY] == "accounts.backends.ThrottledModelBackend"
    untouched.refresh_from_db()
    assert untouched.get_decoded() == {"django_language": "en"}


def test_the_session_backend_migrations_go_back_the_way_they_came(client, owner):
    """0004, 0005 and 0010 share one renaming function (accounts/migrations/_sessions.py):
    forwards from Django's first backend to the throttled one, backwards all the way back."""
    names = ["0004_sessions_auth_backend", "0005_sessions_model_backend",
             "0010_sessions_throttled_backend"]  # fmt: skip
    migrations = [importlib.import_module(f"accounts.migrations.{name}") for name in names]
    editor = SimpleNamespace(connection=connection)
    client.force_login(owner)
    session = Session.objects.get()
    store = SessionStore()
    data = store.decode(session.session_data)
    data[BACKEND_KEY] = "django.contrib.auth.backends.ModelBackend"
    session.session_data = store.encode(data)
    session.save()

    seen = []
    for migration in migrations:
        migration.forwards(apps, editor)
        session.refresh_from_db()
        seen.append(session.get_decoded()[BACKEND_KEY])
    for migration in reversed(migrations):
        migration.backwards(apps, editor)
        session.refresh_from_db()
        seen.append(session.get_decoded()[BACKEND_KEY])

    assert seen == [
        "accounts.backends.AccountsBackend",
        "django.contrib.auth.backends.ModelBackend",
        "accounts.backends.ThrottledModelBackend",
        "django.contrib.auth.backends.ModelBackend",
        "accounts.backends.AccountsBackend",
        "django.contrib.auth.backends.ModelBackend",
    ]
