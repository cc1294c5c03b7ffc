import pytest
from django.urls import reverse
from django.utils import timezone

from core import recipients
from messaging import dispatch, services
from messaging import reports as received
from messaging.models import IncomingMessage, OutgoingMessage, StopListEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(account, owner, scripted_operator):
    """A job to two numbers, submitted to the operator (ids op-<message id>)."""
    job = services.job_submit(
        account=account,
        user=owner,
        message="Promo",
        parsed=recipients.parse("+33612345671\n+33612345672", "FR"),
        stop_clause=False,
        tag="noel",
    )
    dispatch.pump()
    return job


def reply(message, text, **extra):
    return {"operator_id": message.operator_id, "text": text, **extra}


def test_replies_are_stored_once_and_stop_lists_the_number(sent, owner_client, account):
    first, second = OutgoingMessage.objects.filter(job=sent).order_by("id")
    batch = [
        reply(first, "Merci !", at="2026-11-25T10:00:00+00:00"),
        reply(second, "STOP"),
    ]
    received.incoming_messages_receive(replies=batch)
    received.incoming_messages_receive(replies=batch[:1])  # a retried callback

    assert IncomingMessage.objects.count() == 2
    merci = IncomingMessage.objects.get(text="Merci !")
    assert (merci.sender, merci.tag, merci.outgoing_id) == ("+33612345671", "noel", first.pk)
    assert list(StopListEntry.objects.values_list("number", flat=True)) == ["+33612345672"]

    html = owner_client.get(reverse("messaging:received", args=[account.name])).content.decode()
    assert "Merci !" in html and "+33612345671" in html and "noel" in html


def test_received_filter_delete_and_export(sent, owner_client, account):
    first, second = OutgoingMessage.objects.filter(job=sent).order_by("id")
    received.incoming_messages_receive(
        replies=[reply(first, '=HYPERLINK("x")'), reply(second, "Bien reçu")]
    )
    url = reverse("messaging:received", args=[account.name])
    html = owner_client.get(url, {"number": "06 12 34 56 72"}).content.decode()
    assert "Bien reçu" in html and "HYPERLINK" not in html

    export = owner_client.get(reverse("messaging:received_export", args=[account.name]))
    body = b"".join(export.streaming_content).decode()
    assert body.startswith("\ufeff")
    assert "'=HYPERLINK" in body and ";=HYPERLINK" not in body and ';"=HYPERLINK' not in body

    incoming = IncomingMessage.objects.get(text="Bien reçu")
    owner_client.post(reverse("messaging:received_delete", args=[account.name, incoming.pk]))
    assert not IncomingMessage.objects.filter(pk=incoming.pk).exists()


def test_stoplist_add_search_remove_with_confirmation(owner_client, account):
    url = reverse("messaging:stoplist", args=[account.name])
    owner_client.post(url, {"number": "06 12 34 56 78"})
    response = owner_client.post(url, {"number": "+33612345678"})
    assert 'class="field-errors"' in response.content.decode()
    response = owner_client.post(url, {"number": "12"})
    assert response.status_code == 200
    assert StopListEntry.objects.count() == 1
    entry = StopListEntry.objects.get()
    assert entry.number == "+33612345678"

    html = owner_client.get(url, {"number": "+3361"}).content.decode()
    assert "+33612345678" in html
    html = owner_client.get(url, {"number": "+3370"}).content.decode()
    assert "+33612345678" not in html

    remove = reverse("messaging:stoplist_remove", args=[account.name, entry.pk])
    owner_client.post(remove, {})  # no confirmation: nothing happens
    assert StopListEntry.objects.filter(pk=entry.pk).exists()
    owner_client.post(remove, {"confirm": "on"})
    assert not StopListEntry.objects.filter(pk=entry.pk).exists()


def test_a_stop_listed_number_is_skipped_and_not_charged(owner_client, account, owner):
    owner_client.post(
        reverse("messaging:stoplist", args=[account.name]), {"number": "+33612345678"}
    )
    job = services.job_submit(
        account=account,
        user=owner,
        message="Promo",
        parsed=recipients.parse("+33612345678\n+33612345679", "FR"),
        stop_clause=False,
        scheduled_at=timezone.now() + timezone.timedelta(hours=1),
    )
    assert job.credits == 1
    assert job.stoplisted_count == 1
    export = owner_client.get(reverse("messaging:stoplist_export", args=[account.name]))
    assert "+33612345678" in b"".join(export.streaming_content).decode()


def test_outsider_gets_404(client, outsider, account):
    entry = StopListEntry.objects.create(account=account, number="+33612345678")
    client.force_login(outsider)
    for url in [
        reverse("messaging:received", args=[account.name]),
        reverse("messaging:stoplist", args=[account.name]),
        reverse("messaging:stoplist_remove", args=[account.name, entry.pk]),
        reverse("messaging:stoplist_export", args=[account.name]),
    ]:
        assert client.get(url).status_code == 404


def test_received_filters_by_date(owner_client, account):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    paris = ZoneInfo("Europe/Paris")
    for day, text in [(1, "premier"), (2, "deuxième"), (3, "troisième")]:
        IncomingMessage.objects.create(
            account=account,
            sender="+33612345678",
            text=text,
            received_at=datetime(2026, 11, day, 23, 30, tzinfo=paris),
            ref=f"d{day}",
        )
    url = reverse("messaging:received", args=[account.name])
    html = owner_client.get(url, {"date_from": "2026-11-02", "date_to": "2026-11-02"}).content
    html = html.decode()
    assert "deuxième" in html and "premier" not in html and "troisième" not in html
