"""The /sms routes through signed requests: each answers with OVHcloud's shapes, goes through
the same services as the panel, and never reaches another account's data."""

import uuid
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import CreditMovement, SmsAccount
from addressbooks.models import AddressBook, Contact
from api.models import ApiTask
from messaging.models import IncomingMessage, OutgoingMessage, SmsJob, StopListEntry
from senders.models import Sender
from tests.accounts.factories import AccountFactory, MembershipFactory
from tests.addressbooks.factories import BookFactory, ContactFactory, make_recipient_list
from tests.senders.factories import SenderFactory

pytestmark = pytest.mark.django_db

A, B = "+33612345678", "+33612345679"


def credits(account) -> Decimal:
    return SmsAccount.objects.get(pk=account.pk).credits


@pytest.fixture
def foreign(outsider):
    return outsider.memberships.first().account


def _send(api_client, sn, **payload):
    payload.setdefault("message", "Bonjour")
    payload.setdefault("noStopClause", True)
    return api_client.post(f"/sms/{sn}/jobs", payload)


class TestJobs:
    def test_a_recipient_list_slot_is_sent_to(self, api_client, account, sn):
        rlist = make_recipient_list(account)
        response = _send(api_client, sn, receiversSlotId=str(rlist.slot), differedPeriod=30)
        assert response.status_code == 200
        assert sorted(response.json()["validReceivers"]) == [A, B]
        sources = set(OutgoingMessage.objects.values_list("source", flat=True))
        assert sources == {f"list:{rlist.slot}"}

    def test_the_validity_period_is_kept_with_the_job(self, api_client, account, sn):
        assert _send(api_client, sn, receivers=[A], validityPeriod=90).status_code == 200
        assert _send(api_client, sn, receivers=[B]).status_code == 200

        assert list(SmsJob.objects.order_by("id").values_list("validity_period", flat=True)) == [
            90,
            2880,
        ]

    def test_an_unknown_slot_is_refused(self, api_client, sn):
        response = _send(api_client, sn, receiversSlotId="7")
        assert response.status_code == 400
        assert "receiversSlotId" in response.json()["message"]
        assert not SmsJob.objects.exists()

    def test_stop_listed_numbers_are_not_sent_and_not_charged(self, api_client, account, sn):
        StopListEntry.objects.create(account=account, number=B)
        body = _send(api_client, sn, receivers=[A, B]).json()
        assert body["validReceivers"] == [A]
        assert body["invalidReceivers"] == [B]
        assert body["totalCreditsRemoved"] == 1.0
        assert credits(account) == Decimal("99.00")

    def test_only_receivers_that_are_all_invalid_send_nothing(self, api_client, account, sn):
        body = _send(api_client, sn, receivers=["12", "abc"]).json()
        assert body == {"ids": [], "invalidReceivers": ["12", "abc"], "validReceivers": [],
                        "totalCreditsRemoved": 0, "tag": ""}  # fmt: skip
        assert not SmsJob.objects.exists()
        assert credits(account) == Decimal("100.00")

    def test_the_sender_must_be_an_enabled_sender_of_the_account(self, api_client, account, sn):
        SenderFactory(account=account, sender="WAITING")
        SenderFactory(account=account, sender="SHOP", status=Sender.Status.ENABLE)
        refused = _send(api_client, sn, receivers=[A], sender="WAITING")
        assert refused.status_code == 400
        assert refused.json()["errorCode"] == "INVALID_SENDER"
        ok = _send(api_client, sn, receivers=[A], sender="SHOP", differedPeriod=10)
        assert ok.status_code == 200
        job_id = ok.json()["ids"][0]
        assert api_client.get(f"/sms/{sn}/jobs/{job_id}").json()["sender"] == "SHOP"

    def test_not_enough_credits_changes_nothing(self, api_client, account, sn):
        response = _send(api_client, sn, message="x" * 2000, receivers=[f"+336123{i:05d}" for i in range(20)])  # fmt: skip
        assert response.status_code == 400
        assert "insufficient" in response.json()["message"]
        assert not SmsJob.objects.exists()
        assert credits(account) == Decimal("100.00")

    def test_the_stop_clause_is_counted_unless_no_stop_clause(self, api_client, account, sn):
        text = "a" * 150  # 150 + 11 septets of "\nSTOP:36111" = 2 SMS
        with_stop = _send(api_client, sn, message=text, receivers=[A], noStopClause=False)
        assert with_stop.json()["totalCreditsRemoved"] == 2.0
        without = _send(api_client, sn, message=text, receivers=[B], noStopClause=True)
        assert without.json()["totalCreditsRemoved"] == 1.0

    def test_an_immediate_job_cannot_be_cancelled_once_sending(self, api_client, account, sn):
        job_id = _send(api_client, sn, receivers=[A]).json()["ids"][0]
        SmsJob.objects.update(status=SmsJob.Status.SENDING)
        response = api_client.delete(f"/sms/{sn}/jobs/{job_id}")
        assert response.status_code == 400
        assert credits(account) == Decimal("99.00")

    def test_cancelling_one_message_of_two_keeps_the_other(self, api_client, account, sn):
        ids = _send(api_client, sn, receivers=[A, B], differedPeriod=60).json()["ids"]
        assert api_client.delete(f"/sms/{sn}/jobs/{ids[0]}").content == b"null"
        job = SmsJob.objects.get()
        assert job.status == SmsJob.Status.SCHEDULED
        assert job.credits == Decimal("1.00")
        assert api_client.get(f"/sms/{sn}/jobs").json() == [ids[1]]
        assert api_client.delete(f"/sms/{sn}/jobs/{ids[1]}").status_code == 200
        job.refresh_from_db()
        assert job.status == SmsJob.Status.CANCELLED
        assert credits(account) == Decimal("100.00")
        refunds = CreditMovement.objects.filter(account=account, kind=CreditMovement.Kind.REFUND)
        assert refunds.count() == 2

    def test_receivers_document_url_is_refused_clearly(self, api_client, sn):
        response = _send(api_client, sn, receiversDocumentUrl="https://example.com/x.csv")
        assert response.status_code == 400
        assert "receiversDocumentUrl" in response.json()["message"]

    def test_a_schema_violation_is_a_400_with_the_field_named(self, api_client, sn):
        response = _send(api_client, sn, receivers=[A], **{"class": "toolkit"})
        assert response.status_code == 400
        assert "class" in response.json()["message"]


class TestOutgoingAndIncoming:
    def test_filters(self, api_client, account, sn):
        first = _send(api_client, sn, receivers=[A], tag="a").json()["ids"][0]
        second = _send(api_client, sn, receivers=[B], tag="b").json()["ids"][0]
        OutgoingMessage.objects.update(status=OutgoingMessage.Status.SUBMITTED)
        assert api_client.get(f"/sms/{sn}/outgoing").json() == [second, first]
        assert api_client.get(f"/sms/{sn}/outgoing?tag=a").json() == [first]
        assert api_client.get(f"/sms/{sn}/outgoing?receiver=0612345679").json() == [second]
        assert api_client.get(f"/sms/{sn}/outgoing?deliveryReceipt=8").json() == [second, first]
        assert api_client.get(f"/sms/{sn}/outgoing?deliveryReceipt=1").json() == []
        later = timezone.now().isoformat().replace("+00:00", "Z")
        assert api_client.get(f"/sms/{sn}/outgoing?creationDatetime.from={later}").json() == []
        # No campaign sent these (batchID, a uuid), nor SMPP (messageID).
        assert api_client.get(f"/sms/{sn}/outgoing?batchID={uuid.uuid4()}").json() == []
        assert api_client.get(f"/sms/{sn}/outgoing?messageID={uuid.uuid4()}").json() == []
        assert api_client.get(f"/sms/{sn}/outgoing/{first}").json()["batchID"] is None

    def test_incoming(self, api_client, account, sn):
        reply = IncomingMessage.objects.create(
            account=account, sender=A, text="Oui", received_at=timezone.now(), ref="r1"
        )
        assert api_client.get(f"/sms/{sn}/incoming").json() == [reply.pk]
        body = api_client.get(f"/sms/{sn}/incoming/{reply.pk}").json()
        assert body["message"] == "Oui" and body["sender"] == A
        assert api_client.delete(f"/sms/{sn}/incoming/{reply.pk}").status_code == 200
        assert not IncomingMessage.objects.exists()

    def test_blacklists(self, api_client, account, sn):
        StopListEntry.objects.create(account=account, number=A)
        assert api_client.get(f"/sms/{sn}/blacklists").json() == [A]
        assert api_client.get(f"/sms/{sn}/blacklists/{A}").json()["number"] == A
        assert api_client.delete(f"/sms/{sn}/blacklists/{A}").status_code == 200
        assert not StopListEntry.objects.exists()


class TestSendersBooksLists:
    def test_sender_update_and_delete(self, api_client, account, sn):
        SenderFactory(account=account, sender="SHOP", status=Sender.Status.ENABLE)
        response = api_client.put(f"/sms/{sn}/senders/SHOP", {"description": "Boutique",
                                                              "status": "disable"})  # fmt: skip
        assert response.status_code == 200
        sender = Sender.objects.get(sender="SHOP")
        assert (sender.description, sender.status) == ("Boutique", Sender.Status.DISABLE)
        assert api_client.delete(f"/sms/{sn}/senders/SHOP").status_code == 200
        assert not Sender.objects.exists()

    def test_phonebook_and_contacts(self, api_client, account, sn):
        key = api_client.post(f"/sms/{sn}/phonebooks", {"name": "Clients"}).json()
        book = AddressBook.objects.get(account=account)
        assert key == str(book.pk)
        duplicate = api_client.post(f"/sms/{sn}/phonebooks", {"name": "clients"})
        assert duplicate.status_code == 400
        contacts = f"/sms/{sn}/phonebooks/{key}/phonebookContact"
        no_number = api_client.post(contacts, {"name": "A", "surname": "B", "group": "No group",
                                               "homeMobile": "0033"})  # fmt: skip
        assert no_number.status_code == 400
        assert "number" in no_number.json()["message"]
        pk = api_client.post(contacts, {"name": "Marie", "surname": "Curie", "group": "ESPCI",
                                        "homeMobile": "06 12 34 56 78"}).json()  # fmt: skip
        assert api_client.get(contacts).json() == [pk]
        assert api_client.get(f"{contacts}/{pk}").json()["homeMobile"] == A
        book.refresh_from_db()
        assert book.contacts_count == 1
        api_client.put(f"{contacts}/{pk}", {"name": "Marie", "surname": "Sklodowska",
                                            "group": "ESPCI", "workMobile": B})  # fmt: skip
        contact = Contact.objects.get(pk=pk)
        assert (contact.surname, contact.work_mobile, contact.home_mobile) == ("Sklodowska", B, "")
        api_client.put(f"/sms/{sn}/phonebooks/{key}", {"name": "Anciens"})
        assert AddressBook.objects.get(pk=book.pk).name == "Anciens"
        assert api_client.delete(f"{contacts}/{pk}").status_code == 200
        assert api_client.delete(f"/sms/{sn}/phonebooks/{key}").status_code == 200
        assert not AddressBook.objects.exists()

    def test_receivers(self, api_client, account, sn):
        rlist = make_recipient_list(account)
        assert api_client.get(f"/sms/{sn}/receivers").json() == [rlist.slot]
        body = api_client.get(f"/sms/{sn}/receivers/{rlist.slot}").json()
        assert (body["description"], body["records"]) == ("Sweep", 2)
        csv = api_client.get(f"/sms/{sn}/receivers/{rlist.slot}/csv").json()
        assert A in csv and B in csv
        clean = api_client.post(f"/sms/{sn}/receivers/{rlist.slot}/clean", {"freemium": True})
        assert clean.json() == {"taskId": ApiTask.objects.get().pk, "totalCreditsRemoved": 0}
        assert api_client.delete(f"/sms/{sn}/receivers/{rlist.slot}").status_code == 200
        assert api_client.get(f"/sms/{sn}/receivers").json() == []


class TestTransfer:
    def test_to_an_account_of_the_same_customer(self, api_client, account, owner, sn):
        other = AccountFactory()
        MembershipFactory(user=owner, account=other, role="owner")
        response = api_client.post(f"/sms/{sn}/transferCredits",
                                   {"credits": 10, "smsAccountTarget": other.name})  # fmt: skip
        assert response.status_code == 200
        assert credits(account) == Decimal("90.00")
        assert credits(other) == Decimal("10.00")

    def test_to_someone_elses_account_is_forbidden(self, api_client, account, foreign, sn):
        response = api_client.post(f"/sms/{sn}/transferCredits",
                                   {"credits": 10, "smsAccountTarget": foreign.name})  # fmt: skip
        assert response.status_code == 403
        assert credits(account) == Decimal("100.00")


class TestIsolation:
    """A key sees its own account only: any other account or object is a 404."""

    def test_another_service_name(self, api_client, foreign):
        for path in ["", "/jobs", "/outgoing", "/incoming", "/senders", "/phonebooks",
                     "/receivers", "/blacklists"]:  # fmt: skip
            response = api_client.get(f"/sms/{foreign.name}{path}")
            assert response.status_code == 404, path
        assert _send(api_client, foreign.name, receivers=[A]).status_code == 404
        assert not SmsJob.objects.exists()

    def test_another_accounts_objects_through_ones_own_service(self, api_client, foreign, sn):
        other_book = BookFactory(account=foreign)
        contact = ContactFactory(book=other_book)
        SenderFactory(account=foreign, sender="THEIRS")
        reply = IncomingMessage.objects.create(
            account=foreign, sender=A, text="x", received_at=timezone.now(), ref="f1"
        )
        rlist = make_recipient_list(foreign)
        StopListEntry.objects.create(account=foreign, number=A)
        paths = [
            f"/sms/{sn}/phonebooks/{other_book.pk}",
            f"/sms/{sn}/phonebooks/{other_book.pk}/phonebookContact/{contact.pk}",
            f"/sms/{sn}/senders/THEIRS",
            f"/sms/{sn}/incoming/{reply.pk}",
            f"/sms/{sn}/receivers/{rlist.slot}",
            f"/sms/{sn}/blacklists/{A}",
        ]
        for path in paths:
            assert api_client.get(path).status_code == 404, path
            assert api_client.delete(path).status_code == 404, path
        assert Contact.objects.filter(pk=contact.pk).exists()
        assert Sender.objects.filter(sender="THEIRS").exists()

    def test_another_accounts_messages(self, api_client, client, foreign, outsider, sn):
        from accounts.services import credits_add

        from .conftest import SignedClient, make_key

        credits_add(account=foreign, amount=5, kind=CreditMovement.Kind.ORDER, key="t")
        app, secret, _ck, key = make_key(foreign, outsider)
        theirs = SignedClient(client, app.app_key, secret, key)
        job_id = _send(theirs, foreign.name, receivers=[A], differedPeriod=60).json()["ids"][0]
        assert api_client.get(f"/sms/{sn}/jobs/{job_id}").status_code == 404
        assert api_client.delete(f"/sms/{sn}/jobs/{job_id}").status_code == 404
        assert api_client.get(f"/sms/{sn}/outgoing/{job_id}").status_code == 404
        assert OutgoingMessage.objects.get(pk=job_id).status == OutgoingMessage.Status.QUEUED


class TestOddInput:
    """Odd identifiers, dates and bodies are 4xx answers in OVHcloud's JSON, never a 500."""

    @pytest.mark.parametrize("slot", ["\u00b2", "9" * 5000, "1.0", "-1"])
    def test_a_receivers_slot_id_that_is_not_a_number(self, api_client, account, sn, slot):
        make_recipient_list(account)
        response = _send(api_client, sn, receiversSlotId=slot)
        assert response.status_code == 400
        assert response.json()["errorCode"] == "INVALID_PARAMETERS"
        assert not SmsJob.objects.exists()

    @pytest.mark.parametrize("book_key", ["\u00b2", "9" * 5000])
    def test_a_book_key_that_is_not_a_number(self, api_client, account, sn, book_key):
        BookFactory(account=account)
        for path in ["", "/phonebookContact"]:
            response = api_client.get(f"/sms/{sn}/phonebooks/{book_key}{path}")
            assert response.status_code == 404, path
            assert response.json()["errorCode"] == "NOT_FOUND"

    @pytest.mark.parametrize(
        "query",
        [
            "creationDatetime.from=0001-01-01T00:00:00",  # year 0 once in UTC
            "creationDatetime.from=0001-01-01T00:00:00%2B05:00",
            "creationDatetime.to=9999-12-31T23:59:59-14:00",  # year 10000 in UTC
        ],
    )
    def test_dates_the_database_cannot_hold(self, api_client, sn, query):
        for route in ["outgoing", "incoming"]:
            response = api_client.get(f"/sms/{sn}/{route}?{query}")
            assert response.status_code == 400, route
            assert "creationDatetime" in response.json()["message"]

    def test_the_widest_dates_that_fit_still_filter(self, api_client, sn):
        query = "creationDatetime.from=0001-01-01T00:00:00Z&creationDatetime.to=9999-12-31T00:00:00"
        assert api_client.get(f"/sms/{sn}/outgoing?{query}").json() == []

    def test_a_batch_id_that_is_not_a_uuid(self, api_client, sn):
        response = api_client.get(f"/sms/{sn}/outgoing?batchID={2**63}")
        assert response.status_code == 400
        assert "batchID" in response.json()["message"]

    def test_a_body_over_the_upload_limit_is_a_json_400(self, api_client, sn, settings):
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
        response = _send(api_client, sn, receivers=[A] * 2000)
        assert response.status_code == 400
        assert response.json()["message"] == "Request body too large"
        assert not SmsJob.objects.exists()


class TestCancelMoney:
    def test_cancelling_the_job_after_one_of_its_messages_refunds_only_the_rest(
        self, api_client, account, sn
    ):
        """The panel loads the job, then cancels it; a DELETE /jobs/{id} can land in between.
        The job's refund is what is left, not what the page read."""
        from messaging import services as sending

        ids = _send(api_client, sn, receivers=[A, B], differedPeriod=60).json()["ids"]
        page_job = SmsJob.objects.get()  # read by the panel's cancel view
        assert page_job.credits == Decimal("2.00")
        assert api_client.delete(f"/sms/{sn}/jobs/{ids[0]}").status_code == 200

        assert sending.job_cancel(job=page_job) is True

        assert credits(account) == Decimal("100.00")
        assert page_job.credits == Decimal("1.00")  # what the panel's message announces
        refunds = CreditMovement.objects.filter(account=account, kind=CreditMovement.Kind.REFUND)
        assert sorted(refunds.values_list("amount", flat=True)) == [Decimal("1.00")] * 2


def _upload(api_client, name: str, content: bytes) -> str:
    doc = api_client.post("/me/document", {"name": name}).json()
    put_path = doc["putUrl"].removeprefix("http://testserver")
    response = api_client.client.put(put_path, data=content, content_type="text/csv")
    assert response.status_code == 200, response.content
    return doc["id"]


class TestDocumentsAndFiles:
    def test_a_document_then_a_recipient_list_in_the_asked_slot(self, api_client, account, sn):
        doc_id = _upload(api_client, "clients.csv", b"number\n+33612345678\n0612345679\nbad\n")
        assert api_client.get(f"/me/document/{doc_id}").json()["size"] == 35
        response = api_client.post(f"/sms/{sn}/receivers", {
            "slotId": 4, "description": "  Clients   fidèles ", "autoUpdate": False,
            "documentId": doc_id})  # fmt: skip
        assert response.status_code == 200, response.content
        body = response.json()
        assert (body["slotId"], body["description"], body["records"]) == (4, "Clients fidèles", 2)
        rlist = account.recipient_lists.get()
        assert rlist.slot == 4
        taken = api_client.post(f"/sms/{sn}/receivers", {
            "slotId": 4, "description": "Again", "documentId": doc_id})  # fmt: skip
        assert taken.status_code == 400
        assert "slot 4" in taken.json()["message"]

    def test_a_list_whose_every_line_is_wrong_names_the_line(self, api_client, sn):
        doc_id = _upload(api_client, "bad.csv", b"number\nhello\n")
        response = api_client.post(f"/sms/{sn}/receivers", {
            "slotId": 1, "description": "x", "documentId": doc_id})  # fmt: skip
        assert response.status_code == 400
        assert "on line 2" in response.json()["message"]

    def test_an_excel_document_is_not_a_recipient_list(self, api_client, sn):
        doc_id = _upload(api_client, "clients.xlsx", b"PK\x03\x04")
        response = api_client.post(f"/sms/{sn}/receivers", {
            "slotId": 1, "description": "x", "documentId": doc_id})  # fmt: skip
        assert response.status_code == 400
        assert ".csv" in response.json()["message"]

    def test_csv_url_to_a_private_address_is_refused(self, api_client, sn):
        response = api_client.post(f"/sms/{sn}/receivers", {
            "slotId": 1, "description": "x", "csvUrl": "http://127.0.0.1:9/x.csv"})  # fmt: skip
        assert response.status_code == 400
        assert "private" in response.json()["message"]

    def test_a_document_is_uploaded_once_and_within_the_size_limit(self, api_client, settings):
        doc = api_client.post("/me/document", {"name": "a.csv"}).json()
        put_path = doc["putUrl"].removeprefix("http://testserver")
        settings.CONTACT_IMPORT_MAX_BYTES = 10
        too_big = api_client.client.put(put_path, data=b"x" * 11, content_type="text/csv")
        assert too_big.status_code == 400
        settings.CONTACT_IMPORT_MAX_BYTES = 100
        assert (
            api_client.client.put(put_path, data=b"number\n", content_type="text/csv").status_code
            == 200
        )
        again = api_client.client.put(put_path, data=b"number\n", content_type="text/csv")
        assert again.status_code == 409

    def test_documents_belong_to_their_application(self, api_client, client, account, owner):
        from .conftest import SignedClient, make_key

        doc_id = _upload(api_client, "a.csv", b"number\n+33612345678\n")
        app, secret, _ck, key = make_key(account, owner)
        other = SignedClient(client, app.app_key, secret, key)
        assert other.get(f"/me/document/{doc_id}").status_code == 404
        assert other.get("/me/document").json() == []
        response = other.post(f"/sms/{account.name}/receivers", {
            "slotId": 1, "description": "x", "documentId": doc_id})  # fmt: skip
        assert response.status_code == 404

    def test_phonebook_import_from_a_document(
        self, api_client, account, sn, django_capture_on_commit_callbacks, monkeypatch
    ):
        from addressbooks import services as book_services
        from addressbooks import tasks
        from addressbooks.models import ContactImport

        queued = []
        monkeypatch.setattr(tasks.contact_import, "delay", queued.append)
        book = BookFactory(account=account)
        doc_id = _upload(
            api_client, "c.csv", "Nom;Prénom;Mobile\nCurie;Marie;0612345678\n".encode()
        )
        with django_capture_on_commit_callbacks(execute=True):
            response = api_client.post(
                f"/sms/{sn}/phonebooks/{book.pk}/import", {"documentId": doc_id}
            )
        assert response.status_code == 200, response.content
        task = response.json()
        assert task["status"] == "todo"
        assert queued == [task["taskId"]]
        book_services.contact_import_run(task["taskId"])
        assert ContactImport.objects.get(pk=task["taskId"]).status == "done"
        assert list(book.contacts.values_list("surname", "home_mobile")) == [("Curie", A)]


class TestAccountUpdate:
    def test_description_and_callbacks(self, api_client, account, sn, settings):
        settings.CALLBACKS_ALLOW_PRIVATE = True
        response = api_client.put(f"/sms/{sn}", {"description": "Boutique",
                                                 "callBack": "https://example.com/dlr"})  # fmt: skip
        assert response.status_code == 200, response.content
        info = api_client.get(f"/sms/{sn}").json()
        assert info["description"] == "Boutique"
        assert info["callBack"] == "https://example.com/dlr"
        assert info["stopCallBack"] is None

    def test_a_callback_to_a_private_address_is_refused(self, api_client, sn):
        response = api_client.put(f"/sms/{sn}", {"callBack": "http://10.0.0.1/dlr"})
        assert response.status_code == 400
        assert "cannot be used" in response.json()["message"]


def test_expired_documents_are_purged_with_their_files(api_client):
    from datetime import timedelta

    from api.models import ApiDocument
    from api.services import documents_purge

    doc_id = _upload(api_client, "a.csv", b"number\n+33612345678\n")
    keep_id = _upload(api_client, "b.csv", b"number\n+33612345679\n")
    doc = ApiDocument.objects.get(pk=doc_id)
    storage, name = doc.file.storage, doc.file.name
    ApiDocument.objects.filter(pk=doc_id).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert documents_purge() == 1
    assert not storage.exists(name)
    assert list(ApiDocument.objects.values_list("pk", flat=True)) == [int(keep_id)]
    assert api_client.get(f"/me/document/{doc_id}").status_code == 404


class TestSendersAvailableForValidation:
    def test_profile_and_domain_names_are_offered_then_enabled_at_once(self, api_client, account,
                                                                       owner, sn):  # fmt: skip
        from senders.models import Domain

        owner.company = "Boulangerie Martin"
        owner.save()
        Domain.objects.create(account=account, name="exemple.fr")
        offered = api_client.get(f"/sms/{sn}/sendersAvailableForValidation").json()
        names = {o["sender"]: o["referer"] for o in offered}
        assert "nichandle" in names.values() and "domain" in names.values()
        only_domains = api_client.get(f"/sms/{sn}/sendersAvailableForValidation?referer=domain")
        assert {o["referer"] for o in only_domains.json()} == {"domain"}

        name = next(n for n, kind in names.items() if kind == "domain")
        created = api_client.post(f"/sms/{sn}/senders", {
            "sender": name, "reason": "sendersAvailableForValidation"})  # fmt: skip
        assert created.status_code == 200, created.content
        assert created.json() == name
        assert api_client.get(f"/sms/{sn}/senders/{name}").json()["status"] == "enable"
        assert Sender.objects.get(account=account, sender=name).status == Sender.Status.ENABLE
        assert name not in {o["sender"] for o in
                            api_client.get(f"/sms/{sn}/sendersAvailableForValidation").json()}  # fmt: skip

    def test_a_name_not_offered_is_refused(self, api_client, account, sn):
        response = api_client.post(f"/sms/{sn}/senders", {
            "sender": "IMPOTS", "reason": "sendersAvailableForValidation"})  # fmt: skip
        assert response.status_code == 400
        assert not Sender.objects.exists()
