"""Personal data of one number: found across books, lists, sent and received SMS, lookups and
the STOP list; exported as JSON; erased by an owner (the STOP entry kept)."""

import json
from decimal import Decimal

import pytest

from accounts.models import AuditEvent
from addressbooks.models import AddressBook, Contact, RecipientList, RecipientListNumber
from messaging.models import (
    HlrLookup,
    IncomingMessage,
    OutgoingMessage,
    ShortLink,
    SmsJob,
    StopListEntry,
)
from tests.accounts.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

NUMBER, OTHER = "+33612345678", "+33698765432"


def url(account):
    return f"/sms/{account.name}/personal-data/"


@pytest.fixture
def held(account):
    """The number everywhere in `account`, beside another number that must stay untouched."""
    book = AddressBook.objects.create(account=account, name="Clients", contacts_count=2)
    Contact.objects.create(book=book, name="Alice", surname="Durand", home_mobile=NUMBER)
    Contact.objects.create(book=book, name="Bruno", work_mobile=OTHER)
    rlist = RecipientList.objects.create(account=account, slot=1, description="VIP", records=2)
    RecipientListNumber.objects.bulk_create(
        [RecipientListNumber(rlist=rlist, number=n) for n in (NUMBER, OTHER)]
    )
    job = SmsJob.objects.create(
        account=account,
        message="Bonjour",
        encoding="GSM-7",
        segments=1,
        credits=Decimal("2"),
        status="done",
    )
    for receiver, text in [(NUMBER, "Bonjour Alice"), (OTHER, "Bonjour Bruno")]:
        OutgoingMessage.objects.create(
            job=job,
            account=account,
            receiver=receiver,
            country="FR",
            parts=1,
            credits=Decimal("1"),
            status="delivered",
            text=text,
        )
    ShortLink.objects.create(code="abc123", job=job, receiver=NUMBER, url="https://e.fr", clicks=2)
    IncomingMessage.objects.create(
        account=account, sender=NUMBER, text="STOP", received_at=job.created_at, ref="r1"
    )
    StopListEntry.objects.create(account=account, number=NUMBER)
    HlrLookup.objects.create(account=account, number=NUMBER, credits=Decimal("0.1"))
    return book, rlist


def test_it_finds_the_number_as_typed_nationally(owner_client, account, held):
    page = owner_client.get(url(account), {"number": "06 12 34 56 78"})

    data = page.context["data"]
    assert data.number == NUMBER
    assert [str(c) for c in data.contacts] == ["Alice Durand"]
    assert [e.rlist.slot for e in data.list_entries] == [1]
    assert [m.text for m in data.sent] == ["Bonjour Alice"]
    assert [m.text for m in data.received] == ["STOP"]
    assert len(data.lookups) == 1 and data.stop_entry is not None


def test_it_exports_json_and_says_the_stop_entry_is_kept(owner_client, account, held):
    response = owner_client.get(f"{url(account)}export.json", {"number": NUMBER})

    assert response["Content-Disposition"].startswith("attachment;")
    export = json.loads(response.content)
    assert export["contacts"][0]["numbers"] == {"home_mobile": NUMBER}
    assert [(m["text"], m["link_clicks"]) for m in export["sms_sent"]] == [("Bonjour Alice", 2)]
    assert export["sms_received"][0]["text"] == "STOP"
    assert export["stop_list"]["note"]
    assert "Bruno" not in response.content.decode()
    assert AuditEvent.objects.filter(action="data_exported", account=account).exists()


def test_an_owner_erases_it_and_the_stop_entry_stays(owner_client, account, held):
    book, rlist = held

    response = owner_client.post(url(account), {"number": NUMBER, "confirm": "yes"})

    assert response.status_code == 302
    assert list(Contact.objects.values_list("name", flat=True)) == ["Bruno"]
    assert list(RecipientListNumber.objects.values_list("number", flat=True)) == [OTHER]
    assert not IncomingMessage.objects.exists()
    assert not HlrLookup.objects.exists()
    assert StopListEntry.objects.get().number == NUMBER
    receivers = set(OutgoingMessage.objects.values_list("receiver", "text"))
    erased = OutgoingMessage.objects.exclude(receiver=OTHER).get()
    assert receivers == {(OTHER, "Bonjour Bruno"), (erased.receiver, "")}
    assert erased.receiver.startswith("erased-")
    assert ShortLink.objects.get().receiver == erased.receiver
    book.refresh_from_db()
    rlist.refresh_from_db()
    assert (book.contacts_count, rlist.records) == (1, 1)
    event = AuditEvent.objects.get(action="data_erased")
    assert NUMBER not in event.detail and event.account == account
    page = owner_client.get(url(account), {"number": NUMBER})
    assert page.context["data"].stop_entry is not None


def test_erasure_needs_the_confirmation(owner_client, account, held):
    owner_client.post(url(account), {"number": NUMBER})

    assert Contact.objects.count() == 2


def test_erasure_waits_for_messages_being_sent(owner_client, account, held):
    OutgoingMessage.objects.filter(receiver=NUMBER).update(status="queued")

    response = owner_client.post(url(account), {"number": NUMBER, "confirm": "yes"})

    assert response.status_code == 302
    assert Contact.objects.count() == 2
    assert OutgoingMessage.objects.filter(receiver=NUMBER).exists()


def test_a_member_can_export_but_not_erase(client, account, held):
    member = UserFactory()
    MembershipFactory(user=member, account=account, role="member")
    client.force_login(member)

    client.post(url(account), {"number": NUMBER, "confirm": "yes"})

    assert Contact.objects.count() == 2


def test_an_outsider_gets_404(client, outsider, account, held):
    client.force_login(outsider)

    assert client.get(url(account), {"number": NUMBER}).status_code == 404
    assert client.get(f"{url(account)}export.json", {"number": NUMBER}).status_code == 404
    assert client.post(url(account), {"number": NUMBER, "confirm": "yes"}).status_code == 404
    assert Contact.objects.count() == 2


def test_a_wrong_number_is_said_so(owner_client, account):
    page = owner_client.get(url(account), {"number": "hello"})

    assert page.context["error"]
    assert page.context["data"] is None
