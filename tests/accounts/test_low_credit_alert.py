from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse

from accounts import services
from accounts.models import SmsAccount

pytestmark = pytest.mark.django_db


@pytest.fixture
def alerting(account):
    SmsAccount.objects.filter(pk=account.pk).update(
        low_credit_threshold=Decimal("50"), alert_email="alerts@example.com"
    )
    account.refresh_from_db()
    return account


def test_one_email_when_a_debit_crosses_the_threshold(alerting, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.credits_debit(account=alerting, amount=40, key="a")  # 100 → 60: above
    assert mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        services.credits_debit(account=alerting, amount=20, key="b")  # 60 → 40: crosses
        services.credits_debit(account=alerting, amount=5, key="c")  # 40 → 35: already below
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["alerts@example.com"]
    assert "50,00" in mail.outbox[0].body  # the threshold, in the French number format


def test_a_retried_debit_sends_no_second_email(alerting, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.credits_debit(account=alerting, amount=60, key="same")
        services.credits_debit(account=alerting, amount=60, key="same")
    assert len(mail.outbox) == 1


def test_after_a_refill_the_next_crossing_alerts_again(
    alerting, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.credits_debit(account=alerting, amount=60, key="d1")
        services.credits_add(account=alerting, amount=100, kind="order", key="o1")
        services.credits_debit(account=alerting, amount=100, key="d2")
    assert len(mail.outbox) == 2


def test_the_owner_gets_it_without_an_alert_address(
    account, owner, django_capture_on_commit_callbacks
):
    SmsAccount.objects.filter(pk=account.pk).update(low_credit_threshold=Decimal("50"))
    with django_capture_on_commit_callbacks(execute=True):
        services.credits_debit(account=account, amount=60, key="x")
    assert mail.outbox[0].to == [owner.email]


def test_dashboard_banner_links_to_the_ledger(alerting, owner_client):
    url = reverse("messaging:dashboard", args=[alerting.name])
    assert 'data-testid="low-credits"' not in owner_client.get(url).content.decode()
    services.credits_debit(account=alerting, amount=60, key="y")
    html = owner_client.get(url).content.decode()
    assert 'data-testid="low-credits"' in html
    assert reverse("accounts:ledger", args=[alerting.name]) in html


def test_owner_sets_the_threshold_in_settings(account, owner_client):
    owner_client.post(
        reverse("accounts:settings", args=[account.name]),
        {"description": "Shop", "default_region": "FR", "low_credit_threshold": "25",
         "alert_email": "boss@example.com"},
    )  # fmt: skip
    account.refresh_from_db()
    assert account.low_credit_threshold == Decimal("25")
    assert account.alert_email == "boss@example.com"
    assert account.credits == Decimal("100")
