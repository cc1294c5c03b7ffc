from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from messaging.models import OutgoingMessage, SmsJob
from messaging.operator.simulated import deliver_due_events

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, live_server, user):
    page.goto(live_server.url + "/login/")
    page.fill("#id_username", user.email)
    page.fill("#id_password", "secret-pass-123")
    page.get_by_role("button", name="Se connecter").click()


def test_send_now_and_follow_delivery(page, live_server, owner, account, eager_celery):
    log_in(page, live_server, owner)
    page.goto(f"{live_server.url}/sms/{account.name}/send/")
    page.fill("#id_receivers", "+33612345678\n06 12 34 56 79\n+33612345678\n12345")
    page.locator("#id_message").fill("Votre colis arrive demain.")
    page.check("#id_no_stop_clause")
    expect(page.get_by_test_id("estimate-recipients")).to_have_text("2")
    page.get_by_role("button", name="Envoyer", exact=True).click()

    job = SmsJob.objects.get()
    expect(page).to_have_url(f"{live_server.url}/sms/{account.name}/jobs/{job.pk}/")
    expect(page.get_by_test_id("valid-receivers")).to_have_text("2")
    expect(page.get_by_test_id("invalid-receivers")).to_contain_text("12345")
    expect(page.get_by_test_id("credits-removed")).to_have_text("2,00")
    expect(page.locator("#credits-left")).to_have_text("98,00")

    # The operator's delivery reports arrive; the page, polling, shows them.
    deliver_due_events(now=timezone.now() + timedelta(minutes=10))
    expect(page.get_by_test_id("count-delivered")).to_have_text("2", timeout=5000)
    expect(page.get_by_test_id("job-status")).to_have_text("Envoyé")
    page.screenshot(path="var/screenshots/job.png", full_page=True)
    assert set(OutgoingMessage.objects.values_list("status", flat=True)) == {"delivered"}


def test_plan_then_cancel_refunds(page, live_server, owner, account, eager_celery):
    log_in(page, live_server, owner)
    page.goto(f"{live_server.url}/sms/{account.name}/send/")
    page.fill("#id_receivers", "+33612345678")
    page.locator("#id_message").fill("Rappel : rendez-vous jeudi.")
    page.get_by_text("Options avancées").click()
    page.check("input[name=when][value=later]")
    when = timezone.localtime() + timedelta(days=2)
    when = when.replace(hour=10, minute=30)
    page.fill("#id_scheduled_at", when.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Envoyer", exact=True).click()

    job = SmsJob.objects.get()
    assert job.status == "scheduled"
    expect(page.locator(".alert-info")).to_contain_text("planifié")
    page.get_by_role("link", name="Envois planifiés").click()
    expect(page.locator("table")).to_contain_text("Rappel : rendez-vous jeudi.")
    page.get_by_role("button", name="Annuler").click()
    expect(page.locator(".alert-success")).to_contain_text("1,00 crédit a été remboursé.")
    expect(page.locator("#credits-left")).to_have_text("100,00")
    job.refresh_from_db()
    assert job.status == "cancelled"
    account.refresh_from_db()
    assert account.credits == Decimal("100.00")


def test_a_stop_reply_lists_the_number_and_the_next_send_skips_it(
    page, live_server, owner, account, settings
):
    from smspanel.celery import app

    settings.SMS_OPERATOR = {
        "BACKEND": "simulated",
        "SIMULATOR": {"seed": 5, "transient_error_rate": 0, "permanent_error_rate": 0,
                      "undelivered_rate": 0, "expired_rate": 0, "duplicate_report_rate": 0,
                      "out_of_order_rate": 0, "stop_reply_rate": 1.0},
    }  # fmt: skip
    app.conf.task_always_eager = True
    try:
        log_in(page, live_server, owner)
        page.goto(f"{live_server.url}/sms/{account.name}/send/")
        page.fill("#id_receivers", "+33612345678")
        page.locator("#id_message").fill("Soldes : -30% ce samedi.")
        page.check("#id_no_stop_clause")
        page.get_by_role("button", name="Envoyer", exact=True).click()
        expect(page.get_by_test_id("valid-receivers")).to_have_text("1")

        # The handset answers STOP (the simulator's reply arrives after the delivery report).
        deliver_due_events(now=timezone.now() + timedelta(hours=1))
        nav = page.get_by_role("navigation", name="Rubriques du compte")
        nav.get_by_text("Contacts", exact=True).click()
        nav.get_by_role("link", name="Liste STOP").click()
        expect(page.get_by_test_id("stop-row")).to_contain_text("+33612345678")
        # Received SMS are in the Messages menu.
        nav.get_by_text("Messages", exact=True).click()
        nav.get_by_role("link", name="Reçus").click()
        expect(page.get_by_test_id("incoming-row")).to_contain_text("STOP")
        page.screenshot(path="var/screenshots/received.png", full_page=True)

        # A new send to the same number skips it and charges nothing.
        page.goto(f"{live_server.url}/sms/{account.name}/send/")
        page.fill("#id_receivers", "+33612345678\n+33612345679")
        page.locator("#id_message").fill("Dernier jour des soldes.")
        page.check("#id_no_stop_clause")
        page.get_by_role("button", name="Envoyer", exact=True).click()
        expect(page.get_by_test_id("stoplisted")).to_have_text("1")
        expect(page.get_by_test_id("credits-removed")).to_have_text("1,00")
    finally:
        app.conf.task_always_eager = False
