"""/sms/<name>/credits/transfer/: an owner moves credits to another account of theirs."""

from decimal import Decimal

import pytest

from accounts import forms, services
from accounts.models import CreditMovement, SmsAccount
from tests.accounts.factories import AccountFactory, MembershipFactory, UserFactory, ledger_sum

pytestmark = pytest.mark.django_db


def url(account):
    return f"/sms/{account.name}/credits/transfer/"


def balance(account):
    return SmsAccount.objects.values_list("credits", flat=True).get(pk=account.pk)


def transfers():
    return CreditMovement.objects.filter(kind__in=["transfer_out", "transfer_in"])


def test_the_owner_gets_the_form_with_their_other_accounts(
    owner_client, account, second_account, outsider
):
    response = owner_client.get(url(account))

    assert response.status_code == 200
    assert response.context["is_owner"] is True
    assert list(response.context["form"].fields["target"].queryset) == [second_account]


def test_it_transfers_between_two_accounts_of_the_owner(
    owner_client, owner, account, second_account
):
    response = owner_client.post(url(account), {"target": second_account.pk, "amount": "30.50"})

    assert response.status_code == 302
    assert response.url == f"/sms/{account.name}/credits/"
    assert balance(account) == Decimal("69.50")
    assert balance(second_account) == Decimal("50.50")
    out = transfers().get(account=account)
    in_ = transfers().get(account=second_account)
    assert (out.kind, out.amount, out.created_by) == ("transfer_out", Decimal("-30.50"), owner)
    assert (in_.kind, in_.amount, in_.created_by) == ("transfer_in", Decimal("30.50"), owner)
    assert ledger_sum(account) == balance(account)
    assert ledger_sum(second_account) == balance(second_account)


def test_one_credit_transferred_reads_singular(owner_client, account, second_account):
    response = owner_client.post(
        url(account), {"target": second_account.pk, "amount": "1"}, follow=True
    )
    assert f"1,00 crédit a été transféré vers {second_account.name}." in response.content.decode()


def test_it_transfers_the_whole_balance(owner_client, account, second_account):
    owner_client.post(url(account), {"target": second_account.pk, "amount": "100"})

    assert balance(account) == Decimal("0.00")
    assert balance(second_account) == Decimal("120.00")


def test_a_member_cannot_transfer(client, member, account):
    mine = AccountFactory()
    MembershipFactory(user=member, account=mine, role="owner")
    client.force_login(member)

    response = client.post(url(account), {"target": mine.pk, "amount": "10"})

    assert response.status_code == 200
    assert response.context["is_owner"] is False
    assert balance(account) == Decimal("100.00")
    assert balance(mine) == Decimal("0.00")
    assert not transfers().exists()


def test_it_refuses_more_than_the_balance(owner_client, account, second_account):
    response = owner_client.post(url(account), {"target": second_account.pk, "amount": "100.01"})

    assert response.status_code == 200
    assert "Ce compte ne dispose que de 100,00 crédits." in response.content.decode()
    assert balance(account) == Decimal("100.00")
    assert balance(second_account) == Decimal("20.00")
    assert not transfers().exists()


def test_it_reports_a_balance_spent_during_the_request(
    owner_client, account, second_account, monkeypatch
):
    # The form sees 100 credits; a send job takes 95 of them before the transfer runs.
    original = forms.TransferForm.clean_amount

    def clean_amount_then_spend(self):
        amount = original(self)
        services.credits_debit(account=account, amount=95, key="job:concurrent")
        return amount

    monkeypatch.setattr(forms.TransferForm, "clean_amount", clean_amount_then_spend)

    response = owner_client.post(url(account), {"target": second_account.pk, "amount": "10"})

    assert response.status_code == 200
    assert "amount" in response.context["form"].errors
    assert balance(account) == Decimal("5.00")
    assert balance(second_account) == Decimal("20.00")
    assert not transfers().exists()


def test_it_refuses_a_target_of_someone_else(owner_client, account, outsider):
    foreign = SmsAccount.objects.get(memberships__user=outsider)

    response = owner_client.post(url(account), {"target": foreign.pk, "amount": "10"})

    assert response.status_code == 200
    assert "target" in response.context["form"].errors
    assert balance(account) == Decimal("100.00")
    assert balance(foreign) == Decimal("0.00")
    assert not transfers().exists()


def test_it_refuses_the_account_itself_as_target(owner_client, account, second_account):
    response = owner_client.post(url(account), {"target": account.pk, "amount": "10"})

    assert response.status_code == 200
    assert "target" in response.context["form"].errors
    assert balance(account) == Decimal("100.00")
    assert not transfers().exists()


@pytest.mark.parametrize("amount", ["0", "-5", "abc", "0.001", ""])
def test_it_refuses_a_bad_amount(owner_client, account, second_account, amount):
    response = owner_client.post(url(account), {"target": second_account.pk, "amount": amount})

    assert response.status_code == 200
    assert "amount" in response.context["form"].errors
    assert balance(account) == Decimal("100.00")
    assert not transfers().exists()


def test_it_allows_a_target_where_the_owner_is_a_member(owner_client, account):
    shared = AccountFactory()
    MembershipFactory(user=UserFactory(), account=shared, role="owner")
    MembershipFactory(user=account.memberships.get().user, account=shared, role="member")

    response = owner_client.post(url(account), {"target": shared.pk, "amount": "1"})

    assert response.status_code == 302
    assert balance(shared) == Decimal("1.00")


def test_an_outsider_gets_404_and_moves_nothing(client, account, outsider):
    foreign = SmsAccount.objects.get(memberships__user=outsider)
    client.force_login(outsider)

    response = client.post(url(account), {"target": foreign.pk, "amount": "10"})

    assert response.status_code == 404
    assert balance(account) == Decimal("100.00")
    assert not transfers().exists()


def test_it_needs_a_login(client, account, second_account):
    response = client.post(url(account), {"target": second_account.pk, "amount": "10"})

    assert response.status_code == 302
    assert response.url.startswith("/login/")
    assert not transfers().exists()
