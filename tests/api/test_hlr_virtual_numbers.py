"""Number lookups (/sms/{sn}/hlr), charged and answered by the simulator's seeded model, and
virtual numbers (/sms/{sn}/virtualNumbers, /sms/virtualNumbers) with their chat address."""

from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import SmsAccount
from messaging.models import HlrLookup, IncomingMessage, OutgoingMessage, SmsJob
from messaging.operator.hlr import lookup, number_info
from senders.services import virtual_number_assign

pytestmark = pytest.mark.django_db

A, B = "+33612345678", "+33612345679"
VN = "+33700000001"


def test_the_lookup_model_is_seeded_and_knows_the_numbering_plan():
    answers = [lookup(f"+336123456{i:02d}", seed=42) for i in range(100)]
    assert answers == [lookup(f"+336123456{i:02d}", seed=42) for i in range(100)]
    assert answers != [lookup(f"+336123456{i:02d}", seed=7) for i in range(100)]
    assert all(a.valid for a in answers) and any(a.ported for a in answers)
    assert not lookup("+33123456789", seed=42).reachable  # a landline has no HLR entry
    assert not lookup("+3361", seed=42).valid
    info = number_info(A)
    assert (info.country, info.country_code, info.network) == ("FR", "33", "mobile")
    assert info.operator  # the operator the prefix was allocated to


class TestHlr:
    def test_lookups_are_charged_and_readable(self, api_client, account, sn):
        report = api_client.post(f"/sms/{sn}/hlr", {"receivers": [A, B, "nope"]}).json()
        assert report["validReceivers"] == [A, B] and report["invalidReceivers"] == ["nope"]
        assert report["totalCreditsRemoved"] == 0.2  # a tenth of an SMS to France each
        assert SmsAccount.objects.get(pk=account.pk).credits == Decimal("99.80")
        assert sorted(api_client.get(f"/sms/{sn}/hlr").json()) == sorted(report["ids"])
        one = api_client.get(f"/sms/{sn}/hlr/{report['ids'][0]}").json()
        expected = lookup(A, seed=42)
        assert one["msisdn"] == A and one["status"] == "done"
        assert (one["valid"], one["ported"], one["reachable"]) == (
            expected.valid, expected.ported, expected.reachable)  # fmt: skip
        operator = api_client.get(f"/sms/{sn}/hlr/{report['ids'][0]}/operator").json()
        assert operator["country"] == "fr" and operator["network"] == "mobile"

    def test_without_credits_nothing_is_looked_up(self, api_client, account, sn):
        SmsAccount.objects.filter(pk=account.pk).update(credits=Decimal("0.05"))
        response = api_client.post(f"/sms/{sn}/hlr", {"receivers": [A]})
        assert response.status_code == 400 and "insufficient" in response.json()["message"]
        assert not HlrLookup.objects.exists()

    def test_a_sent_messages_receiver(self, api_client, sn):
        (pk,) = api_client.post(f"/sms/{sn}/jobs", {"message": "x", "receivers": [A],
                                                     "noStopClause": True}).json()["ids"]
        assert api_client.get(f"/sms/{sn}/outgoing/{pk}/hlr").json()["countryCode"] == "33"


class TestVirtualNumbers:
    @pytest.fixture
    def number(self, account, staff):
        return virtual_number_assign(account=account, number=VN, by=staff)

    def test_send_from_it_and_read_its_replies(self, api_client, account, sn, number, client):
        assert api_client.get(f"/sms/{sn}/virtualNumbers").json() == [VN]
        assert api_client.get(f"/sms/{sn}/virtualNumbers/{VN}").json() == {
            "countryCode": "fr", "number": VN}  # fmt: skip
        report = api_client.post(f"/sms/{sn}/virtualNumbers/{VN}/jobs", {
            "message": "Répondez OUI", "receivers": [A], "differedPeriod": 60,
            "noStopClause": True}).json()  # fmt: skip
        (pk,) = report["ids"]
        job = SmsJob.objects.get()
        assert job.sender == number and job.reply_allowed
        assert api_client.get(f"/sms/{sn}/virtualNumbers/{VN}/jobs").json() == [pk]
        assert api_client.get(f"/sms/{sn}/virtualNumbers/{VN}/jobs/{pk}").json()["receiver"] == A
        OutgoingMessage.objects.update(status=OutgoingMessage.Status.DELIVERED)
        SmsJob.objects.update(status=SmsJob.Status.DONE)
        assert api_client.get(f"/sms/{sn}/virtualNumbers/{VN}/outgoing").json() == [pk]
        reply = IncomingMessage.objects.create(account=account, sender=A, text="OUI", ref="r",
                                               received_at=timezone.now(), outgoing_id=pk)
        assert api_client.get(f"/sms/{sn}/virtualNumbers/{VN}/incoming").json() == [reply.pk]
        # Messages of the account's other senders are not this number's.
        other = api_client.post(f"/sms/{sn}/jobs", {"message": "x", "receivers": [B],
                                                     "noStopClause": True}).json()["ids"][0]
        assert api_client.get(f"/sms/{sn}/virtualNumbers/{VN}/outgoing/{other}").status_code == 404

        chat = api_client.post(f"/sms/{sn}/virtualNumbers/{VN}/chatAccess").json()
        assert api_client.get(f"/sms/{sn}/virtualNumbers/{VN}/chatAccess").json() == chat
        page = client.get(chat["url"].replace("http://testserver", ""))
        assert page.status_code == 200 and "OUI" in page.content.decode()
        assert "Répondez OUI" in page.content.decode()
        assert api_client.delete(f"/sms/{sn}/virtualNumbers/{VN}/chatAccess").status_code == 200
        assert client.get(chat["url"].replace("http://testserver", "")).status_code == 404

    def test_each_number_is_a_service(self, api_client, number):
        assert api_client.get("/sms/virtualNumbers").json() == [VN]
        assert api_client.get(f"/sms/virtualNumbers/{VN}").json()["countryCode"] == "fr"
        info = api_client.get(f"/sms/virtualNumbers/{VN}/serviceInfos").json()
        assert info["domain"] == VN and info["status"] == "ok"

    def test_another_accounts_number_is_not_found(self, api_client, sn, outsider, staff):
        virtual_number_assign(account=outsider.memberships.first().account, number=VN, by=staff)
        assert api_client.get(f"/sms/{sn}/virtualNumbers/{VN}").status_code == 404
        assert api_client.get(f"/sms/virtualNumbers/{VN}").status_code == 404
        assert api_client.get("/sms/virtualNumbers").json() == []
