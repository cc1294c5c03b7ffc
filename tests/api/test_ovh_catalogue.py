"""The rest of OVHcloud's /sms surface: templates for moderation (staff decide in the admin),
rates, packs and offers, ptt codes, routing exceptions, tasks, history and phonebook documents,
sender documents, and the routes refused in OVHcloud's shape (SMPP, validate)."""

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import DestinationRate
from api.models import ApiTask
from messaging.models import OutgoingMessage, TemplateControl
from senders.models import SenderDocument
from tests.addressbooks.factories import BookFactory, ContactFactory, make_recipient_list
from tests.senders.factories import EXE, PNG, SenderFactory

pytestmark = pytest.mark.django_db

A = "+33612345678"


def _download(api_client, url: str) -> str:
    return api_client.client.get(url.replace("http://testserver", "")).getvalue().decode("utf-8-sig")


class TestTemplatesControl:
    def test_submit_refuse_relaunch_approve(self, api_client, sn, staff_client):
        created = api_client.post(f"/sms/{sn}/templatesControl", {
            "activity": "authentification", "name": "otp", "message": "Code : #VALUE#",
            "description": "Connexion"})  # fmt: skip
        assert created.status_code == 200
        assert api_client.get(f"/sms/{sn}/templatesControl").json() == ["otp"]
        body = api_client.get(f"/sms/{sn}/templatesControl/otp").json()
        assert body["status"] == "waitingValidation" and body["message"] == "Code : #VALUE#"
        template = TemplateControl.objects.get()
        # Staff refuse it in the admin, with a reason (required).
        url = reverse("admin:messaging_templatecontrol_change", args=[template.pk])
        no_reason = staff_client.post(url, {"status": "refused", "comment": ""})
        assert no_reason.status_code == 200 and TemplateControl.objects.get().status != "refused"
        staff_client.post(url, {"status": "refused", "comment": "Mentionnez la marque"})
        body = api_client.get(f"/sms/{sn}/templatesControl/otp").json()
        assert (body["status"], body["comment"]) == ("refused", "Mentionnez la marque")
        # The customer cannot approve it; corrects it and submits again.
        assert api_client.put(f"/sms/{sn}/templatesControl/otp", {"status": "enable"}
                              ).status_code == 400  # fmt: skip
        again = api_client.post(f"/sms/{sn}/templatesControl/otp/relaunchValidation", {
            "description": "Connexion", "message": "Boutique : code #VALUE#"})  # fmt: skip
        assert again.status_code == 200
        assert TemplateControl.objects.get().status == "waitingValidation"
        staff_client.post(reverse("admin:messaging_templatecontrol_changelist"), {
            "action": "approve_selected", "_selected_action": [template.pk]})  # fmt: skip
        assert api_client.get(f"/sms/{sn}/templatesControl/otp").json()["status"] == "enable"
        # Switching it off and on is the customer's; a new text goes back to moderation.
        api_client.put(f"/sms/{sn}/templatesControl/otp", {"status": "disable"})
        assert TemplateControl.objects.get().status == "disable"
        api_client.put(f"/sms/{sn}/templatesControl/otp", {"message": "Autre #VALUE#"})
        assert TemplateControl.objects.get().status == "waitingValidation"
        assert api_client.delete(f"/sms/{sn}/templatesControl/otp").status_code == 200
        assert not TemplateControl.objects.exists()

    def test_duplicates_and_bad_names(self, api_client, sn):
        body = {"activity": "alerting", "name": "a", "message": "x"}
        assert api_client.post(f"/sms/{sn}/templatesControl", body).status_code == 200
        api_client.time_offset = 1  # the same call again, signed anew (a copy is a replay)
        assert api_client.post(f"/sms/{sn}/templatesControl", body).status_code == 409
        bad = api_client.post(f"/sms/{sn}/templatesControl", {**body, "name": "a b/c"})
        assert bad.status_code == 400


class TestCatalogue:
    def test_rates_follow_the_destination_rates(self, api_client):
        DestinationRate.objects.filter(country="BE").update(credits_per_segment=Decimal("1.5"))
        be = api_client.get("/sms/rates/destinations?country=be").json()
        assert be["credit"] == 1.5 and be["countryCode"] == "be"
        assert be["price"]["currencyCode"] == "EUR" and be["price"]["value"] > 0
        packs = api_client.get("/sms/rates/packs?country=fr").json()
        assert packs[0]["creditQuantityMin"] == 100 and packs[0]["credit"] == 1.0
        assert packs[-1]["creditQuantityMax"] is None
        assert packs[0]["creditPrice"]["value"] > packs[-1]["creditPrice"]["value"]
        assert api_client.get("/sms/rates/destinations?country=zz").status_code == 404

    def test_offers_ptts_and_exceptions(self, api_client, sn):
        DestinationRate.objects.filter(country="BE").update(credits_per_segment=Decimal("2"))
        (offer,) = api_client.get(f"/sms/{sn}/seeOffers?countryDestination=be"
                                  "&countryCurrencyPrice=fr&quantity=1000").json()  # fmt: skip
        assert (offer["quantity"], offer["smsQuantity"]) == (1000, 500)
        assert api_client.get("/sms/ptts?ptt=5").json()["comment"] == "STOP list"
        assert api_client.get("/sms/ptts?ptt=99").status_code == 404
        assert api_client.get(f"/sms/{sn}/exceptions?receiver={A}").json() == []
        DestinationRate.objects.filter(country="FR").delete()
        (blocked,) = api_client.get(f"/sms/{sn}/exceptions?receiver={A}").json()
        assert blocked["restrictionCode"] == "BLOCKED" and blocked["countrySuffixe"] == "fr"
        assert api_client.get(f"/sms/{sn}/exceptions?receiver=abc").status_code == 400


class TestTasksAndDocuments:
    def test_a_list_cleaning_is_a_task(self, api_client, account, sn):
        make_recipient_list(account)  # slot 1
        report = api_client.post(f"/sms/{sn}/receivers/1/clean", {"freemium": True}).json()
        assert api_client.get(f"/sms/{sn}/task").json() == [report["taskId"]]
        task = api_client.get(f"/sms/{sn}/task/{report['taskId']}").json()
        assert task == {"function": "cleanSmsReceivers", "status": "done", "step": "finishing",
                        "taskId": report["taskId"]}  # fmt: skip
        assert api_client.get(f"/sms/{sn}/task?status=todo").json() == []
        assert ApiTask.objects.count() == 1

    def test_the_history_document(self, api_client, sn):
        api_client.post(f"/sms/{sn}/jobs", {"message": "=1+1", "receivers": [A],
                                             "noStopClause": True, "tag": "t"})  # fmt: skip
        OutgoingMessage.objects.update(status=OutgoingMessage.Status.DELIVERED)
        doc_id = api_client.get(f"/sms/{sn}/document?wayType=outgoing&tag=t").json()
        doc = api_client.get(f"/me/document/{doc_id}").json()
        text = _download(api_client, doc["getUrl"])
        assert text.splitlines()[0].startswith("id;creationDatetime")
        assert A in text and "'=1+1" in text  # formula-safe
        empty = api_client.get(f"/sms/{sn}/document?wayType=outgoing&tag=other").json()
        other = api_client.get(f"/me/document/{empty}").json()
        assert len(_download(api_client, other["getUrl"]).splitlines()) == 1

    def test_the_phonebook_export(self, api_client, account, sn):
        book = BookFactory(account=account)
        ContactFactory(book=book, surname="Curie", name="Marie", home_mobile=A)
        export = api_client.get(f"/sms/{sn}/phonebooks/{book.pk}/export?format=csv").json()
        assert export["status"] == "done"
        text = _download(api_client, export["url"])
        assert text.splitlines()[0] == "surname;name;group;homePhone;homeMobile;workPhone;workMobile"
        assert "Curie;Marie" in text


class TestSenderDocuments:
    def test_declare_then_put_the_content(self, api_client, account, sn):
        SenderFactory(account=account, sender="Boutique")
        base = f"/sms/{sn}/senders/Boutique/documents"
        doc = api_client.post(base, {"name": "kbis.png", "description": "Extrait"}).json()
        assert doc["putUrl"] and doc["size"] == 0
        assert api_client.get(base).json() == [doc["documentID"]]
        put = doc["putUrl"].replace("http://testserver", "")
        bad = api_client.client.put(put, data=EXE, content_type="application/octet-stream")
        assert bad.status_code == 400
        ok = api_client.client.put(put, data=PNG, content_type="application/octet-stream")
        assert ok.status_code == 200
        stored = SenderDocument.objects.get()
        assert (stored.content_type, stored.size) == ("image/png", len(PNG))
        again = api_client.get(f"{base}/{doc['documentID']}").json()
        assert again["putUrl"] is None and again["size"] == len(PNG)
        assert api_client.client.put(put, data=PNG, content_type="x/y").status_code == 404
        api_client.put(f"{base}/{doc['documentID']}", {"description": "Kbis 2026"})
        assert SenderDocument.objects.get().description == "Kbis 2026"

    def test_another_senders_document_is_not_found(self, api_client, account, sn, outsider):
        theirs = SenderFactory(account=outsider.memberships.first().account, sender="Autre")
        doc = SenderDocument.objects.create(sender=theirs, original_name="x.pdf", size=0)
        SenderFactory(account=account, sender="Autre")
        response = api_client.get(f"/sms/{sn}/senders/Autre/documents/{doc.document_id}")
        assert response.status_code == 404


@pytest.mark.parametrize("method, path", [
    ("GET", "/smpp/settings"), ("GET", "/smpp/allowedIPs"), ("POST", "/smpp/password"),
])  # fmt: skip
def test_smpp_is_refused_in_ovhclouds_shape(api_client, sn, method, path):
    response = api_client.call(method, f"/sms/{sn}{path}", data={} if method == "POST" else None)
    assert response.status_code == 400
    assert response.json()["errorCode"] == "NOT_AVAILABLE" and "SMPP" in response.json()["message"]


def test_validating_a_sender_by_code_is_refused(api_client, account, sn):
    SenderFactory(account=account, sender="Boutique")
    response = api_client.post(f"/sms/{sn}/senders/Boutique/validate", {"code": "1234"})
    assert response.status_code == 400 and response.json()["errorCode"] == "NOT_AVAILABLE"
