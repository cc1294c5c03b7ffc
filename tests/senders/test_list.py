"""The senders page: the table, its labels, and who may see it."""

import html

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from senders.models import Sender, SenderDocument
from tests.senders.factories import PDF, SenderFactory

pytestmark = pytest.mark.django_db


def list_url(account):
    return reverse("senders:list", args=[account.name])


def text(response):
    return html.unescape(response.content.decode())


def test_it_lists_the_account_senders_with_their_columns(owner_client, english, account):
    SenderFactory(account=account, sender="BOUTIQUE", status="enable", description="Shop")
    SenderFactory(account=account, sender="PROMO", status="refused", comment="Brand not proven")
    SenderFactory(account=account, sender="MAIRIE", status="waitingValidation")
    SenderFactory(sender="OTHER")  # another account's

    response = owner_client.get(list_url(account))

    assert response.status_code == 200
    body = text(response)
    assert [s.sender for s in response.context["senders"]] == ["BOUTIQUE", "MAIRIE", "PROMO"]
    for label in ["Sender", "Type", "Description", "Status", "Comment"]:
        assert f">{label}</th>" in body
    assert "Brand not proven" in body
    assert "Validation in progress" in body
    assert "OTHER" not in body
    assert response.context["tab"] == "senders"


def test_it_shows_french_status_labels_by_default(owner_client, account):
    for status in Sender.Status.values:
        SenderFactory(account=account, status=status)

    body = text(owner_client.get(list_url(account)))

    for label in ["Validation en cours", "Activé", "Désactivé", "Refusé"]:
        assert label in body


def test_members_see_it_too(client, account, member):
    SenderFactory(account=account, sender="BOUTIQUE")
    client.force_login(member)

    response = client.get(list_url(account))

    assert response.status_code == 200
    assert "BOUTIQUE" in text(response)


def test_it_lists_document_names_only(owner_client, account):
    sender = SenderFactory(account=account)
    SenderDocument.objects.create(
        sender=sender,
        file=ContentFile(PDF, name="kbis.pdf"),
        original_name="Extrait Kbis.pdf",
        content_type="application/pdf",
        size=len(PDF),
    )

    body = text(owner_client.get(list_url(account)))

    assert "Extrait Kbis.pdf" in body
    assert "sender-documents/" not in body  # never the stored path


def test_it_checks_ownership(client, account, outsider):
    SenderFactory(account=account, sender="BOUTIQUE")
    client.force_login(outsider)

    assert client.get(list_url(account)).status_code == 404


def test_anonymous_visitors_log_in_first(client, account):
    response = client.get(list_url(account))

    assert response.status_code == 302
    assert response.url.startswith("/login/")


def test_its_query_count_does_not_grow_with_senders(
    owner_client, account, django_assert_max_num_queries
):
    sender = SenderFactory(account=account)
    SenderDocument.objects.create(
        sender=sender, file=ContentFile(PDF, name="a.pdf"), original_name="a.pdf",
        content_type="application/pdf", size=len(PDF),
    )  # fmt: skip
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        owner_client.get(list_url(account))
    for _ in range(10):
        other = SenderFactory(account=account)
        SenderDocument.objects.create(
            sender=other, file=ContentFile(PDF, name="b.pdf"), original_name="b.pdf",
            content_type="application/pdf", size=len(PDF),
        )  # fmt: skip

    with django_assert_max_num_queries(len(one.captured_queries)):
        response = owner_client.get(list_url(account))
    assert len(response.context["senders"]) == 11
