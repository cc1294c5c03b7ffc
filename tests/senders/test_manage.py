"""Edit the description, enable / disable, delete (with confirmation; not while jobs wait)."""

import html
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from messaging.models import SmsJob
from senders.models import Sender, SenderDocument
from tests.senders.conftest import stored_files
from tests.senders.factories import PDF, SenderFactory

pytestmark = pytest.mark.django_db


def url(name, sender):
    return reverse(f"senders:{name}", args=[sender.account.name, sender.pk])


def text(response):
    return html.unescape(response.content.decode())


def sender_values(compose) -> list[str]:
    groups = compose.context["form"].fields["sender"].choices
    return [value for _group, choices in groups for value, _label in choices]


def make_job(sender, status):
    return SmsJob.objects.create(
        account=sender.account,
        sender=sender,
        sender_label=sender.sender,
        reply_allowed=False,
        message="Bonjour",
        encoding="GSM-7",
        segments=1,
        credits=Decimal("1.00"),
        recipients_count=1,
        status=status,
    )


# --- edit -------------------------------------------------------------------------------------


def test_the_edit_page_shows_the_sender_and_its_documents(owner_client, english, account):
    sender = SenderFactory(account=account, sender="BOUTIQUE", status="refused", comment="No")
    SenderDocument.objects.create(
        sender=sender, file=ContentFile(PDF, name="k.pdf"), original_name="Kbis.pdf",
        content_type="application/pdf", size=len(PDF),
    )  # fmt: skip

    response = owner_client.get(url("edit", sender))

    assert response.status_code == 200
    body = text(response)
    assert "Kbis.pdf" in body
    assert "enabled" not in response.context["form"].fields  # refused: no switch


def test_it_saves_the_description_and_the_switch(owner_client, account):
    sender = SenderFactory(account=account, status="enable", description="Old")

    response = owner_client.post(url("edit", sender), {"description": "New text"})

    assert response.status_code == 302
    sender.refresh_from_db()
    assert (sender.description, sender.status) == ("New text", "disable")

    owner_client.post(url("edit", sender), {"description": "New text", "enabled": "on"})
    sender.refresh_from_db()
    assert sender.status == "enable"


def test_editing_a_waiting_sender_keeps_its_status(owner_client, account):
    sender = SenderFactory(account=account, status="waitingValidation")

    response = owner_client.post(url("edit", sender), {"description": "x", "enabled": "on"})

    assert response.status_code == 302
    sender.refresh_from_db()
    assert (sender.description, sender.status) == ("x", "waitingValidation")


def test_the_description_is_40_characters_at_most(owner_client, account):
    sender = SenderFactory(account=account, description="Old")

    response = owner_client.post(url("edit", sender), {"description": "d" * 41})

    assert response.status_code == 200
    sender.refresh_from_db()
    assert sender.description == "Old"


# --- enable / disable -------------------------------------------------------------------------


def test_the_toggle_disables_and_enables(owner_client, account):
    sender = SenderFactory(account=account, status="enable")

    off = owner_client.post(url("toggle", sender), {"enabled": "0"})
    sender.refresh_from_db()
    assert (off.status_code, sender.status) == (302, "disable")

    owner_client.post(url("toggle", sender), {"enabled": "0"})  # a double click changes nothing
    sender.refresh_from_db()
    assert sender.status == "disable"

    owner_client.post(url("toggle", sender), {"enabled": "1"})
    sender.refresh_from_db()
    assert sender.status == "enable"


def test_the_toggle_returns_the_row_for_htmx(owner_client, english, account):
    sender = SenderFactory(account=account, sender="BOUTIQUE", status="enable")

    response = owner_client.post(url("toggle", sender), {"enabled": "0"}, HTTP_HX_REQUEST="true")

    body = text(response)
    assert body.lstrip().startswith(f'<tr id="sender-{sender.pk}"')
    assert 'data-testid="sender-status">Disabled<' in body
    assert 'data-testid="sender-enable"' in body


@pytest.mark.parametrize("status", ["waitingValidation", "refused"])
def test_the_toggle_cannot_enable_what_staff_did_not_approve(
    owner_client, english, account, status
):
    sender = SenderFactory(account=account, status=status)

    response = owner_client.post(url("toggle", sender), {"enabled": "1"}, follow=True)

    sender.refresh_from_db()
    assert sender.status == status
    assert "Only an enabled or disabled sender can be switched on or off." in text(response)


def test_the_toggle_rejects_get(owner_client, account):
    sender = SenderFactory(account=account, status="enable")

    assert owner_client.get(url("toggle", sender)).status_code == 405


def test_a_disabled_sender_is_not_offered_in_the_send_form(owner_client, account):
    sender = SenderFactory(account=account, sender="BOUTIQUE", status="enable")
    owner_client.post(url("toggle", sender), {"enabled": "0"})

    compose = owner_client.get(reverse("messaging:compose", args=[account.name]))

    assert str(sender.pk) not in sender_values(compose)


def test_disabling_keeps_planned_jobs(owner_client, account):
    sender = SenderFactory(account=account, status="enable")
    job = make_job(sender, SmsJob.Status.SCHEDULED)

    owner_client.post(url("toggle", sender), {"enabled": "0"})

    job.refresh_from_db()
    assert (job.sender, job.status) == (sender, "scheduled")


# --- delete -----------------------------------------------------------------------------------


def test_delete_asks_for_confirmation_then_deletes(owner_client, english, account, media):
    sender = SenderFactory(account=account, sender="BOUTIQUE")
    SenderDocument.objects.create(
        sender=sender, file=ContentFile(PDF, name="k.pdf"), original_name="Kbis.pdf",
        content_type="application/pdf", size=len(PDF),
    )  # fmt: skip
    assert len(stored_files(media)) == 1

    confirm = owner_client.get(url("delete", sender))
    assert confirm.status_code == 200
    assert "Delete the sender BOUTIQUE?" in text(confirm)
    assert Sender.objects.filter(pk=sender.pk).exists()

    done = owner_client.post(url("delete", sender), follow=True)

    assert "The sender BOUTIQUE was deleted." in text(done)
    assert not Sender.objects.filter(pk=sender.pk).exists()
    assert not SenderDocument.objects.exists()


def test_deleting_removes_the_stored_files(account, media, django_capture_on_commit_callbacks):
    from senders import services

    sender = SenderFactory(account=account)
    SenderDocument.objects.create(
        sender=sender, file=ContentFile(PDF, name="k.pdf"), original_name="Kbis.pdf",
        content_type="application/pdf", size=len(PDF),
    )  # fmt: skip

    with django_capture_on_commit_callbacks(execute=True):
        services.sender_delete(sender)

    assert stored_files(media) == []


@pytest.mark.parametrize("status", ["scheduled", "queued", "sending"])
def test_a_sender_used_by_pending_jobs_cannot_be_deleted(owner_client, english, account, status):
    sender = SenderFactory(account=account, sender="BOUTIQUE", status="enable")
    make_job(sender, status)

    confirm = owner_client.get(url("delete", sender))
    response = owner_client.post(url("delete", sender), follow=True)

    assert confirm.context["in_use"] is True
    assert 'data-testid="sender-in-use"' in text(confirm)
    assert "is used by sends that are planned or in progress" in text(response)
    assert Sender.objects.filter(pk=sender.pk).exists()


@pytest.mark.parametrize("status", ["done", "cancelled"])
def test_finished_jobs_do_not_keep_a_sender(owner_client, account, status):
    sender = SenderFactory(account=account, sender="BOUTIQUE", status="enable")
    job = make_job(sender, status)

    owner_client.post(url("delete", sender))

    assert not Sender.objects.filter(pk=sender.pk).exists()
    job.refresh_from_db()
    assert (job.sender, job.sender_label) == (None, "BOUTIQUE")


# --- ownership --------------------------------------------------------------------------------


def test_an_outsider_gets_404_on_every_sender_page(client, account, outsider):
    sender = SenderFactory(account=account, sender="BOUTIQUE", status="enable", description="D")
    own = outsider.sms_accounts.get()
    client.force_login(outsider)

    answers = {}
    for service in (account.name, own.name):  # theirs, and the sender through their own account
        for name in ("edit", "toggle", "delete"):
            target = reverse(f"senders:{name}", args=[service, sender.pk])
            answers[f"GET {target}"] = client.get(target).status_code
            answers[f"POST {target}"] = client.post(
                target, {"description": "Pwned", "enabled": "0"}
            ).status_code
    for name in ("list", "add"):
        target = reverse(f"senders:{name}", args=[account.name])
        answers[f"GET {target}"] = client.get(target).status_code
        answers[f"POST {target}"] = client.post(target, {"sender": "PWNED"}).status_code

    expected = {key: 404 for key in answers}
    # Their own account, GET on the POST-only toggle: refused (405) before any sender lookup.
    expected[f"GET {reverse('senders:toggle', args=[own.name, sender.pk])}"] = 405
    assert answers == expected
    sender.refresh_from_db()
    assert (sender.status, sender.description) == ("enable", "D")
    assert Sender.objects.count() == 1
