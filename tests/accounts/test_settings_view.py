"""/sms/<name>/settings/: the owner edits the description and the default region."""

from decimal import Decimal

import pytest
from django.db.models.signals import pre_save

from accounts import services
from accounts.models import SmsAccount
from tests.accounts.factories import ledger_sum

pytestmark = pytest.mark.django_db


def url(account):
    return f"/sms/{account.name}/settings/"


def test_the_owner_sees_the_current_settings(owner_client, account):
    response = owner_client.get(url(account))

    assert response.status_code == 200
    assert response.context["is_owner"] is True
    form = response.context["form"]
    assert form["description"].value() == account.description
    assert form["default_region"].value() == "FR"


def test_the_owner_changes_the_settings(owner_client, account):
    response = owner_client.post(
        url(account), {"description": "Rappels RDV", "default_region": "BE"}
    )

    assert response.status_code == 302
    assert response.url == f"/sms/{account.name}/"
    account.refresh_from_db()
    assert account.description == "Rappels RDV"
    assert account.default_region == "BE"


def test_it_upper_cases_the_region(owner_client, account):
    owner_client.post(url(account), {"description": "", "default_region": "ch"})

    account.refresh_from_db()
    assert account.default_region == "CH"
    assert account.description == ""


@pytest.mark.parametrize("region", ["ZZ", "XX", "", "F"])
def test_it_refuses_an_unknown_region(owner_client, account, region):
    response = owner_client.post(url(account), {"description": "Nouveau", "default_region": region})

    assert response.status_code == 200
    assert "default_region" in response.context["form"].errors
    account.refresh_from_db()
    assert account.default_region == "FR"
    assert account.description != "Nouveau"


def test_it_refuses_a_region_too_long(owner_client, account):
    response = owner_client.post(url(account), {"description": "x", "default_region": "FRA"})

    assert response.status_code == 200
    assert "default_region" in response.context["form"].errors
    account.refresh_from_db()
    assert account.default_region == "FR"


def test_it_does_not_let_the_form_touch_name_status_or_credits(owner_client, account):
    owner_client.post(
        url(account),
        {
            "description": "ok",
            "default_region": "FR",
            "name": "hijacked",
            "status": "disable",
            "credits": "999999",
        },
    )

    account.refresh_from_db()
    assert account.description == "ok"
    assert account.name.startswith("sms-")
    assert account.status == "enable"
    assert account.credits == Decimal("100.00")


def test_a_member_cannot_change_the_settings(client, account, member):
    client.force_login(member)
    before = SmsAccount.objects.values("description", "default_region").get(pk=account.pk)

    response = client.post(url(account), {"description": "Changed", "default_region": "DE"})

    assert response.status_code == 200
    assert response.context["is_owner"] is False
    assert SmsAccount.objects.values("description", "default_region").get(pk=account.pk) == before


def test_a_member_can_read_the_settings(client, account, member):
    client.force_login(member)

    response = client.get(url(account))

    assert response.status_code == 200
    assert response.context["form"]["default_region"].value() == "FR"


def test_an_outsider_gets_404_and_changes_nothing(client, account, outsider):
    client.force_login(outsider)

    response = client.post(url(account), {"description": "Pwned", "default_region": "DE"})

    assert response.status_code == 404
    account.refresh_from_db()
    assert account.description != "Pwned"
    assert account.default_region == "FR"


def test_it_keeps_a_debit_made_while_the_settings_are_saved(owner_client, account):
    # Another request (a send job) debits the account after this request loaded it and
    # before the settings form writes it.
    def concurrent_debit(sender, instance, **kwargs):
        services.credits_debit(account=instance, amount=5, key="job:concurrent:debit")

    pre_save.connect(concurrent_debit, sender=SmsAccount, dispatch_uid="concurrent-debit")
    try:
        response = owner_client.post(url(account), {"description": "New", "default_region": "FR"})
    finally:
        pre_save.disconnect(sender=SmsAccount, dispatch_uid="concurrent-debit")

    assert response.status_code == 302
    account.refresh_from_db()
    assert account.description == "New"
    assert ledger_sum(account) == Decimal("95.00")
    assert account.credits == Decimal("95.00")
