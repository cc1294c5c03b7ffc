"""senders.services and the model methods, called directly."""

import logging

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from senders import services
from senders.models import Sender
from tests.senders.conftest import stored_files
from tests.senders.factories import EXE, PDF, SenderFactory

pytestmark = pytest.mark.django_db


def test_request_create_rejects_an_unchecked_document(account, media):
    with pytest.raises(services.SenderError):
        services.sender_request_create(
            account=account,
            sender="BOUTIQUE",
            reason="Trade name",
            documents=[SimpleUploadedFile("a.pdf", PDF), SimpleUploadedFile("b.pdf", EXE)],
        )

    assert not Sender.objects.exists()
    assert stored_files(media) == []


def test_request_create_refuses_duplicates(account):
    SenderFactory(account=account, sender="Boutique")

    with pytest.raises(services.SenderExists):
        services.sender_request_create(account=account, sender="BOUTIQUE", reason="x")


def test_approve_then_refuse_is_refused(account, staff, django_capture_on_commit_callbacks):
    sender = SenderFactory(account=account)

    with django_capture_on_commit_callbacks(execute=True):
        services.sender_approve(sender, staff)
        with pytest.raises(services.NotWaiting):
            services.sender_refuse(sender, staff, "Too late")
        with pytest.raises(services.NotWaiting):
            services.sender_approve(sender, staff)

    assert sender.status == "enable"
    assert len(mail.outbox) == 1


def test_refuse_needs_a_reason(account, staff):
    sender = SenderFactory(account=account)

    with pytest.raises(services.SenderError):
        services.sender_refuse(sender, staff, "   ")

    sender.refresh_from_db()
    assert sender.status == "waitingValidation"


def test_decisions_are_logged(account, staff, caplog, django_capture_on_commit_callbacks):
    sender = SenderFactory(account=account, sender="BOUTIQUE")

    with caplog.at_level(logging.INFO, logger="senders.services"):
        with django_capture_on_commit_callbacks(execute=True):
            services.sender_refuse(sender, staff, "Not proven")

    assert "'BOUTIQUE'" in caplog.text
    assert "refused" in caplog.text
    assert "Not proven" in caplog.text


def test_no_mail_when_the_decision_rolls_back(account, staff, django_capture_on_commit_callbacks):
    from django.db import transaction

    sender = SenderFactory(account=account)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError):
            with transaction.atomic():
                services.sender_approve(sender, staff)
                raise RuntimeError

    assert callbacks == []
    assert mail.outbox == []
    sender.refresh_from_db()
    assert sender.status == "waitingValidation"


def test_a_mail_failure_does_not_undo_the_decision(
    account, staff, monkeypatch, django_capture_on_commit_callbacks
):
    def broken(*args, **kwargs):
        raise ConnectionRefusedError

    monkeypatch.setattr(services, "send_mail", broken)
    sender = SenderFactory(account=account)

    with django_capture_on_commit_callbacks(execute=True):
        services.sender_approve(sender, staff)

    sender.refresh_from_db()
    assert sender.status == "enable"


def test_set_enabled_only_for_senders_in_use(account):
    waiting = SenderFactory(account=account)
    enabled = SenderFactory(account=account, status="enable")

    with pytest.raises(services.SenderError):
        services.sender_set_enabled(waiting, enabled=True)
    services.sender_set_enabled(enabled, enabled=False)

    enabled.refresh_from_db()
    assert enabled.status == "disable"
    assert not Sender.objects.filter(account=account).enabled().filter(pk=enabled.pk).exists()


def test_model_methods(account, staff):
    sender = SenderFactory(account=account, comment="old reason")

    sender.refuse(by=staff, reason="Not proven")
    assert (sender.status, sender.comment, sender.decided_by) == ("refused", "Not proven", staff)
    assert not sender.can_toggle
    sender.approve(by=staff)
    sender.refresh_from_db()
    assert (sender.status, sender.comment) == ("enable", "")
    assert sender.can_toggle
    sender.set_enabled(False)
    sender.refresh_from_db()
    assert sender.status == "disable"


def test_the_virtual_number_service(account, staff):
    sender = services.virtual_number_assign(account=account, number="+33612345678", by=staff)

    assert sender.allows_replies
    with pytest.raises(services.SenderExists):
        services.virtual_number_assign(account=account, number="+33612345678", by=staff)


# --- the send form offers enabled senders only ------------------------------------------------


def test_only_enabled_senders_are_in_the_send_form(owner_client, account, staff):
    approved = SenderFactory(account=account, sender="APPROVED")
    services.sender_approve(approved, staff)
    waiting = SenderFactory(account=account, sender="WAITING")
    refused = SenderFactory(account=account, sender="REFUSED", status="refused")
    disabled = SenderFactory(account=account, sender="DISABLED", status="disable")

    response = owner_client.get(reverse("messaging:compose", args=[account.name]))

    body = response.content.decode()
    assert response.status_code == 200
    assert f'<option value="{approved.pk}">APPROVED</option>' in body
    for sender in (waiting, refused, disabled):
        assert sender.sender not in body
