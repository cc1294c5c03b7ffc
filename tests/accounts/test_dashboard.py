"""Home, account list, account creation, dashboard /sms/<name>/ and ledger /sms/<name>/credits/."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import formats, translation

from accounts import services
from accounts.models import CreditMovement, SmsAccount
from tests.accounts.factories import AccountFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def dashboard_url(account):
    return f"/sms/{account.name}/"


def ledger_url(account):
    return f"/sms/{account.name}/credits/"


def shown(number) -> str:
    """A number as the (French by default) pages print it: 100,00."""
    with translation.override("fr"):
        return formats.localize(Decimal(number))


def fill_ledger(account, by, n):
    """n movements of alternating kinds after the initial order (the balance stays positive)."""
    for i in range(n):
        if i % 3 == 0:
            services.credits_add(account=account, amount=2, kind="order", key=f"fill:{i}", by=by)
        elif i % 3 == 1:
            services.credits_debit(account=account, amount=1, key=f"fill:{i}", by=by)
        else:
            services.credits_refund(account=account, amount=1, key=f"fill:{i}")


# --- home and account list --------------------------------------------------------------------


def test_home_sends_anonymous_visitors_to_login(client):
    response = client.get("/")

    assert response.status_code == 302
    assert response.url == "/login/?next=/"


def test_home_opens_the_only_account(owner_client, account):
    response = owner_client.get("/")

    assert response.status_code == 302
    assert response.url == dashboard_url(account)


def test_home_lists_several_accounts(owner_client, account, second_account):
    response = owner_client.get("/")

    assert response.status_code == 302
    assert response.url == "/sms/"


def test_home_lists_when_there_is_no_account(client):
    client.force_login(UserFactory())

    response = client.get("/")

    assert response.status_code == 302
    assert response.url == "/sms/"


def test_the_list_shows_only_the_users_accounts(owner_client, account, second_account, outsider):
    shared = AccountFactory()
    MembershipFactory(user=UserFactory(), account=shared, role="owner")
    foreign = SmsAccount.objects.get(memberships__user=outsider)

    response = owner_client.get("/sms/")

    assert response.status_code == 200
    assert list(response.context["accounts"]) == sorted(
        [account, second_account], key=lambda a: a.name
    )
    content = response.content.decode()
    assert account.name in content and second_account.name in content
    assert foreign.name not in content
    assert shared.name not in content


def test_the_list_includes_accounts_where_the_user_is_a_member(client, account, member):
    client.force_login(member)

    response = client.get("/sms/")

    assert list(response.context["accounts"]) == [account]


def test_the_list_needs_a_login(client):
    response = client.get("/sms/")

    assert response.status_code == 302
    assert response.url.startswith("/login/")


def test_the_list_stays_at_four_queries(owner_client, owner, django_assert_max_num_queries):
    for _ in range(15):
        MembershipFactory(user=owner, account=AccountFactory(credits_amount="3"), role="owner")

    # Session, user, the list, the header's account switcher: not one per account.
    with django_assert_max_num_queries(4):
        response = owner_client.get("/sms/")

    assert len(response.context["accounts"]) == 15


def test_it_opens_a_new_account_on_post(owner_client, owner, account):
    response = owner_client.post("/sms/new/")

    created = SmsAccount.objects.for_user(owner).exclude(pk=account.pk).get()
    assert created.name == f"sms-{owner.handle}-1"
    assert created.memberships.get().role == "owner"
    assert created.credits == Decimal("0.00")
    assert response.status_code == 302
    assert response.url == dashboard_url(created)


def test_it_opens_no_account_on_get(owner_client, owner):
    response = owner_client.get("/sms/new/")

    assert response.status_code == 405
    assert not SmsAccount.objects.for_user(owner).exists()


# --- dashboard --------------------------------------------------------------------------------


def test_the_owner_sees_the_name_and_credits(owner_client, account):
    response = owner_client.get(dashboard_url(account))

    assert response.status_code == 200
    assert response.context["account"] == account
    content = response.content.decode()
    assert account.name in content
    assert account.description in content
    assert shown("100.00") in content


def test_it_shows_the_current_balance(owner_client, account):
    services.credits_debit(account=account, amount="12.5", key="d")

    response = owner_client.get(dashboard_url(account))

    assert response.context["account"].credits == Decimal("87.50")
    assert shown("87.50") in response.content.decode()


def test_it_shows_the_ten_latest_movements(owner_client, account, owner):
    fill_ledger(account, owner, 12)

    response = owner_client.get(dashboard_url(account))

    movements = list(response.context["movements"])
    expected = list(
        CreditMovement.objects.filter(account=account).order_by("-created_at", "-id")[:10]
    )
    assert movements == expected
    assert all(m.account_id == account.pk for m in movements)


def test_a_member_sees_the_dashboard_without_the_transfer_link(client, account, member):
    client.force_login(member)

    response = client.get(dashboard_url(account))

    assert response.status_code == 200
    assert response.context["account"] == account
    assert reverse("accounts:transfer", args=[account.name]) not in response.content.decode()


def test_the_owner_gets_the_transfer_link(owner_client, account):
    response = owner_client.get(dashboard_url(account))

    assert reverse("accounts:transfer", args=[account.name]) in response.content.decode()


def test_the_dashboard_sends_anonymous_visitors_to_login(client, account):
    response = client.get(dashboard_url(account))

    assert response.status_code == 302
    assert response.url == f"/login/?next={dashboard_url(account)}"


def test_the_dashboard_is_404_for_an_outsider(client, account, outsider):
    client.force_login(outsider)

    assert client.get(dashboard_url(account)).status_code == 404


def test_the_dashboard_does_not_grow_with_the_ledger(
    owner_client, account, owner, django_assert_max_num_queries
):
    fill_ledger(account, owner, 30)
    for _ in range(10):
        MembershipFactory(user=owner, account=AccountFactory(), role="owner")

    # The session read is one of them; the latest campaigns another.
    with django_assert_max_num_queries(8):
        response = owner_client.get(dashboard_url(account))

    assert response.status_code == 200
    assert len(response.context["movements"]) == 10


# --- ledger -----------------------------------------------------------------------------------


def test_the_ledger_lists_the_movements(owner_client, account, owner, second_account):
    services.credits_debit(account=account, amount=3, key="d1", reason="job 1")
    services.credits_refund(account=account, amount=1, key="r1", reason="job 1 failed")
    services.credits_transfer(source=account, target=second_account, amount=10, by=owner, key="t")

    response = owner_client.get(ledger_url(account))

    assert response.status_code == 200
    listed = list(response.context["page"].object_list)
    assert [m.key for m in listed] == ["transfer:t:out", "r1", "d1", f"test-order:{account.pk}"]
    assert [m.balance_after for m in listed] == [
        Decimal("88.00"),
        Decimal("98.00"),
        Decimal("97.00"),
        Decimal("100.00"),
    ]
    content = response.content.decode()
    assert "job 1 failed" in content
    assert second_account.name in content  # the transfer's reason


def test_the_ledger_shows_only_this_accounts_movements(owner_client, account, second_account):
    services.credits_debit(account=second_account, amount=3, key="other")

    response = owner_client.get(ledger_url(account))

    assert {m.account_id for m in response.context["page"].object_list} == {account.pk}
    assert "other" not in [m.key for m in response.context["page"].object_list]


@pytest.mark.parametrize("kind", ["order", "debit", "refund"])
def test_the_ledger_filters_by_kind(owner_client, account, owner, kind):
    fill_ledger(account, owner, 9)
    expected = CreditMovement.objects.filter(account=account, kind=kind).count()
    assert expected >= 3

    response = owner_client.get(ledger_url(account), {"kind": kind})

    listed = list(response.context["page"].object_list)
    assert len(listed) == expected
    assert {m.kind for m in listed} == {kind}
    assert response.context["kind"] == kind


def test_the_ledger_ignores_an_unknown_kind(owner_client, account, owner):
    fill_ledger(account, owner, 3)

    response = owner_client.get(ledger_url(account), {"kind": "nonsense"})

    assert response.status_code == 200
    assert len(response.context["page"].object_list) == 4


def test_the_ledger_pages_by_fifty(owner_client, account, owner):
    fill_ledger(account, owner, 54)  # 55 movements with the initial order

    first = owner_client.get(ledger_url(account))
    second = owner_client.get(ledger_url(account), {"page": 2})

    assert len(first.context["page"].object_list) == 50
    assert len(second.context["page"].object_list) == 5
    keys = {m.key for m in first.context["page"].object_list} | {
        m.key for m in second.context["page"].object_list
    }
    assert len(keys) == 55


def test_the_ledger_does_not_grow_with_the_movements(
    owner_client, account, owner, django_assert_max_num_queries
):
    fill_ledger(account, owner, 40)
    for _ in range(10):
        MembershipFactory(user=owner, account=AccountFactory(), role="owner")

    # The session read is one of them.
    with django_assert_max_num_queries(6):
        response = owner_client.get(ledger_url(account))
    with django_assert_max_num_queries(6):
        filtered = owner_client.get(ledger_url(account), {"kind": "debit"})

    assert len(response.context["page"].object_list) == 41
    assert len(filtered.context["page"].object_list) > 1


def test_the_ledger_is_404_for_an_outsider(client, account, outsider):
    client.force_login(outsider)

    assert client.get(ledger_url(account)).status_code == 404


def test_a_member_reads_the_ledger(client, account, member):
    client.force_login(member)

    response = client.get(ledger_url(account))

    assert response.status_code == 200
    assert [m.account_id for m in response.context["page"].object_list] == [account.pk]
