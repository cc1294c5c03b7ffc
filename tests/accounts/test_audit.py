"""The audit log: staff actions and security events, who, when and from where; customers see
their accounts' events, staff all of them (read-only)."""

import pytest
from django.urls import reverse

from accounts.models import AuditEvent, DestinationRate
from tests.accounts.conftest import PASSWORD
from tests.accounts.factories import UserFactory
from tests.senders.factories import SenderFactory

pytestmark = pytest.mark.django_db


def test_logins_and_failed_logins_are_recorded(client, owner):
    client.post("/login/", {"username": owner.email, "password": "nope"}, REMOTE_ADDR="10.5.5.5")
    client.post("/login/", {"username": owner.email, "password": PASSWORD}, REMOTE_ADDR="10.5.5.6")

    events = list(AuditEvent.objects.order_by("id").values_list("action", "subject", "ip"))
    assert events == [("login_failed", owner.pk, "10.5.5.5"), ("login", owner.pk, "10.5.5.6")]


def test_a_staff_credit_is_recorded_and_shown_to_the_customer(staff_client, staff, owner, account):
    staff_client.post(
        f"/admin/accounts/smsaccount/{account.pk}/credit/",
        {"kind": "order", "amount": "25", "reason": "Invoice 42"},
        REMOTE_ADDR="10.8.8.8",
    )

    event = AuditEvent.objects.get(action="credits")
    assert (event.actor, event.account, event.ip) == (staff, account, "10.8.8.8")
    assert "Invoice 42" in event.detail
    staff_client.force_login(owner)
    page = staff_client.get(reverse("accounts:events", args=[account.name]))
    assert page.status_code == 200
    assert "Invoice 42" in page.content.decode()


def test_the_events_page_is_404_for_an_outsider(client, outsider, account):
    client.force_login(outsider)

    assert client.get(reverse("accounts:events", args=[account.name])).status_code == 404


def test_a_rate_change_is_recorded(staff_client, staff):
    rate = DestinationRate.objects.get(country="FR")
    url = reverse("admin:accounts_destinationrate_change", args=["FR"])
    staff_client.post(
        url,
        {
            "country": "FR",
            "name": rate.name,
            "calling_code": rate.calling_code,
            "credits_per_segment": "1.25",
        },
    )

    event = AuditEvent.objects.get(action="rate_changed")
    assert event.actor == staff
    assert event.detail == f"FR: {rate.credits_per_segment} → 1.25"


def test_a_sender_decision_is_recorded(staff_client, account):
    sender = SenderFactory(account=account, sender="BOUTIQUE", status="waitingValidation")

    staff_client.post(reverse("admin:senders_sender_approve", args=[sender.pk]))

    event = AuditEvent.objects.get(action="sender_decision")
    assert (event.account, event.detail) == (account, "BOUTIQUE: approved")


def test_api_keys_created_and_revoked_are_recorded(owner_client, owner, account):
    from api import services
    from api.models import ConsumerKey

    app, _secret = services.application_create(account=account, user=owner, name="CRM")
    owner_client.post(
        reverse("api:key_create", args=[account.name, app.pk]),
        {"access": "full", "validity": "unlimited"},
    )
    ck = ConsumerKey.objects.get()
    owner_client.post(reverse("api:key_revoke", args=[account.name, ck.pk]))

    actions = list(
        AuditEvent.objects.filter(account=account).order_by("id").values_list("action", "actor")
    )
    assert actions == [("api_key_created", owner.pk), ("api_key_revoked", owner.pk)]


def test_the_log_is_append_only(staff_client, owner):
    event = AuditEvent.objects.create(action="login", subject=owner)

    with pytest.raises(ValueError):
        event.save()
    with pytest.raises(ValueError):
        event.delete()
    changelist = staff_client.get(reverse("admin:accounts_auditevent_changelist"))
    assert changelist.status_code == 200
    change = staff_client.post(
        reverse("admin:accounts_auditevent_change", args=[event.pk]), {"detail": "x"}
    )
    assert change.status_code in {200, 403}
    event.refresh_from_db()
    assert event.detail == ""
    assert (
        staff_client.post(
            reverse("admin:accounts_auditevent_delete", args=[event.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_a_customer_sees_their_own_security_events(client):
    user = UserFactory()
    client.post("/login/", {"username": user.email, "password": PASSWORD}, REMOTE_ADDR="10.9.1.1")

    page = client.get("/security/").content.decode()

    assert "10.9.1.1" in page


def test_route_changes_are_recorded_without_their_secrets(staff_client, staff):
    from messaging.models import Route

    form = {
        "name": "smsc-a",
        "kind": "smpp",
        "enabled": "on",
        "config": '{"host": "127.0.0.1", "port": 2775, "system_id": "panel"}',
        "throughput": "50",
        "failover_errors": "069",
        "password": "s3cret-pw",
        "countries-TOTAL_FORMS": "1",
        "countries-INITIAL_FORMS": "0",
        "countries-0-country": "FR",
        "countries-0-cost": "0.03",
        "countries-0-priority": "1",
    }
    assert staff_client.post("/admin/messaging/route/add/", form).status_code == 302
    route = Route.objects.get()
    form.update(
        {
            "countries-INITIAL_FORMS": "1",
            "countries-0-id": str(route.countries.get().pk),
            "countries-0-route": str(route.pk),
            "countries-0-cost": "0.02",
            "throughput": "80",
            "password": "an0ther-pw",
        }
    )
    staff_client.post(f"/admin/messaging/route/{route.pk}/change/", form)

    details = list(
        AuditEvent.objects.filter(action="route_changed", actor=staff)
        .order_by("id")
        .values_list("detail", flat=True)
    )
    assert details[0] == "smsc-a: added"
    assert details[1].startswith("smsc-a: ") and "throughput" in details[1]
    assert "password" in details[1] and "countries" in details[1]
    assert not any("pw" in d.replace("password", "") for d in details)
