"""A campaign end to end in the browser: created with a tracked link and two variants, sent at
its pace, a click on a delivered message's link counted for the right variant, and the same
campaign and statistics read by python-ovh through /batches."""

from datetime import timedelta

import ovh
import pytest
from django.utils import timezone
from playwright.sync_api import expect

from messaging import campaigns, clicks, dispatch
from messaging.models import Campaign, OutgoingMessage, ShortLink
from messaging.operator.simulated import deliver_due_events
from tests.api.conftest import make_key

from .test_send import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TO = "\n".join(f"+336123456{i:02d}" for i in range(10))


def test_a_campaign_with_a_link_and_two_variants(
    page, live_server, owner, account, eager_celery, settings, monkeypatch
):
    settings.SHORT_LINK_BASE = live_server.url + "/l"
    target = live_server.url + "/soldes-hiver/?from=sms"  # a page of ours: no network here
    log_in(page, live_server, owner)
    page.goto(f"{live_server.url}/sms/{account.name}/campaigns/new/")
    page.fill("#id_name", "Soldes d'hiver")
    page.fill("#id_receivers", TO)
    page.locator("#id_message").fill(f"Soldes -30% : {target}")
    page.check("#id_no_stop_clause")
    page.check("#id_track_links")
    # The counter counts the short link, not the URL typed.
    expect(page.get_by_test_id("estimate-recipients")).to_have_text("10")
    page.get_by_test_id("ab-test").locator("summary").click()
    page.fill("#id_message_b", f"Dernier jour : {target}")
    page.fill("#id_share_a", "50")
    page.fill("#id_share_b", "50")
    page.check("input[name=pace_kind][value=minute]")
    page.fill("#id_pace_value", "4")
    page.screenshot(path="var/screenshots/campaign-new.png", full_page=True)
    page.locator("button[name=send]").click()

    campaign = Campaign.objects.get()
    expect(page).to_have_url(f"{live_server.url}{campaign.get_absolute_url()}")
    expect(page.get_by_test_id("campaign-name")).to_have_text("Soldes d'hiver")
    campaign.refresh_from_db()
    assert campaign.status == "sending" and campaign.rate_per_minute == 4
    assert sorted(campaign.jobs.values_list("variant", "recipients_count")) == [("A", 5), ("B", 5)]

    # At its pace: 4 a minute (and the first one at once), whatever the pumps could do.
    start = campaign.started_at
    for minute in (1, 2):
        now = start + timedelta(minutes=minute, seconds=1)
        campaigns.tick(now=now)
        dispatch.pump(now=now, budget=5)
        sent = OutgoingMessage.objects.filter(job__campaign=campaign).exclude(status="queued")
        assert sent.count() == 1 + 4 * minute
    deliver_due_events(now=timezone.now() + timedelta(minutes=30))
    expect(page.get_by_test_id("stat-delivered")).to_have_text("9", timeout=10_000)

    # A recipient of variant B opens the link of their delivered message.
    link = ShortLink.objects.filter(
        job__variant="B",
        receiver__in=OutgoingMessage.objects.filter(
            job__campaign=campaign, job__variant="B", status="delivered"
        ).values("receiver"),
    ).first()
    other = page.context.new_page()
    other.goto(f"{live_server.url}/l/{link.code}")
    expect(other).to_have_url(target)
    other.close()
    clicks.flush()  # the beat's clicks-flush: clicks show in the statistics once written
    expect(page.get_by_test_id("variant-clicks-B")).to_have_text("1", timeout=10_000)
    expect(page.get_by_test_id("variant-clicks-A")).to_have_text("0")
    page.screenshot(path="var/screenshots/campaign.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path="var/screenshots/campaign-390.png", full_page=True)

    # python-ovh reads the same campaign and its statistics.
    monkeypatch.setitem(ovh.client.ENDPOINTS, "smspanel", live_server.url + "/1.0")
    app, secret, _ck, key = make_key(account, owner)
    client = ovh.Client(endpoint="smspanel", application_key=app.app_key,
                        application_secret=secret, consumer_key=key)  # fmt: skip
    batch = client.get(f"/sms/{account.name}/batches/{campaign.uuid}")
    assert (batch["name"], batch["status"], batch["totalRecords"]) == ("Soldes d'hiver", "PENDING", 10)
    stats = client.get(f"/sms/{account.name}/batches/{campaign.uuid}/statistics")
    assert (stats["sent"], stats["delivered"], stats["pending"]) == (9, 9, 1)
    assert stats["estimatedCredits"] == 10.0
