"""In a real browser: the customer requests a sender, staff approve it in the admin, the
customer sends an SMS with it."""

import pytest
from django.core import mail
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from messaging.models import SmsJob
from senders.models import Sender
from tests.accounts.factories import UserFactory
from tests.accounts.test_two_factor import code as totp_code
from tests.senders.factories import PDF

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "secret-pass-123"  # the password UserFactory sets


def in_english(context, live_server):
    context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])


def test_request_approve_then_send(page, browser, live_server, owner, account, eager_celery):
    # The customer asks for a sender, with a supporting document.
    in_english(page.context, live_server)
    page.goto(live_server.url + "/login/")
    page.fill("#id_username", owner.email)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server.url}/sms/{account.name}/senders/add/")
    expect(page.get_by_test_id("mode-manual")).to_be_visible()
    page.fill("#id_sender", "BOUTIQUE")
    page.fill("#id_description", "Main shop")
    page.fill("#id_reason", "It is the trade name of our shop.")
    page.screenshot(path="var/screenshots/sender-add.png", full_page=True)
    page.set_input_files(
        "#id_documents", files=[{"name": "kbis.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    page.get_by_role("button", name="Send the request").click()

    expect(page).to_have_url(f"{live_server.url}/sms/{account.name}/senders/")
    row = page.get_by_test_id("sender-row").filter(has_text="BOUTIQUE")
    expect(row.get_by_test_id("sender-status")).to_have_text("Validation in progress")
    expect(row.get_by_test_id("sender-documents")).to_contain_text("kbis.pdf")
    sender = Sender.objects.get(account=account)
    assert sender.documents.count() == 1

    # The mode radios swap the form (HTMX) without leaving the page.
    page.goto(f"{live_server.url}/sms/{account.name}/senders/add/")
    page.check("input[name=mode][value=domain]")
    expect(page.get_by_test_id("mode-domain")).to_be_visible()
    page.screenshot(path="var/screenshots/sender-add-domain.png", full_page=True)
    expect(page).to_have_url(f"{live_server.url}/sms/{account.name}/senders/add/?mode=domain")

    # Staff approve it from the queue, in another browser session.
    staff = UserFactory(is_staff=True, is_superuser=True)
    device = TOTPDevice.objects.create(user=staff, name="Authenticator", confirmed=True)
    staff_context = browser.new_context(locale="en-US")
    in_english(staff_context, live_server)
    admin = staff_context.new_page()
    admin.set_default_timeout(10_000)
    admin.goto(live_server.url + "/admin/login/?next=/admin/senders/sender/")
    # The admin sends staff to the panel's login: password, then the authenticator's code.
    admin.fill("#id_username", staff.email)
    admin.fill("#id_password", PASSWORD)
    admin.get_by_role("button", name="Log in").click()
    admin.fill("#id_code", totp_code(device))
    admin.get_by_role("button", name="Verify").click()
    admin.get_by_role("link", name="Validation in progress").click()  # the status filter
    admin.get_by_role("link", name="BOUTIQUE").click()
    expect(admin.get_by_test_id("document-download")).to_be_visible()
    admin.screenshot(path="var/screenshots/sender-admin.png", full_page=True)
    admin.get_by_role("button", name="Approve").click()
    expect(admin.locator(".messagelist")).to_contain_text("BOUTIQUE was approved.")
    staff_context.close()

    sender.refresh_from_db()
    assert (sender.status, sender.decided_by) == ("enable", staff)
    assert [m.to for m in mail.outbox] == [[owner.email]]

    # The customer sees it enabled and sends with it.
    page.goto(f"{live_server.url}/sms/{account.name}/senders/")
    expect(page.get_by_test_id("sender-status")).to_have_text("Enabled")
    page.screenshot(path="var/screenshots/senders.png", full_page=True)
    page.goto(f"{live_server.url}/sms/{account.name}/send/")
    page.select_option("#id_sender", label="BOUTIQUE")
    page.fill("#id_receivers", "+33612345678")
    page.locator("#id_message").fill("Your order is ready.")
    page.check("#id_no_stop_clause")
    expect(page.get_by_test_id("estimate-recipients")).to_have_text("1")
    page.get_by_role("button", name="Send", exact=True).click()

    job = SmsJob.objects.get()
    expect(page).to_have_url(f"{live_server.url}/sms/{account.name}/jobs/{job.pk}/")
    expect(page.locator(".summary")).to_contain_text("BOUTIQUE")
    assert (job.sender, job.sender_label, job.reply_allowed) == (sender, "BOUTIQUE", False)
    page.screenshot(path="var/screenshots/sender-job.png", full_page=True)
