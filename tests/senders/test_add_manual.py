"""« Ajouter un expéditeur », manual mode: the rules of the name, the justification and the
supporting documents, checked before anything is stored."""

import html

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from senders.models import Sender, SenderDocument
from tests.senders.conftest import stored_files
from tests.senders.factories import (
    ENCRYPTED_PDF,
    EXE,
    FAKE_PDF,
    FAKE_PNG,
    JPEG,
    PDF,
    PNG,
    SenderFactory,
)

pytestmark = pytest.mark.django_db

MB = 1_000_000


def add_url(account):
    return reverse("senders:add", args=[account.name])


def text(response):
    return html.unescape(response.content.decode())


def request_data(**overrides):
    data = {
        "mode": "manual",
        "sender": "BOUTIQUE",
        "description": "Main shop",
        "reason": "It is the trade name of our shop.",
    }
    data.update(overrides)
    return data


def pdf(name="kbis.pdf", content=PDF):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def errors(response, field):
    return response.context["form"].errors.get(field, [])


def test_the_page_offers_the_three_ways(owner_client, english, account):
    response = owner_client.get(add_url(account))

    body = text(response)
    assert response.status_code == 200
    assert response.context["mode"] == "manual"
    assert [value for value, _label in response.context["modes"]] == [
        "manual",
        "personal",
        "domain",
    ]
    assert 'type="radio" name="mode" value="manual"' in body
    assert "Mobile operators forbid sending SMS with phone numbers as the sender." in body
    assert "Monday to Friday from 8 am to 8 pm" in body
    assert 'enctype="multipart/form-data"' in body


def test_htmx_gets_the_mode_panel_only(owner_client, account):
    response = owner_client.get(add_url(account), {"mode": "domain"}, HTTP_HX_REQUEST="true")

    body = text(response)
    assert body.lstrip().startswith('<div id="mode-panel" data-testid="mode-domain">')
    assert "<html" not in body


def test_it_creates_a_waiting_request_with_documents(owner_client, account, media):
    response = owner_client.post(
        add_url(account),
        request_data(
            documents=[
                pdf("Extrait Kbis.pdf"),
                SimpleUploadedFile("logo.png", PNG),
                SimpleUploadedFile("photo", JPEG),
            ]
        ),
    )

    assert response.status_code == 302
    assert response.url == reverse("senders:list", args=[account.name])
    sender = Sender.objects.get(account=account)
    assert (sender.sender, sender.status, sender.type, sender.referer) == (
        "BOUTIQUE",
        "waitingValidation",
        "alpha",
        "custom",
    )
    assert sender.description == "Main shop"
    assert sender.reason == "It is the trade name of our shop."
    documents = list(sender.documents.order_by("id"))
    assert [(d.original_name, d.content_type, d.size) for d in documents] == [
        ("Extrait Kbis.pdf", "application/pdf", len(PDF)),
        ("logo.png", "image/png", len(PNG)),
        ("photo", "image/jpeg", len(JPEG)),
    ]
    # Stored under a random name inside MEDIA_ROOT, with the sniffed extension.
    assert len(stored_files(media)) == 3
    assert documents[0].file.name.startswith(f"sender-documents/{account.pk}/")
    assert documents[0].file.name.endswith(".pdf")
    assert "Kbis" not in documents[0].file.name
    assert documents[0].file.read() == PDF


def test_documents_are_optional(owner_client, account):
    response = owner_client.post(add_url(account), request_data())

    assert response.status_code == 302
    assert Sender.objects.get(account=account).documents.count() == 0


@pytest.mark.parametrize(
    "name, message",
    [
        ("BOUTIQUE-PARIS", "The sender cannot exceed 11 characters."),
        ("Café", "The sender may only contain letters, digits, spaces"),
        ("0612345678", "Mobile operators forbid sending SMS with phone numbers as the sender."),
        ("+3361234567", "Mobile operators forbid"),
        ("", "This field is required."),
    ],
)
def test_it_refuses_bad_names(owner_client, english, account, name, message):
    response = owner_client.post(add_url(account), request_data(sender=name))

    assert response.status_code == 200
    assert any(message in e for e in errors(response, "sender")), errors(response, "sender")
    assert message in text(response)
    assert not Sender.objects.exists()


def test_the_justification_is_required_and_short(owner_client, account):
    missing = owner_client.post(add_url(account), request_data(reason=""))
    too_long = owner_client.post(add_url(account), request_data(reason="x" * 251))

    assert errors(missing, "reason")
    assert errors(too_long, "reason")
    assert not Sender.objects.exists()


def test_the_description_is_40_characters_at_most(owner_client, account):
    response = owner_client.post(add_url(account), request_data(description="d" * 41))

    assert errors(response, "description")
    assert not Sender.objects.exists()


@pytest.mark.parametrize("existing", ["BOUTIQUE", "Boutique"])
def test_a_duplicate_is_refused_with_a_message(owner_client, english, account, existing):
    SenderFactory(account=account, sender=existing, status="enable")

    response = owner_client.post(add_url(account), request_data(sender="BOUTIQUE"))

    assert response.status_code == 200
    assert "already exists on this account" in text(response)
    assert Sender.objects.filter(account=account).count() == 1


def test_a_duplicate_created_meanwhile_is_a_form_error_not_a_500(
    owner_client, english, account, monkeypatch
):
    """The form's check passed, then a concurrent request won: the unique constraint answers."""
    from senders import selectors, services

    SenderFactory(account=account, sender="BOUTIQUE")
    monkeypatch.setattr(selectors, "sender_names", lambda account: set())
    monkeypatch.setattr(services, "_name_taken", lambda account, name: False)

    response = owner_client.post(add_url(account), request_data(sender="BOUTIQUE"))

    assert response.status_code == 200
    assert "already exists on this account" in text(response)
    assert Sender.objects.filter(account=account).count() == 1


def test_the_same_name_on_another_account_is_fine(owner_client, account):
    SenderFactory(sender="BOUTIQUE")

    response = owner_client.post(add_url(account), request_data())

    assert response.status_code == 302


# --- documents: refused before anything is stored ---------------------------------------------


def assert_nothing_stored(media):
    assert not Sender.objects.exists()
    assert not SenderDocument.objects.exists()
    assert stored_files(media) == []


def test_an_11_mb_document_is_refused(owner_client, english, account, media):
    big = pdf("big.pdf", PDF + b"0" * (11 * MB))

    response = owner_client.post(add_url(account), request_data(documents=[pdf(), big]))

    assert response.status_code == 200
    assert "big.pdf: a document cannot exceed 10 MB." in errors(response, "documents")
    assert_nothing_stored(media)


def test_a_document_of_exactly_10_mb_is_accepted(owner_client, account, media):
    exact = pdf("exact.pdf", PDF + b"0" * (10 * MB - len(PDF)))

    response = owner_client.post(add_url(account), request_data(documents=[exact]))

    assert response.status_code == 302
    assert SenderDocument.objects.get().size == 10 * MB


def test_a_renamed_executable_is_refused(owner_client, english, account, media):
    fake = SimpleUploadedFile("x.pdf", EXE, content_type="application/pdf")

    response = owner_client.post(add_url(account), request_data(documents=[pdf(), fake]))

    assert response.status_code == 200
    assert errors(response, "documents") == [
        "x.pdf: only PDF, JPEG and PNG documents are accepted."
    ]
    assert_nothing_stored(media)


def test_a_real_pdf_named_exe_is_accepted(owner_client, account):
    """The content decides, not the name."""
    response = owner_client.post(
        add_url(account), request_data(documents=[SimpleUploadedFile("scan.exe", PDF)])
    )

    assert response.status_code == 302
    assert SenderDocument.objects.get().content_type == "application/pdf"


def test_an_empty_file_is_refused(owner_client, account, media):
    response = owner_client.post(
        add_url(account), request_data(documents=[SimpleUploadedFile("empty.pdf", b"")])
    )

    assert errors(response, "documents")
    assert_nothing_stored(media)


def test_eleven_documents_are_refused(owner_client, english, account, media):
    documents = [pdf(f"doc{i}.pdf") for i in range(11)]

    response = owner_client.post(add_url(account), request_data(documents=documents))

    assert response.status_code == 200
    assert errors(response, "documents") == ["You can attach at most 10 documents."]
    assert_nothing_stored(media)


def test_ten_documents_are_accepted(owner_client, account, media):
    documents = [pdf(f"doc{i}.pdf") for i in range(10)]

    response = owner_client.post(add_url(account), request_data(documents=documents))

    assert response.status_code == 302
    assert SenderDocument.objects.count() == 10
    assert len(stored_files(media)) == 10


@pytest.mark.parametrize(
    "content",
    [FAKE_PDF, FAKE_PNG, PDF[: len(PDF) // 2], JPEG[:20], ENCRYPTED_PDF],
    ids=["pdf-header-only", "png-header-only", "truncated-pdf", "truncated-jpeg", "encrypted"],
)
def test_a_document_that_only_starts_right_is_refused(owner_client, account, media, content):
    response = owner_client.post(
        add_url(account), request_data(documents=[pdf("kbis.pdf", content)])
    )

    assert response.status_code == 200
    assert "kbis.pdf : ce document ne peut pas être ouvert" in response.context["form"].errors[
        "documents"
    ][0]
    assert not Sender.objects.exists() and stored_files(media) == []


def test_limits_are_checked_before_reading_any_content(owner_client, account, monkeypatch):
    """Count and sizes come from the upload's metadata: no content is read when they fail."""
    from senders import forms

    read = []
    monkeypatch.setattr(forms, "sniff_content_type", lambda f: read.append(f) or None)

    owner_client.post(
        add_url(account), request_data(documents=[pdf(f"d{i}.pdf") for i in range(11)])
    )
    owner_client.post(add_url(account), request_data(documents=[pdf("big.pdf", b"0" * (11 * MB))]))

    assert read == []


def test_a_failed_save_leaves_no_file_behind(owner_client, account, media, monkeypatch):
    from senders.models import SenderDocument as Model

    real_save = Model.save
    calls = []

    def save(self, *args, **kwargs):
        calls.append(self)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real_save(self, *args, **kwargs)

    monkeypatch.setattr(Model, "save", save)
    owner_client.raise_request_exception = False

    response = owner_client.post(
        add_url(account), request_data(documents=[pdf("a.pdf"), pdf("b.pdf")])
    )

    assert response.status_code == 500
    assert_nothing_stored(media)


def test_it_checks_ownership(client, account, outsider, media):
    client.force_login(outsider)

    get = client.get(add_url(account))
    post = client.post(add_url(account), request_data(documents=[pdf()]))

    assert (get.status_code, post.status_code) == (404, 404)
    assert_nothing_stored(media)
