"""Staff side: the queue, approve / refuse (reason, e-mail, log), documents, virtual numbers."""

import html
from decimal import Decimal

import pytest
from django.contrib.admin.models import LogEntry
from django.core import mail
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils.text import slugify

from messaging.models import SmsJob
from senders.models import Sender, SenderDocument
from tests.accounts.factories import MembershipFactory, UserFactory
from tests.conftest import verified_session
from tests.senders.factories import PDF, PNG, SenderFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/senders/sender/"


def text(response):
    return html.unescape(response.content.decode())


def change_url(sender):
    return reverse("admin:senders_sender_change", args=[sender.pk])


def action(client, name, senders):
    return client.post(
        CHANGELIST,
        {"action": name, "_selected_action": [s.pk for s in senders]},
        follow=True,
    )


@pytest.fixture
def waiting(account):
    return SenderFactory(account=account, sender="BOUTIQUE", status="waitingValidation")


# --- the queue --------------------------------------------------------------------------------


def test_the_queue_is_oldest_first_and_filters_by_status(staff_client, account):
    first = SenderFactory(account=account, sender="ZZZ")
    second = SenderFactory(account=account, sender="AAA")
    SenderFactory(account=account, sender="DONE", status="enable")

    response = staff_client.get(CHANGELIST, {"status__exact": "waitingValidation"})

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [first, second]


def test_the_queue_searches_by_sender_and_account(staff_client, account):
    mine = SenderFactory(account=account, sender="BOUTIQUE")
    other = SenderFactory(sender="GARAGE")

    by_name = staff_client.get(CHANGELIST, {"q": "garage"})
    by_account = staff_client.get(CHANGELIST, {"q": account.name})

    assert list(by_name.context["cl"].result_list) == [other]
    assert list(by_account.context["cl"].result_list) == [mine]


def test_the_change_page_has_the_decision_buttons_and_documents(staff_client, english, waiting):
    document = SenderDocument.objects.create(
        sender=waiting, file=ContentFile(PDF, name="k.pdf"), original_name="Kbis.pdf",
        content_type="application/pdf", size=len(PDF),
    )  # fmt: skip

    body = text(staff_client.get(change_url(waiting)))

    assert reverse("admin:senders_sender_approve", args=[waiting.pk]) in body
    assert f"{reverse('admin:senders_sender_refuse')}?ids={waiting.pk}" in body
    assert "Kbis.pdf" in body
    assert reverse("admin:senders_senderdocument_download", args=[document.pk]) in body


def test_staff_cannot_add_senders_outside_the_workflow(staff_client):
    assert staff_client.get("/admin/senders/sender/add/").status_code == 403


# --- approve ----------------------------------------------------------------------------------


def test_approve_enables_records_logs_and_mails_the_owners(
    staff_client, staff, account, owner, member, waiting, django_capture_on_commit_callbacks
):
    second_owner = UserFactory()
    MembershipFactory(user=second_owner, account=account, role="owner")

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(reverse("admin:senders_sender_approve", args=[waiting.pk]))

    assert response.status_code == 302
    assert response.url == change_url(waiting)
    waiting.refresh_from_db()
    assert (waiting.status, waiting.decided_by, waiting.comment) == ("enable", staff, "")
    assert waiting.decided_at is not None
    assert len(mail.outbox) == 1
    assert sorted(mail.outbox[0].to) == sorted([owner.email, second_owner.email])
    assert member.email not in mail.outbox[0].to
    assert "BOUTIQUE" in mail.outbox[0].subject
    assert account.name in mail.outbox[0].body
    entry = LogEntry.objects.get(object_id=str(waiting.pk))
    assert (entry.user, entry.change_message) == (staff, "Approved")


def test_approve_rejects_get(staff_client, waiting):
    response = staff_client.get(reverse("admin:senders_sender_approve", args=[waiting.pk]))

    assert response.status_code == 405
    waiting.refresh_from_db()
    assert waiting.status == "waitingValidation"


def test_the_approve_action_and_a_second_approval(
    staff_client, english, staff, account, waiting, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = action(staff_client, "approve_selected", [waiting])
    waiting.refresh_from_db()
    decided_at = waiting.decided_at
    assert waiting.status == "enable"
    assert "1 sender approved." in text(first)

    with django_capture_on_commit_callbacks(execute=True):
        again = action(staff_client, "approve_selected", [waiting])
        button = staff_client.post(
            reverse("admin:senders_sender_approve", args=[waiting.pk]), follow=True
        )

    assert "BOUTIQUE is not waiting for validation (status: Enabled)." in text(again)
    assert "is not waiting for validation" in text(button)
    waiting.refresh_from_db()
    assert (waiting.status, waiting.decided_at) == ("enable", decided_at)
    assert len(mail.outbox) == 1
    assert LogEntry.objects.filter(object_id=str(waiting.pk)).count() == 1


def test_the_action_approves_a_selection(staff_client, account, django_capture_on_commit_callbacks):
    senders = [SenderFactory(account=account) for _ in range(3)]
    refused = SenderFactory(account=account, status="refused", comment="No")

    with django_capture_on_commit_callbacks(execute=True):
        action(staff_client, "approve_selected", [*senders, refused])

    assert set(
        Sender.objects.filter(pk__in=[s.pk for s in senders]).values_list("status", flat=True)
    ) == {"enable"}
    refused.refresh_from_db()
    assert (refused.status, refused.comment) == ("refused", "No")
    assert len(mail.outbox) == 3


# --- refuse -----------------------------------------------------------------------------------


def test_refuse_asks_for_a_reason_then_refuses(
    staff_client,
    english,
    staff,
    account,
    owner,
    waiting,
    django_capture_on_commit_callbacks,
):
    response = action(staff_client, "refuse_selected", [waiting])
    assert (
        response.redirect_chain[-1][0]
        == f"{reverse('admin:senders_sender_refuse')}?ids={waiting.pk}"
    )
    assert "reason" in response.context["form"].fields

    empty = staff_client.post(
        reverse("admin:senders_sender_refuse"), {"ids": str(waiting.pk), "reason": " "}
    )
    assert empty.status_code == 200
    assert empty.context["form"].errors["reason"]
    waiting.refresh_from_db()
    assert waiting.status == "waitingValidation"

    reason = "The trade name is not on the Kbis extract."
    with django_capture_on_commit_callbacks(execute=True):
        done = staff_client.post(
            reverse("admin:senders_sender_refuse"), {"ids": str(waiting.pk), "reason": reason}
        )

    assert done.status_code == 302
    assert done.url == change_url(waiting)
    waiting.refresh_from_db()
    assert (waiting.status, waiting.comment, waiting.decided_by) == ("refused", reason, staff)
    assert waiting.decided_at is not None
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [owner.email]
    assert reason in mail.outbox[0].body
    assert LogEntry.objects.get(object_id=str(waiting.pk)).change_message == f"Refused: {reason}"

    # The customer sees the reason in the Comment column.
    customer = Client()
    customer.force_login(owner)
    customer.cookies["django_language"] = "en"
    page = text(customer.get(reverse("senders:list", args=[account.name])))
    assert f'data-testid="sender-comment">{reason}<' in page
    assert 'data-testid="sender-status">Refused<' in page


def test_an_approved_sender_cannot_be_refused(
    staff_client, english, account, django_capture_on_commit_callbacks
):
    sender = SenderFactory(account=account, sender="BOUTIQUE", status="enable")

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("admin:senders_sender_refuse"), {"ids": str(sender.pk), "reason": "No"},
            follow=True,
        )  # fmt: skip

    assert "BOUTIQUE is not waiting for validation" in text(response)
    sender.refresh_from_db()
    assert (sender.status, sender.comment) == ("enable", "")
    assert mail.outbox == []


def test_refuse_without_a_selection_goes_back(staff_client):
    response = staff_client.get(reverse("admin:senders_sender_refuse"), {"ids": "abc"})

    assert response.status_code == 302
    assert response.url == CHANGELIST


# --- documents --------------------------------------------------------------------------------


def test_staff_download_documents_as_attachments(staff_client, waiting):
    document = SenderDocument.objects.create(
        sender=waiting, file=ContentFile(PNG, name="x.png"), original_name="logo élégant.png",
        content_type="image/png", size=len(PNG),
    )  # fmt: skip

    response = staff_client.get(
        reverse("admin:senders_senderdocument_download", args=[document.pk])
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Disposition"] == (
        f'attachment; filename="{slugify(waiting.sender)}-document-{document.pk}.png"'
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == PNG


def test_a_document_named_like_a_program_downloads_under_our_name(owner, staff, account, media):
    """A real PDF sent as "invoice.exe" is kept, but stored and served as a .pdf."""
    customer, staff_client = Client(), Client()
    customer.force_login(owner)
    staff_client.force_login(staff)
    verified_session(staff_client, staff)
    response = customer.post(
        reverse("senders:add", args=[account.name]),
        {"mode": "manual", "sender": "FACTURES", "reason": "Our invoices", "description": "",
         "documents": [SimpleUploadedFile("invoice.exe", PDF, "application/x-msdownload")]},
    )  # fmt: skip
    assert response.status_code == 302
    document = SenderDocument.objects.get()
    assert document.content_type == "application/pdf"
    assert document.file.name.endswith(".pdf") and "invoice" not in document.file.name

    download = staff_client.get(
        reverse("admin:senders_senderdocument_download", args=[document.pk])
    )

    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"] == (
        f'attachment; filename="factures-document-{document.pk}.pdf"'
    )


def test_customers_cannot_download_documents(client, owner, outsider, waiting):
    document = SenderDocument.objects.create(
        sender=waiting, file=ContentFile(PDF, name="k.pdf"), original_name="k.pdf",
        content_type="application/pdf", size=len(PDF),
    )  # fmt: skip
    target = reverse("admin:senders_senderdocument_download", args=[document.pk])

    for user in (owner, outsider):
        client.force_login(user)
        response = client.get(target)
        assert (response.status_code, response.url.split("?")[0]) == (302, "/admin/login/")


def test_a_missing_document_is_404(staff_client, waiting):
    assert (
        staff_client.get(
            reverse("admin:senders_senderdocument_download", args=[999999])
        ).status_code
        == 404
    )


# --- virtual numbers --------------------------------------------------------------------------


def test_staff_assign_a_virtual_number_offered_for_replies(staff_client, staff, account, owner):
    response = staff_client.post(
        reverse("admin:senders_sender_virtual_number"),
        {"account": account.name, "number": "+33 6 12 34 56 78", "description": "Replies"},
    )

    sender = Sender.objects.get(account=account)
    assert response.status_code == 302
    assert response.url == change_url(sender)
    assert (sender.sender, sender.type, sender.status, sender.referer, sender.decided_by) == (
        "+33612345678",
        "virtual",
        "enable",
        "virtual",
        staff,
    )
    customer = Client()
    customer.force_login(owner)
    compose = customer.get(reverse("messaging:compose", args=[account.name]))
    groups = dict(compose.context["form"].fields["sender"].choices)
    replies = [value for value, _label in next(iter(groups.values()))]
    assert str(sender.pk) in replies


@pytest.mark.parametrize(
    "data, field",
    [
        ({"account": "sms-nope-1", "number": "+33612345678"}, "account"),
        ({"number": "0612345678"}, "number"),
        ({"number": "+331234"}, "number"),
    ],
)
def test_a_virtual_number_must_be_valid(staff_client, account, data, field):
    data = {"account": account.name, **data}

    response = staff_client.post(reverse("admin:senders_sender_virtual_number"), data)

    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert not Sender.objects.exists()


def test_a_virtual_number_belongs_to_one_account(staff_client, english, account):
    SenderFactory(sender="+33612345678", type="virtual", status="enable", referer="virtual")

    response = staff_client.post(
        reverse("admin:senders_sender_virtual_number"),
        {"account": account.name, "number": "+33612345678"},
    )

    assert "is already assigned to" in str(response.context["form"].errors["number"])
    assert not Sender.objects.filter(account=account).exists()


# --- deletion in the admin --------------------------------------------------------------------


def test_staff_cannot_delete_a_sender_with_pending_jobs(staff_client, account):
    sender = SenderFactory(account=account, status="enable")
    SmsJob.objects.create(
        account=account, sender=sender, message="x", encoding="GSM-7", segments=1,
        credits=Decimal("1"), status="scheduled",
    )  # fmt: skip

    response = staff_client.post(
        reverse("admin:senders_sender_delete", args=[sender.pk]), {"post": "yes"}
    )

    assert response.status_code == 403
    assert Sender.objects.filter(pk=sender.pk).exists()


def test_the_customer_is_sent_to_the_admin_login(client, owner, waiting):
    client.force_login(owner)

    for target in [
        CHANGELIST,
        reverse("admin:senders_sender_refuse"),
        reverse("admin:senders_sender_virtual_number"),
    ]:
        response = client.get(target)
        assert (response.status_code, response.url.split("?")[0]) == (302, "/admin/login/")
    response = client.post(reverse("admin:senders_sender_approve", args=[waiting.pk]))
    assert response.status_code == 302
    waiting.refresh_from_db()
    assert waiting.status == "waitingValidation"
