"""Tracked short links: the text as sent and counted, the redirect (no open redirect, bots and
HEAD not counted, first and total clicks), links surviving their campaign."""

import pytest
from django.utils import timezone

from messaging import shortlinks
from messaging.encoding import count
from messaging.models import Campaign, OutgoingMessage, ShortLink, SmsJob

pytestmark = pytest.mark.django_db


def test_urls_are_found_without_trailing_punctuation():
    text = "Soldes ! https://shop.example.com/promo?x=1. Et http://a.fr/b), fin https://"
    assert shortlinks.urls_in(text) == ["https://shop.example.com/promo?x=1", "http://a.fr/b"]


def test_the_shape_counts_what_is_sent(settings):
    settings.SHORT_LINK_BASE = "https://s.example.com"
    text = "Voir https://shop.example.com/une/tres/longue/adresse/de/promotion?utm=sms."
    assert shortlinks.shape(text) == "Voir https://s.example.com/xxxxxxx."
    codes = shortlinks.new_codes(50)
    assert len(set(codes)) == 50 and all(len(c) == 7 and c.isalnum() for c in codes)
    sent = text.replace("https://shop.example.com/une/tres/longue/adresse/de/promotion?utm=sms",
                        shortlinks.short_url(codes[0]))  # fmt: skip
    assert count(sent) == count(shortlinks.shape(text))


@pytest.fixture
def link(account):
    campaign = Campaign.objects.create(account=account, name="c", start_at=timezone.now())
    job = SmsJob.objects.create(
        account=account, message="m", encoding="GSM-7", segments=1, credits=1,
        status="done", campaign=campaign,
    )  # fmt: skip
    OutgoingMessage.objects.create(
        job=job, account=account, receiver="+33612345678", country="FR", parts=1, credits=1,
        status="delivered",
    )  # fmt: skip
    return ShortLink.objects.create(
        code="Ab3xK9z", job=job, receiver="+33612345678", url="https://shop.example.com/a"
    )


def test_a_click_redirects_and_counts(client, link):
    response = client.get("/l/Ab3xK9z", HTTP_USER_AGENT="Mozilla/5.0 (iPhone)")
    assert response.status_code == 302
    assert response["Location"] == "https://shop.example.com/a"
    assert response["Cache-Control"] == "no-store"
    link.refresh_from_db()
    first = link.first_click_at
    assert link.clicks == 1 and first is not None
    client.get("/l/Ab3xK9z?next=https://evil.example.com", HTTP_USER_AGENT="Mozilla/5.0")
    link.refresh_from_db()
    assert link.clicks == 2 and link.first_click_at == first and link.last_click_at >= first


def test_only_the_stored_url_is_ever_the_target(client, link):
    response = client.get("/l/Ab3xK9z?url=https://evil.example.com&next=//evil.example.com")
    assert response["Location"] == "https://shop.example.com/a"
    ShortLink.objects.filter(pk=link.pk).update(url="javascript:alert(1)")
    assert client.get("/l/Ab3xK9z").status_code == 404


def test_preview_bots_and_head_are_not_counted(client, link):
    for agent in ("facebookexternalhit/1.1", "WhatsApp/2.23", "Slackbot-LinkExpanding 1.0",
                  "TelegramBot (like TwitterBot)"):  # fmt: skip
        assert client.get("/l/Ab3xK9z", HTTP_USER_AGENT=agent).status_code == 302
    assert client.head("/l/Ab3xK9z").status_code == 302
    link.refresh_from_db()
    assert link.clicks == 0 and link.first_click_at is None


def test_unknown_codes_and_posts_are_refused(client, link):
    assert client.get("/l/nope123").status_code == 404
    assert client.get("/l/" + "a" * 40).status_code == 404
    assert client.post("/l/Ab3xK9z").status_code == 405
    link.refresh_from_db()
    assert link.clicks == 0


def test_links_outlive_their_campaign(client, link):
    Campaign.objects.all().delete()
    assert client.get("/l/Ab3xK9z").status_code == 302
    link.refresh_from_db()
    assert link.clicks == 1 and link.job.campaign is None


def test_the_counter_counts_short_links(owner_client, account, settings):
    settings.SHORT_LINK_BASE = "https://s.example.com"
    url = "https://shop.example.com/" + "x" * 200
    plain = owner_client.post(f"/sms/{account.name}/send/counter/", {"message": url})
    tracked = owner_client.post(
        f"/sms/{account.name}/send/counter/", {"message": url, "track_links": "on"}
    )
    assert 'data-testid="segments">2<' in plain.content.decode()
    assert 'data-testid="segments">1<' in tracked.content.decode()
