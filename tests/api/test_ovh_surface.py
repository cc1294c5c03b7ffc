"""What a script written for OVHcloud expects besides the routes themselves: /me, serviceInfos,
OVHcloud's date format, its error shape for every answer under /1.0, the account's fields."""

import re

import pytest
from django.utils import timezone

from accounts.models import SmsAccount
from messaging.models import OutgoingMessage, StopListEntry

pytestmark = pytest.mark.django_db

A = "+33612345678"
OVH_DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")


def test_me_is_the_key_holder(api_client, owner):
    owner.first_name, owner.last_name = "Ada", "Lovelace"
    owner.save()
    body = api_client.get("/me").json()
    assert body["nichandle"] == owner.handle
    assert body["email"] == owner.email
    assert (body["firstname"], body["name"], body["state"]) == ("Ada", "Lovelace", "complete")
    assert body["currency"]["code"] == "EUR"


@pytest.mark.parametrize("debug", [False, True])
def test_unknown_routes_and_wrong_methods_answer_ovh_json(api_client, sn, settings, debug):
    settings.DEBUG = debug
    unknown = api_client.get("/sms/nothing/here/at/all")
    assert unknown.status_code == 404
    assert unknown.json() == {"message": "Got an invalid (or empty) URL", "errorCode": "NOT_FOUND",
                              "httpCode": "404 Not Found"}  # fmt: skip
    wrong = api_client.call("PATCH", f"/sms/{sn}")
    assert wrong.status_code == 405
    assert wrong.json()["errorCode"] == "METHOD_NOT_ALLOWED"
    assert "GET" in wrong["Allow"]
    # Pages outside /1.0 keep Django's HTML.
    assert api_client.client.get("/nothing/here/").headers["Content-Type"].startswith("text/html")


def test_dates_are_written_as_ovhcloud_does(api_client, sn):
    (pk,) = api_client.post(f"/sms/{sn}/jobs", {"message": "Bonjour", "receivers": [A],
                                                 "noStopClause": True}).json()["ids"]  # fmt: skip
    OutgoingMessage.objects.filter(pk=pk).update(
        status=OutgoingMessage.Status.DELIVERED, submitted_at=timezone.now(),
        delivered_at=timezone.now(),
    )  # fmt: skip
    body = api_client.get(f"/sms/{sn}/outgoing/{pk}").json()
    for field in ("creationDatetime", "sentAt", "deliveredAt"):
        assert OVH_DATE.match(body[field]), body[field]
    # Paris: +01:00 in winter, +02:00 in summer.
    assert body["creationDatetime"][-6:] in ("+01:00", "+02:00")
    assert body["batchID"] is None and body["messageID"] is None


def test_the_sending_report_carries_the_tag(api_client, sn):
    report = api_client.post(f"/sms/{sn}/jobs", {"message": "x", "receivers": [A],
                                                  "noStopClause": True, "tag": "otp"})  # fmt: skip
    assert report.json()["tag"] == "otp"


def test_service_infos(api_client, account, owner, sn):
    info = api_client.get(f"/sms/{sn}/serviceInfos").json()
    assert info["domain"] == sn
    assert info["contactAdmin"] == owner.handle
    assert info["status"] == "ok"
    assert info["creation"] == timezone.localdate(account.created_at).isoformat()
    assert info["expiration"] > timezone.localdate().isoformat()
    assert info["renew"]["automatic"] is True
    keep = {"renew": {**info["renew"], "period": 12}}
    assert api_client.put(f"/sms/{sn}/serviceInfos", keep).status_code == 200
    end = api_client.put(f"/sms/{sn}/serviceInfos", {"renew": {**info["renew"],
                                                               "deleteAtExpiration": True}})
    assert end.status_code == 400 and "do not expire" in end.json()["message"]


class TestAccountSettings:
    def test_the_fields_ovhcloud_serves(self, api_client, sn):
        body = api_client.get(f"/sms/{sn}").json()
        assert body["smpp"] is False
        assert body["automaticRecreditAmount"] is None
        assert body["smsResponse"]["responseType"] == "none"
        assert body["templates"]["customizedSmsMode"] is False
        assert (body["creditsHoldByQuota"], body["userQuantityWithQuota"]) == (0, 0)

    def test_the_recredit_threshold_is_the_low_credit_alert(self, api_client, account, sn):
        body = api_client.get(f"/sms/{sn}").json()
        assert api_client.put(f"/sms/{sn}", {**body, "creditThresholdForAutomaticRecredit": 25}
                              ).status_code == 200  # fmt: skip
        assert SmsAccount.objects.get(pk=account.pk).low_credit_threshold == 25
        assert api_client.get(f"/sms/{sn}").json()["creditThresholdForAutomaticRecredit"] == 25
        api_client.put(f"/sms/{sn}", {"creditThresholdForAutomaticRecredit": 0})
        assert SmsAccount.objects.get(pk=account.pk).low_credit_threshold is None

    @pytest.mark.parametrize("change", [
        {"automaticRecreditAmount": "100"},
        {"smsResponse": {"responseType": "text", "text": "Merci"}},
        {"templates": {"customizedSmsMode": True, "customizedEmailMode": False,
                       "smsBody": "Plus de crédits"}},
    ])  # fmt: skip
    def test_settings_without_behaviour_are_refused(self, api_client, account, sn, change):
        response = api_client.put(f"/sms/{sn}", {"description": "Changed", **change})
        assert response.status_code == 400
        assert next(iter(change)) in response.json()["message"]
        assert SmsAccount.objects.get(pk=account.pk).description != "Changed"


def test_blacklist_entries_name_the_message_stopped(api_client, account, sn):
    (pk,) = api_client.post(f"/sms/{sn}/jobs", {"message": "x", "receivers": [A],
                                                 "noStopClause": True}).json()["ids"]  # fmt: skip
    StopListEntry.objects.create(account=account, number=A, outgoing_id=pk)
    StopListEntry.objects.create(account=account, number="+33612345670")
    assert api_client.get(f"/sms/{sn}/blacklists?smsOutgoingID={pk}").json() == [A]
    entry = api_client.get(f"/sms/{sn}/blacklists/{A}").json()
    assert entry["smsOutgoingID"] == pk and entry["batchID"] is None
