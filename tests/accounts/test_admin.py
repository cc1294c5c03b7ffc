"""Admin: the staff credit page, the read-only ledger, the destination rates."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.db.models.signals import pre_save
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import services
from accounts.models import CreditMovement, DestinationRate, SmsAccount
from tests.accounts.factories import UserFactory, ledger_sum
from tests.conftest import verified_session

pytestmark = pytest.mark.django_db


def credit_url(account):
    return f"/admin/accounts/smsaccount/{account.pk}/credit/"


def balance(account):
    return SmsAccount.objects.values_list("credits", flat=True).get(pk=account.pk)


def staff_movements():
    return CreditMovement.objects.filter(key__startswith="staff:")


# --- credit or adjust -------------------------------------------------------------------------


def test_the_credit_page_shows_the_form(staff_client, account):
    response = staff_client.get(credit_url(account))

    assert response.status_code == 200
    assert set(response.context["form"].fields) == {"kind", "amount", "reason"}
    assert response.context["original"] == account


def test_staff_add_an_order_with_reason_and_author(staff_client, staff, account):
    response = staff_client.post(
        credit_url(account), {"kind": "order", "amount": "250", "reason": "Bon de commande 4411"}
    )

    assert response.status_code == 302
    assert response.url == f"/admin/accounts/smsaccount/{account.pk}/change/"
    movement = staff_movements().get()
    assert movement.account == account
    assert movement.kind == CreditMovement.Kind.ORDER
    assert movement.amount == Decimal("250.00")
    assert movement.balance_after == Decimal("350.00")
    assert movement.reason == "Bon de commande 4411"
    assert movement.created_by == staff
    assert balance(account) == Decimal("350.00")
    assert ledger_sum(account) == balance(account)


def test_staff_apply_a_negative_adjustment(staff_client, staff, account):
    response = staff_client.post(
        credit_url(account), {"kind": "adjustment", "amount": "-40", "reason": "Double commande"}
    )

    assert response.status_code == 302
    movement = staff_movements().get()
    assert (movement.kind, movement.amount, movement.created_by) == (
        "adjustment",
        Decimal("-40.00"),
        staff,
    )
    assert balance(account) == Decimal("60.00")


def test_a_negative_adjustment_beyond_the_balance_changes_nothing(staff_client, account):
    response = staff_client.post(
        credit_url(account), {"kind": "adjustment", "amount": "-100.01", "reason": "Erreur"}
    )

    assert response.status_code == 200
    assert "amount" in response.context["form"].errors
    assert balance(account) == Decimal("100.00")
    assert not staff_movements().exists()


@pytest.mark.parametrize(
    "data",
    [
        {"kind": "order", "amount": "-5", "reason": "x"},
        {"kind": "order", "amount": "0", "reason": "x"},
        {"kind": "adjustment", "amount": "0", "reason": "x"},
        {"kind": "order", "amount": "5", "reason": ""},
        {"kind": "debit", "amount": "5", "reason": "x"},
        {"kind": "signup", "amount": "5", "reason": "x"},
    ],
)
def test_the_credit_form_refuses_bad_input(staff_client, account, data):
    response = staff_client.post(credit_url(account), data)

    assert response.status_code == 200
    assert response.context["form"].errors
    assert balance(account) == Decimal("100.00")
    assert not staff_movements().exists()


def test_the_credit_page_is_404_for_an_unknown_account(staff_client):
    assert staff_client.get("/admin/accounts/smsaccount/999999/credit/").status_code == 404


def test_staff_without_change_permission_cannot_credit(client, account):
    viewer = UserFactory(is_staff=True)
    TOTPDevice.objects.create(user=viewer, confirmed=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_smsaccount"))
    client.force_login(viewer)
    verified_session(client, viewer)

    response = client.post(credit_url(account), {"kind": "order", "amount": "5", "reason": "x"})

    assert response.status_code == 302
    assert response.url == "/admin/"
    assert balance(account) == Decimal("100.00")
    assert not staff_movements().exists()


def test_a_customer_cannot_reach_the_credit_page(owner_client, account):
    response = owner_client.post(
        credit_url(account), {"kind": "order", "amount": "5", "reason": "x"}
    )

    assert response.status_code == 302
    assert response.url.startswith("/admin/login/")
    assert balance(account) == Decimal("100.00")
    assert not staff_movements().exists()


def test_the_account_page_links_to_the_credit_page(staff_client, account):
    response = staff_client.get(f"/admin/accounts/smsaccount/{account.pk}/change/")

    assert response.status_code == 200
    assert credit_url(account) in response.content.decode()


# --- the admin change form of an account --------------------------------------------------------


def change_form_data(response) -> dict:
    """The POST data the change form would send back unchanged (main form and inlines)."""
    data = {}

    def add(form):
        for name in form.fields:
            value = form[name].value()
            if value is None or value is False:
                continue
            data[form.add_prefix(name)] = "on" if value is True else value

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        add(formset.management_form)
        for form in formset.forms:
            add(form)
    return data


def test_staff_edit_an_account_without_touching_its_credits(staff_client, account):
    page = staff_client.get(f"/admin/accounts/smsaccount/{account.pk}/change/")
    data = change_form_data(page)
    data.update(description="Changé par le support", credits="999999")

    response = staff_client.post(f"/admin/accounts/smsaccount/{account.pk}/change/", data)

    assert response.status_code == 302
    account.refresh_from_db()
    assert account.description == "Changé par le support"
    assert account.credits == Decimal("100.00")


def test_staff_edit_keeps_a_debit_made_meanwhile(staff_client, account):
    page = staff_client.get(f"/admin/accounts/smsaccount/{account.pk}/change/")
    data = change_form_data(page)
    data.update(description="Changé par le support")

    def concurrent_debit(sender, instance, **kwargs):
        services.credits_debit(account=instance, amount=5, key="job:concurrent:debit")

    pre_save.connect(concurrent_debit, sender=SmsAccount, dispatch_uid="concurrent-debit")
    try:
        response = staff_client.post(f"/admin/accounts/smsaccount/{account.pk}/change/", data)
    finally:
        pre_save.disconnect(sender=SmsAccount, dispatch_uid="concurrent-debit")

    assert response.status_code == 302
    account.refresh_from_db()
    assert account.description == "Changé par le support"
    assert ledger_sum(account) == Decimal("95.00")
    assert account.credits == Decimal("95.00")


# --- the ledger in the admin is read-only -----------------------------------------------------


def test_the_ledger_changelist_lists_movements(staff_client, account):
    services.credits_debit(account=account, amount=3, key="job:1:debit")

    response = staff_client.get("/admin/accounts/creditmovement/")

    assert response.status_code == 200
    listed = {m.key for m in response.context["cl"].result_list}
    assert {"job:1:debit", f"test-order:{account.pk}"} <= listed
    assert response.context["has_add_permission"] is False
    assert "delete_selected" not in response.context["cl"].model_admin.get_actions(
        response.wsgi_request
    )


def test_the_ledger_changelist_filters_by_account(staff_client, account, second_account):
    response = staff_client.get(f"/admin/accounts/creditmovement/?account__id__exact={account.pk}")

    assert response.status_code == 200
    assert {m.account_id for m in response.context["cl"].result_list} == {account.pk}


def test_the_ledger_has_no_add_page(staff_client, account):
    response = staff_client.post(
        "/admin/accounts/creditmovement/add/",
        {
            "account": account.pk,
            "kind": "order",
            "amount": "1000",
            "balance_after": "1100",
            "key": "forged",
        },
    )

    assert response.status_code == 403
    assert not CreditMovement.objects.filter(key="forged").exists()
    assert balance(account) == Decimal("100.00")


def test_the_ledger_rows_cannot_be_changed(staff_client, account):
    movement = CreditMovement.objects.get(account=account)

    response = staff_client.post(
        f"/admin/accounts/creditmovement/{movement.pk}/change/",
        {
            "account": account.pk,
            "kind": "order",
            "amount": "1000",
            "balance_after": "1000",
            "key": movement.key,
        },
    )

    assert response.status_code == 403
    movement.refresh_from_db()
    assert movement.amount == Decimal("100.00")


def test_the_ledger_rows_cannot_be_deleted(staff_client, account):
    movement = CreditMovement.objects.get(account=account)

    page = staff_client.get(f"/admin/accounts/creditmovement/{movement.pk}/delete/")
    response = staff_client.post(
        f"/admin/accounts/creditmovement/{movement.pk}/delete/", {"post": "yes"}
    )
    bulk = staff_client.post(
        "/admin/accounts/creditmovement/",
        {"action": "delete_selected", "_selected_action": [movement.pk], "post": "yes"},
    )

    assert page.status_code == 403
    assert response.status_code == 403
    assert bulk.status_code in {200, 302}
    assert CreditMovement.objects.filter(pk=movement.pk).exists()


def test_a_ledger_row_can_be_read(staff_client, account):
    movement = CreditMovement.objects.get(account=account)

    response = staff_client.get(f"/admin/accounts/creditmovement/{movement.pk}/change/")

    assert response.status_code == 200
    assert response.context["has_change_permission"] is False


# --- destination rates ------------------------------------------------------------------------


def test_the_data_migration_seeds_france_at_one_credit():
    france = DestinationRate.objects.get(country="FR")

    assert france.credits_per_segment == Decimal("1.00")
    assert france.calling_code == 33
    assert france.name == "France"


def test_the_rates_changelist_lists_france_at_one(staff_client):
    response = staff_client.get("/admin/accounts/destinationrate/")

    assert response.status_code == 200
    rates = {r.country: r.credits_per_segment for r in response.context["cl"].result_list}
    assert rates["FR"] == Decimal("1.00")
    content = response.content.decode()
    assert "France" in content
    assert 'value="1.00"' in content


def test_the_admin_speaks_french_everywhere(staff_client, account, owner):
    from tests.senders.factories import SenderFactory

    sender = SenderFactory(account=account)
    page = staff_client.get(f"/admin/accounts/smsaccount/{account.pk}/change/").content.decode()
    assert f"→ {account.name} (Propriétaire)" in page
    assert "(owner)" not in page
    # The balance and the links to credit it have a label each.
    assert page.count("Crédits\u00a0:") == 1 and "Opérations sur les crédits" in page
    page = staff_client.get(f"/admin/senders/sender/{sender.pk}/change/").content.decode()
    assert "Décidé par" in page and "Decided by" not in page
    page = staff_client.get("/admin/accounts/creditmovement/").content.decode()
    assert ">Compte<" in page and ">Account<" not in page
