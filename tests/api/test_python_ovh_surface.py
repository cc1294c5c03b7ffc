"""The unmodified `ovh` package against a live smspanel, over every group of OVHcloud's /sms
API beyond sending (tests/api/test_python_ovh.py) and SMS users (tests/api/test_users.py)."""

import ovh
import pytest
import requests

from messaging.models import OutgoingMessage, TemplateControl
from senders.services import virtual_number_assign
from tests.addressbooks.factories import BookFactory, ContactFactory
from tests.senders.factories import PNG, SenderFactory

from .conftest import make_key

pytestmark = pytest.mark.django_db(transaction=True)

A = "+33612345678"
VN = "+33700000001"


@pytest.fixture
def client(live_server, settings, monkeypatch, eager_celery, account, owner):
    settings.ALLOWED_HOSTS = ["*"]
    monkeypatch.setitem(ovh.client.ENDPOINTS, "smspanel", live_server.url + "/1.0")
    app, secret, _ck, key = make_key(account, owner)
    return ovh.Client(endpoint="smspanel", application_key=app.app_key,
                      application_secret=secret, consumer_key=key)  # fmt: skip


def test_connection_check_service_infos_and_errors(client, account, owner, live_server):
    assert client.get("/me")["nichandle"] == owner.handle
    info = client.get(f"/sms/{account.name}/serviceInfos")
    assert info["domain"] == account.name
    client.put(f"/sms/{account.name}/serviceInfos", renew=info["renew"])
    with pytest.raises(ovh.exceptions.ResourceNotFoundError):
        client.get("/sms/nothing/here/at/all")
    with pytest.raises(ovh.exceptions.APIError, match="method"):
        client.delete("/sms")
    wrong = ovh.Client(endpoint="smspanel", application_key="not-a-key",
                       application_secret="x", consumer_key=client._consumer_key)  # fmt: skip
    with pytest.raises(ovh.exceptions.InvalidKey):
        wrong.get("/sms")


def test_templates_rates_and_offers(client, account):
    sn = account.name
    client.post(f"/sms/{sn}/templatesControl", activity="alerting", name="stock",
                message="Stock bas : #VALUE#", description="Alerte")  # fmt: skip
    assert client.get(f"/sms/{sn}/templatesControl/stock")["status"] == "waitingValidation"
    TemplateControl.objects.update(status="refused", comment="Trop vague")
    client.post(f"/sms/{sn}/templatesControl/stock/relaunchValidation",
                description="Alerte", message="Boutique : stock bas #VALUE#")  # fmt: skip
    assert client.get(f"/sms/{sn}/templatesControl/stock")["status"] == "waitingValidation"
    assert client.get("/sms/rates/destinations", country="fr")["credit"] == 1.0
    assert client.get("/sms/rates/packs", country="fr")[0]["creditQuantityMin"] == 100
    assert client.get("/sms/ptts", ptt=1)["comment"] == "Delivered"
    assert client.get(f"/sms/{sn}/seeOffers", countryDestination="fr", countryCurrencyPrice="fr",
                      quantity="500")[0]["smsQuantity"] == 500  # fmt: skip
    assert client.get(f"/sms/{sn}/exceptions", receiver=A) == []


def test_hlr_virtual_numbers_and_documents(client, account, owner, staff):
    sn = account.name
    report = client.post(f"/sms/{sn}/hlr", receivers=[A])
    (hlr_id,) = report["ids"]
    assert client.get(f"/sms/{sn}/hlr/{hlr_id}")["msisdn"] == A
    assert client.get(f"/sms/{sn}/hlr/{hlr_id}/operator")["countryCode"] == "33"

    virtual_number_assign(account=account, number=VN, by=staff)
    assert client.get("/sms/virtualNumbers") == [VN]
    sent = client.post(f"/sms/{sn}/virtualNumbers/{VN}/jobs", message="Répondez",
                       receivers=[A], noStopClause=True)  # fmt: skip
    OutgoingMessage.objects.update(status=OutgoingMessage.Status.DELIVERED)
    assert client.get(f"/sms/{sn}/virtualNumbers/{VN}/outgoing") == sent["ids"]
    chat = client.post(f"/sms/{sn}/virtualNumbers/{VN}/chatAccess")
    assert "Répondez" in requests.get(chat["url"], timeout=10).text

    book = BookFactory(account=account)
    ContactFactory(book=book, surname="Curie", home_mobile=A)
    export = client.get(f"/sms/{sn}/phonebooks/{book.pk}/export", format="csv")
    assert "Curie" in requests.get(export["url"], timeout=10).content.decode("utf-8-sig")
    doc_id = client.get(f"/sms/{sn}/document", wayType="outgoing")
    doc = client.get(f"/me/document/{doc_id}")
    assert A in requests.get(doc["getUrl"], timeout=10).content.decode("utf-8-sig")

    SenderFactory(account=account, sender="Boutique")
    declared = client.post(f"/sms/{sn}/senders/Boutique/documents", name="kbis.png")
    assert requests.put(declared["putUrl"], data=PNG, timeout=10).status_code == 200
    assert client.get(f"/sms/{sn}/senders/Boutique/documents/{declared['documentID']}"
                      )["size"] == len(PNG)  # fmt: skip
    with pytest.raises(ovh.exceptions.BadParametersError, match="SMPP"):
        client.get(f"/sms/{sn}/smpp/settings")
