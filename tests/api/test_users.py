"""SMS users (/sms/{sn}/users) and http2sms: the unmodified python-ovh client creates a user,
sets its quota, sends as it, and the user's login and password send through plain HTTP."""

import json
import socket
from datetime import timedelta
from decimal import Decimal
from xml.etree import ElementTree

import ovh
import pytest
import requests
from django.core import mail
from django.utils import timezone

from accounts.models import SmsAccount, SmsUser
from messaging.models import IncomingMessage, OutgoingMessage, SmsJob
from tests.senders.factories import SenderFactory

from .conftest import make_key

A, B = "+33612345678", "+33612345679"


@pytest.fixture
def ovh_client(live_server, settings, monkeypatch, eager_celery, account, owner):
    settings.ALLOWED_HOSTS = ["*"]
    monkeypatch.setitem(ovh.client.ENDPOINTS, "smspanel", live_server.url + "/1.0")
    app, secret, _ck, key = make_key(account, owner)
    return ovh.Client(endpoint="smspanel", application_key=app.app_key,
                      application_secret=secret, consumer_key=key)  # fmt: skip


def credits(account) -> Decimal:
    return SmsAccount.objects.get(pk=account.pk).credits


@pytest.mark.django_db(transaction=True)
def test_a_user_made_with_python_ovh_sends_through_http2sms(ovh_client, live_server, account):
    sn = account.name
    SenderFactory(account=account, sender="MaBoutique", status="enable")
    assert ovh_client.post(f"/sms/{sn}/users", login="shop", password="s3cret-pass") is None
    assert ovh_client.get(f"/sms/{sn}/users") == ["shop"]
    with pytest.raises(ovh.exceptions.ResourceConflictError):
        ovh_client.post(f"/sms/{sn}/users", login="shop", password="another-pass")
    ovh_client.put(f"/sms/{sn}/users/shop", quotaInformations={"quotaLeft": 3,
                   "quotaStatus": "active"})  # fmt: skip
    user = ovh_client.get(f"/sms/{sn}/users/shop")
    assert user["quotaInformations"] == {"quotaLeft": 3.0, "quotaStatus": "active"}
    assert user["password"] == ""
    assert ovh_client.get(f"/sms/{sn}")["userQuantityWithQuota"] == 1

    url = live_server.url + "/cgi-bin/sms/http2sms.cgi"
    params = {"account": sn, "login": "shop", "password": "s3cret-pass", "from": "MaBoutique",
              "to": f"{A},{B}", "message": "Bonjour", "noStop": "1", "tag": "h2s"}  # fmt: skip
    answer = requests.get(url, params=params, timeout=10)
    assert answer.status_code == 200
    lines = answer.text.splitlines()
    assert lines[0] == "OK" and Decimal(lines[1]) == Decimal("98.00")
    ids = [int(i) for i in lines[2:]]
    assert len(ids) == 2
    job = SmsJob.objects.get()
    assert job.sms_user.login == "shop" and job.tag == "h2s"
    assert ovh_client.get(f"/sms/{sn}/users/shop")["quotaInformations"]["quotaLeft"] == 1.0

    # The user's own history, through python-ovh.
    OutgoingMessage.objects.update(status=OutgoingMessage.Status.DELIVERED)
    assert ovh_client.get(f"/sms/{sn}/users/shop/outgoing") == sorted(ids, reverse=True)
    assert ovh_client.get(f"/sms/{sn}/users/shop/outgoing/{ids[0]}")["tag"] == "h2s"
    assert ovh_client.get(f"/sms/{sn}/outgoing", tag="h2s") == sorted(ids, reverse=True)

    # Past the quota: refused, nothing charged.
    refused = requests.post(url, data={**params, "contentType": "application/json"}, timeout=10)
    assert refused.json()["status"] == 402 and "quota" in refused.json()["message"]
    assert credits(account) == Decimal("98.00")
    with pytest.raises(ovh.exceptions.BadParametersError, match="quota"):
        ovh_client.post(f"/sms/{sn}/users/shop/jobs", message="x", receivers=[A, B],
                        noStopClause=True, sender="MaBoutique")  # fmt: skip

    ovh_client.put(f"/sms/{sn}/users/shop", quotaInformations={"quotaLeft": 0,
                   "quotaStatus": "inactive"})  # fmt: skip
    report = ovh_client.post(f"/sms/{sn}/users/shop/jobs", message="Demain", receivers=[A],
                             noStopClause=True, differedPeriod=60)  # fmt: skip
    assert ovh_client.get(f"/sms/{sn}/users/shop/jobs") == report["ids"]
    assert ovh_client.delete(f"/sms/{sn}/users/shop/jobs/{report['ids'][0]}") is None
    assert credits(account) == Decimal("98.00")

    ovh_client.delete(f"/sms/{sn}/users/shop")
    wrong = requests.get(url, params={**params, "contentType": "text/xml"}, timeout=10)
    assert ElementTree.fromstring(wrong.text).findtext("status") == "401"


@pytest.mark.django_db
class TestHttp2sms:
    URL = "/cgi-bin/sms/http2sms.cgi"

    @pytest.fixture
    def user(self, account):
        from accounts.services import sms_user_create

        SenderFactory(account=account, sender="Boutique", status="enable")
        return sms_user_create(account=account, login="cron", password="pass-word-1")

    def params(self, acct, **extra):
        return {"account": acct.name, "login": "cron", "password": "pass-word-1",
                "from": "Boutique", "to": A, "message": "Salut", "noStop": "1", **extra}

    def test_each_content_type(self, client, account, user):
        as_json = client.get(self.URL, self.params(account, contentType="application/json"))
        body = json.loads(as_json.content)
        assert body["status"] == 100 and body["creditLeft"] == "99.00"
        assert [int(i) for i in body["SmsIds"]] == list(OutgoingMessage.objects.values_list(
            "id", flat=True))  # fmt: skip
        as_xml = client.post(self.URL, self.params(account, contentType="text/xml", to=B))
        assert ElementTree.fromstring(as_xml.content).findtext("creditLeft") == "98.00"
        as_html = client.get(self.URL, self.params(account, contentType="text/html",
                                                   to="0612345670"))  # fmt: skip
        assert as_html.content.decode().startswith("OK<BR>97.00<BR>")
        assert as_html["Content-Type"].startswith("text/html")

    @pytest.mark.parametrize("change, status", [
        ({"password": "wrong-password"}, "401"),
        ({"account": "sms-zz00000-1"}, "401"),
        ({"message": ""}, "201"),
        ({"to": "not-a-number"}, "202"),
        ({"from": "Unknown"}, "241"),
        ({"class": "3"}, "202"),
        ({"deferred": "2561"}, "202"),
    ])  # fmt: skip
    def test_refusals_change_nothing(self, client, account, user, change, status):
        answer = client.get(self.URL, self.params(account, **change)).content.decode()
        assert answer.startswith("KO\n")
        json_answer = client.get(self.URL, self.params(account, contentType="application/json",
                                                       **change)).json()  # fmt: skip
        assert str(json_answer["status"]) == status
        assert not SmsJob.objects.exists()
        assert credits(account) == Decimal("100.00")

    def test_deferred_class_and_short_number(self, client, account, user):
        when = (timezone.localtime() + timedelta(days=30)).replace(hour=18, minute=30)
        params = self.params(account, deferred=when.strftime("%H%M%d%m%Y"),
                             senderForResponse="1", **{"class": "0"})  # fmt: skip
        del params["from"]
        assert client.get(self.URL, params).content.startswith(b"OK")
        job = SmsJob.objects.get()
        assert timezone.localtime(job.scheduled_at).replace(second=0, microsecond=0) == \
            when.replace(second=0, microsecond=0)
        assert job.sms_class == "flash" and job.sender is None

    def test_ip_restrictions(self, client, account, user):
        SmsUser.objects.filter(pk=user.pk).update(ip_restrictions=["192.0.2.1"])
        assert client.get(self.URL, self.params(account)).content.startswith(b"KO")
        SmsUser.objects.filter(pk=user.pk).update(ip_restrictions=["127.0.0.1"])
        assert client.get(self.URL, self.params(account)).content.startswith(b"OK")


@pytest.mark.django_db
class TestUsersRoutes:
    def test_settings_are_checked(self, api_client, account, sn, monkeypatch, settings):
        settings.CALLBACKS_ALLOW_PRIVATE = False
        real = socket.getaddrinfo
        monkeypatch.setattr("socket.getaddrinfo", lambda host, *a, **k: [
            (2, 1, 6, "", ("93.184.215.14", 443))] if host == "example.com"
            else real(host, *a, **k))  # fmt: skip
        api_client.post(f"/sms/{sn}/users", {"login": "api", "password": "long-enough"})
        bad = [{"ipRestrictions": ["999.1.1.1"]}, {"callBack": "http://127.0.0.1/x"},
               {"password": "short"}, {"alertThresholdInformations": {"alertEmail": "nope"}}]
        for change in bad:
            assert api_client.put(f"/sms/{sn}/users/api", change).status_code == 400, change
        assert api_client.post(f"/sms/{sn}/users", {"login": "a b", "password": "long-enough"}
                               ).status_code == 400  # fmt: skip
        ok = {"ipRestrictions": ["192.0.2.7"], "callBack": "https://example.com/dlr",
              "alertThresholdInformations": {"alertEmail": "ops@example.com",
                                             "alertThreshold": 5, "support": "mail"}}
        assert api_client.put(f"/sms/{sn}/users/api", ok).status_code == 200
        body = api_client.get(f"/sms/{sn}/users/api").json()
        assert body["ipRestrictions"] == ["192.0.2.7"]
        assert body["callBack"] == "https://example.com/dlr"
        assert body["alertThresholdInformations"]["alertThreshold"] == 5

    def test_the_quota_alert_is_mailed_once(self, api_client, account, sn,
                                            django_capture_on_commit_callbacks):
        api_client.post(f"/sms/{sn}/users", {"login": "api", "password": "long-enough"})
        api_client.put(f"/sms/{sn}/users/api", {
            "quotaInformations": {"quotaLeft": 3, "quotaStatus": "active"},
            "alertThresholdInformations": {"alertEmail": "ops@example.com", "alertThreshold": 2},
        })  # fmt: skip
        for n in range(3):
            api_client.time_offset = n  # three sends, not one replayed (same second, same body)
            with django_capture_on_commit_callbacks(execute=True):
                api_client.post(f"/sms/{sn}/users/api/jobs", {"message": "x", "receivers": [A],
                                                               "noStopClause": True})  # fmt: skip
        assert [m.to for m in mail.outbox] == [["ops@example.com"]]
        assert SmsUser.objects.get().quota_left == 0

    def test_a_user_sees_only_its_own_messages(self, api_client, account, sn):
        api_client.post(f"/sms/{sn}/users", {"login": "api", "password": "long-enough"})
        mine = api_client.post(f"/sms/{sn}/users/api/jobs", {"message": "x", "receivers": [A],
                                                              "noStopClause": True}).json()
        theirs = api_client.post(f"/sms/{sn}/jobs", {"message": "y", "receivers": [B],
                                                      "noStopClause": True}).json()
        OutgoingMessage.objects.update(status=OutgoingMessage.Status.DELIVERED)
        assert api_client.get(f"/sms/{sn}/users/api/outgoing").json() == mine["ids"]
        assert api_client.get(f"/sms/{sn}/users/api/outgoing/{theirs['ids'][0]}"
                              ).status_code == 404  # fmt: skip
        reply = IncomingMessage.objects.create(account=account, sender=A, text="Oui", ref="r",
                                               received_at=timezone.now(),
                                               outgoing_id=mine["ids"][0])  # fmt: skip
        IncomingMessage.objects.create(account=account, sender=B, text="Non", ref="s",
                                       received_at=timezone.now(), outgoing_id=theirs["ids"][0])
        assert api_client.get(f"/sms/{sn}/users/api/incoming").json() == [reply.pk]
        doc_id = api_client.get(f"/sms/{sn}/users/api/document?wayType=incoming").json()
        doc = api_client.get(f"/me/document/{doc_id}").json()
        content = api_client.client.get(doc["getUrl"].replace("http://testserver", "")).getvalue()
        assert "Oui" in content.decode("utf-8-sig") and "Non" not in content.decode("utf-8-sig")
        assert api_client.delete(f"/sms/{sn}/users/api/outgoing/{mine['ids'][0]}"
                                 ).status_code == 200  # fmt: skip
        assert not OutgoingMessage.objects.filter(pk=mine["ids"][0]).exists()

    def test_another_accounts_user_is_not_found(self, api_client, sn, outsider):
        foreign = outsider.memberships.first().account
        SmsUser.objects.create(account=foreign, login="them", password="x")
        assert api_client.get(f"/sms/{sn}/users/them").status_code == 404
        assert api_client.get(f"/sms/{foreign.name}/users/them").status_code == 404


def test_an_alert_number_longer_than_e164_is_refused_not_a_server_error(ovh_client, account):
    # Found by schemathesis on PostgreSQL: 19 digits reached the 16-character column (500).
    sn = account.name
    ovh_client.post(f"/sms/{sn}/users", login="alerts", password="s3cret-pass")
    alert = {"alertEmail": "", "alertNumber": "0" * 19, "alertThreshold": 0, "support": "mail"}
    with pytest.raises(ovh.exceptions.BadParametersError):
        ovh_client.put(f"/sms/{sn}/users/alerts", alertThresholdInformations=alert)
    alert["alertNumber"] = "+33612345678"
    ovh_client.put(f"/sms/{sn}/users/alerts", alertThresholdInformations=alert)
    user = ovh_client.get(f"/sms/{sn}/users/alerts")
    assert user["alertThresholdInformations"]["alertNumber"] == "+33612345678"
