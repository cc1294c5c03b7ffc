"""«Recharger»: a customer orders a credit pack; staff confirm it in the admin, which credits the
account once (the order's own ledger key); the customer follows the order's state."""

from decimal import Decimal

import pytest
from django.test import Client

from accounts import services
from accounts.models import CreditMovement, CreditOrder, SmsAccount
from tests.accounts.factories import ledger_sum
from tests.conftest import verified_session

pytestmark = pytest.mark.django_db


def url(account):
    return f"/sms/{account.name}/credits/order/"


def balance(account):
    return SmsAccount.objects.values_list("credits", flat=True).get(pk=account.pk)


def test_the_badge_links_to_the_order_page_with_the_packs(owner_client, account):
    page = owner_client.get(f"/sms/{account.name}/").content.decode()
    assert f'href="{url(account)}" data-testid="recharge">Recharger<' in page

    page = owner_client.get(url(account)).content.decode()
    assert "Acheter des crédits" in page
    for size in ("100 crédits", "1\xa0000 crédits", "1\xa0000\xa0000 crédits"):
        assert size in page
    assert "0,079 € / crédit" in page and "Aucune commande pour le moment." in page


def test_an_order_waits_for_staff_and_credits_nothing(owner_client, owner, account):
    response = owner_client.post(url(account), {"quantity": "500"}, follow=True)

    order = CreditOrder.objects.get()
    assert (order.account, order.quantity, order.status) == (account, 500, "pending")
    assert order.unit_price == Decimal("0.074") and order.total == Decimal("37.00")
    assert order.created_by == owner
    assert balance(account) == Decimal("100.00")
    assert not CreditMovement.objects.filter(key__startswith="order:").exists()
    page = response.content.decode()
    assert f"Votre commande n°{order.pk} de 500 crédits a été enregistrée." in page
    assert 'data-testid="order-status">En attente de confirmation<' in page


@pytest.fixture
def staff_browser(staff):
    """Staff in a browser of their own (owner_client and staff_client share one client)."""
    client = Client()
    client.force_login(staff)
    verified_session(client, staff)  # past the two-factor code step
    return client


def test_staff_confirm_in_the_admin_and_the_credits_arrive_once(
    owner_client, staff_browser, staff, account
):
    owner_client.post(url(account), {"quantity": "1000"})
    order = CreditOrder.objects.get()
    action = {"action": "confirm", "_selected_action": [order.pk]}

    staff_browser.post("/admin/accounts/creditorder/", action, follow=True)
    staff_browser.post("/admin/accounts/creditorder/", action, follow=True)  # a second click

    order.refresh_from_db()
    assert order.status == "confirmed" and order.decided_by == staff
    movement = CreditMovement.objects.get(key__startswith="order:")
    assert (movement.amount, movement.key) == (Decimal("1000.00"), f"order:{order.pk}")
    assert balance(account) == Decimal("1100.00") == ledger_sum(account)
    page = owner_client.get(url(account)).content.decode()
    assert 'data-testid="order-status">Confirmée, crédits ajoutés<' in page
    ledger = owner_client.get(f"/sms/{account.name}/credits/").content.decode()
    assert f"Commande n°{order.pk}" in ledger


def test_a_cancelled_order_credits_nothing_and_cannot_be_confirmed(
    owner_client, staff_browser, account
):
    owner_client.post(url(account), {"quantity": "100"})
    order = CreditOrder.objects.get()

    staff_browser.post(
        "/admin/accounts/creditorder/", {"action": "cancel", "_selected_action": [order.pk]}
    )

    assert not services.order_confirm(order_id=order.pk, by=None)
    assert CreditOrder.objects.get().status == "cancelled"
    assert balance(account) == Decimal("100.00")
    page = owner_client.get(url(account)).content.decode()
    assert 'data-testid="order-status">Annulée par notre équipe<' in page


def test_only_packs_can_be_ordered(owner_client, account):
    response = owner_client.post(url(account), {"quantity": "123"})
    assert response.status_code == 200 and not CreditOrder.objects.exists()
    assert "Sélectionnez un choix valide" in response.content.decode()


def test_a_member_sees_the_orders_but_cannot_order(client, member, account):
    client.force_login(member)
    assert "Seul un propriétaire" in client.get(url(account)).content.decode()
    client.post(url(account), {"quantity": "100"})
    assert not CreditOrder.objects.exists()


def test_an_outsider_gets_404(client, outsider, account):
    client.force_login(outsider)
    assert client.get(url(account)).status_code == 404
    assert client.post(url(account), {"quantity": "100"}).status_code == 404
    assert not CreditOrder.objects.exists()
