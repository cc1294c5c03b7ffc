"""The per-request lookups (session, user, membership) read through prepared SQL
(accounts.fastload): same instances as the ORM, same refusals, on SQLite and PostgreSQL."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

from accounts.access import membership_credentials, membership_find
from accounts.backends import AccountsBackend
from accounts.fastload import Prepared
from accounts.models import Membership, SmsAccount, User
from accounts.tasks import clear_expired_sessions
from tests.accounts.factories import AccountFactory, MembershipFactory, UserFactory


def field_values(instance):
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


@pytest.mark.django_db
def test_membership_lookup_builds_what_the_orm_builds(owner, account):
    account.low_credit_threshold = Decimal("12.50")
    account.save()
    membership = membership_find(owner.pk, account.name)
    expected = Membership.objects.get(user=owner, account=account)
    assert field_values(membership) == field_values(expected)
    assert field_values(membership.account) == field_values(SmsAccount.objects.get(pk=account.pk))
    assert membership.account.credits == Decimal("100.00")
    assert isinstance(membership.account.credits, Decimal)
    assert timezone.is_aware(membership.account.created_at)
    # The account comes with the membership: reading it costs no query.
    assert not membership._state.adding and membership.account.name == account.name


@pytest.mark.django_db
def test_membership_lookup_refuses_other_accounts(
    owner, account, outsider, django_assert_num_queries
):
    other = Membership.objects.get(user=outsider).account
    with django_assert_num_queries(1):
        assert membership_find(owner.pk, other.name) is None
    assert membership_find(owner.pk, "sms-nope-1") is None
    assert membership_find(outsider.pk, account.name) is None
    assert membership_find(outsider.pk, other.name).account == other


@pytest.mark.django_db
def test_backend_loads_active_users_only(owner):
    backend = AccountsBackend()
    user = backend.get_user(owner.pk)
    assert field_values(user) == field_values(User.objects.get(pk=owner.pk))
    assert timezone.is_aware(user.date_joined)
    assert backend.get_user(owner.pk + 1000) is None
    owner.is_active = False
    owner.save()
    assert backend.get_user(owner.pk) is None


@pytest.mark.django_db
def test_inactive_users_have_no_membership(owner, account):
    owner.is_active = False
    owner.save()
    assert membership_find(owner.pk, account.name) is None


@pytest.mark.django_db
def test_account_page_costs_three_small_queries(owner_client, account, django_assert_num_queries):
    """Session, user and membership: one query each, before the view's own work."""
    url = reverse("messaging:counter", args=[account.name])
    with django_assert_num_queries(3):
        response = owner_client.post(url, {"message": "Bonjour"}, HTTP_HX_REQUEST="true")
    assert 'data-testid="segments">1<' in response.content.decode()


@pytest.mark.django_db
def test_login_by_form_then_pages_open(client, account):
    owner = Membership.objects.get(account=account).user
    response = client.post(
        reverse("accounts:login"), {"username": owner.email, "password": "secret-pass-123"}
    )
    assert response.status_code == 302
    page = client.get(account.get_absolute_url())
    assert page.status_code == 200 and account.name in page.content.decode()


@pytest.mark.django_db
def test_expired_session_signs_out(owner_client, account):
    assert owner_client.get(account.get_absolute_url()).status_code == 200
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    response = owner_client.get(account.get_absolute_url())
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


@pytest.mark.django_db
def test_password_change_elsewhere_signs_out(owner_client, owner, account):
    owner.set_password("another-pass-456")
    owner.save()
    response = owner_client.get(account.get_absolute_url())
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


@pytest.mark.django_db
def test_removed_member_gets_404_at_once(client, account):
    user = UserFactory()
    membership = MembershipFactory(user=user, account=account, role="member")
    client.force_login(user)
    assert client.get(account.get_absolute_url()).status_code == 200
    membership.delete()
    assert client.get(account.get_absolute_url()).status_code == 404


@pytest.mark.django_db
def test_clear_expired_sessions_keeps_live_ones(client, owner):
    client.force_login(owner)
    live = Session.objects.get()
    stale = Session.objects.create(
        session_key="x" * 32, session_data="{}", expire_date=timezone.now() - timedelta(days=1)
    )
    clear_expired_sessions()
    assert list(Session.objects.values_list("pk", flat=True)) == [live.pk]
    assert not Session.objects.filter(pk=stale.pk).exists()


@pytest.mark.django_db
def test_two_accounts_same_user(owner, account):
    second = AccountFactory()
    MembershipFactory(user=owner, account=second, role="member")
    assert membership_find(owner.pk, second.name).role == "member"
    assert membership_find(owner.pk, account.name).role == "owner"


@pytest.mark.django_db
def test_the_credentials_lookup_defers_what_it_does_not_read(
    owner, account, django_assert_num_queries
):
    with django_assert_num_queries(1):
        membership = membership_credentials(owner.pk, account.name)
        assert (membership.account.name, membership.role, membership.user.password) == (
            account.name,
            "owner",
            owner.password,
        )
        assert (membership.user_id, membership.account_id) == (owner.pk, account.pk)
    with django_assert_num_queries(1):  # a deferred field, read on first access
        assert membership.account.credits == Decimal("100.00")
    assert membership_credentials(owner.pk, "sms-nope-1") is None


@pytest.mark.django_db
def test_chosen_fields_are_read_in_model_order_whatever_order_they_are_named(owner, account):
    """from_db matches values to fields by position: the SQL must list them in model order."""
    lookup = Prepared(
        lambda column, tables, columns: (
            f"SELECT {columns[0]} FROM {tables[0]} t0 WHERE t0.{column(Membership, 'user')} = %s"
        ),
        (Membership, ["role", "account", "user", "id"]),
    )
    (membership,) = lookup.first([owner.pk])
    assert (membership.user_id, membership.account_id, membership.role) == (
        owner.pk,
        account.pk,
        "owner",
    )
    with pytest.raises(ValueError, match="not concrete fields"):
        Prepared(lambda *a: "", (SmsAccount, ["name", "members"]))._for("default")


@pytest.mark.django_db
def test_sessions_opened_under_modelbackend_stay_signed_in(client, owner, account):
    """The migration that moved sessions to AccountsBackend (0004)."""
    import importlib
    from types import SimpleNamespace

    from django.apps import apps
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import connection

    migration = importlib.import_module("accounts.migrations.0004_sessions_auth_backend")
    client.force_login(owner)
    session = Session.objects.get()
    store = SessionStore()
    data = store.decode(session.session_data)
    data["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session.session_data = store.encode(data)
    session.save()
    assert client.get(account.get_absolute_url()).status_code == 302  # signed out as it is
    migration.forwards(apps, SimpleNamespace(connection=connection))
    assert client.get(account.get_absolute_url()).status_code == 200
    session.refresh_from_db()
    assert store.decode(session.session_data)["_auth_user_backend"] == (
        "accounts.backends.AccountsBackend"
    )


@pytest.mark.django_db
def test_the_loaded_user_rides_along_with_the_membership(owner, account, django_assert_num_queries):
    with django_assert_num_queries(1):
        membership = membership_find(owner.pk, account.name, user=owner)
        assert membership.user is owner and membership.user.email == owner.email
