"""Tracked short links: the text as sent and counted, the redirect (no open redirect, bots and
HEAD not counted, first and total clicks), links surviving their campaign."""

from wsgiref.util import setup_testing_defaults

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone

from messaging import clicks, shortlinks
from messaging.encoding import count
from messaging.models import Campaign, ClickFlush, OutgoingMessage, ShortLink, SmsJob

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
    assert link.clicks == 0 and clicks.pending() == 1  # counted in Redis until the flush
    assert clicks.flush() == 1
    link.refresh_from_db()
    first = link.first_click_at
    assert link.clicks == 1 and first is not None and clicks.pending() == 0
    client.get("/l/Ab3xK9z?next=https://evil.example.com", HTTP_USER_AGENT="Mozilla/5.0")
    client.get("/l/Ab3xK9z", HTTP_USER_AGENT="Mozilla/5.0")
    assert clicks.flush() == 2
    link.refresh_from_db()
    assert link.clicks == 3 and link.first_click_at == first and link.last_click_at > first
    assert clicks.flush() == 0


def test_only_the_stored_url_is_ever_the_target(client, link):
    response = client.get("/l/Ab3xK9z?url=https://evil.example.com&next=//evil.example.com")
    assert response["Location"] == "https://shop.example.com/a"
    ShortLink.objects.create(code="Js1", job=link.job, receiver="+33612345679",
                             url="javascript:alert(1)")  # fmt: skip
    assert client.get("/l/Js1").status_code == 404


def test_preview_bots_and_head_are_not_counted(client, link):
    for agent in ("facebookexternalhit/1.1", "WhatsApp/2.23", "Slackbot-LinkExpanding 1.0",
                  "TelegramBot (like TwitterBot)"):  # fmt: skip
        assert client.get("/l/Ab3xK9z", HTTP_USER_AGENT=agent).status_code == 302
    assert client.head("/l/Ab3xK9z").status_code == 302
    assert clicks.flush() == 0
    link.refresh_from_db()
    assert link.clicks == 0 and link.first_click_at is None


def test_unknown_codes_and_posts_are_refused(client, link):
    assert client.get("/l/nope123").status_code == 404
    assert client.get("/l/" + "a" * 40).status_code == 404
    assert client.get("/l/Ab3x-K9").status_code == 404
    assert client.post("/l/Ab3xK9z").status_code == 405
    clicks.flush()
    link.refresh_from_db()
    assert link.clicks == 0


def test_links_outlive_their_campaign(client, link):
    Campaign.objects.all().delete()
    assert client.get("/l/Ab3xK9z").status_code == 302
    clicks.flush()
    link.refresh_from_db()
    assert link.clicks == 1 and link.job.campaign is None


def test_a_batch_is_counted_once_whenever_its_flusher_dies(client, link, monkeypatch):
    for _ in range(2):
        client.get("/l/Ab3xK9z")
    # Dies before its commit: nothing written, the batch stays in Redis.
    monkeypatch.setattr(clicks, "_apply", lambda rows: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        clicks.flush()
    monkeypatch.undo()
    link.refresh_from_db()
    assert link.clicks == 0 and clicks.pending() == 2
    client.get("/l/Ab3xK9z")  # a click meanwhile goes to the next batch
    # Dies after its commit, before deleting the batch: the next flush only deletes it.
    real = clicks.redis.Redis.register_script

    def dies_on_delete(self, script):
        if "DEL" in script:
            return lambda **kw: 1 / 0
        return real(self, script)

    monkeypatch.setattr(clicks.redis.Redis, "register_script", dies_on_delete)
    with pytest.raises(ZeroDivisionError):
        clicks.flush()
    monkeypatch.undo()
    link.refresh_from_db()
    assert link.clicks == 2 and clicks.pending() == 3  # the applied batch is still in Redis
    assert clicks.flush() == 1  # the applied batch is not added again; the next one is
    link.refresh_from_db()
    assert link.clicks == 3 and clicks.pending() == 0
    assert ClickFlush.objects.count() == 2


def test_without_redis_a_click_is_written_at_once(client, link, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    assert client.get("/l/Ab3xK9z").status_code == 302
    link.refresh_from_db()
    assert link.clicks == 1 and link.first_click_at is not None


@pytest.fixture
def keep_connections():
    """As Django's test client does: requests must not close the test's database connection."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def wsgi_get(app, path: str, method: str = "GET", host: str = "localhost:8000", **environ):
    """Call a WSGI application; (status, headers, body)."""
    env = {"REQUEST_METHOD": method, "PATH_INFO": path, "HTTP_HOST": host,
           "SERVER_NAME": "localhost", "SERVER_PORT": "8000", **environ}  # fmt: skip
    setup_testing_defaults(env)
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer["status"], answer["headers"] = status, dict(headers)

    body = b"".join(app(env, start_response))
    return answer["status"], answer["headers"], body


def test_the_front_answers_links_before_django(link, settings, keep_connections):
    front = shortlinks.Front(WSGIHandler())
    status, headers, body = wsgi_get(front, "/l/Ab3xK9z", HTTP_USER_AGENT="Mozilla/5.0")
    assert status == "302 Found" and body == b""
    assert headers["Location"] == "https://shop.example.com/a"
    assert headers["Cache-Control"] == "no-store" and headers["Content-Length"] == "0"
    assert "Set-Cookie" not in headers and "Vary" not in headers  # no middleware ran
    assert wsgi_get(front, "/l/Ab3xK9z", "HEAD")[0] == "302 Found"
    assert wsgi_get(front, "/l/Ab3xK9z", HTTP_USER_AGENT="Twitterbot/1.0")[0] == "302 Found"
    assert clicks.flush() == 1
    link.refresh_from_db()
    assert link.clicks == 1
    # What it does not settle goes to Django: unknown codes, other methods, other paths.
    assert wsgi_get(front, "/l/nope123")[0].startswith("404")
    assert wsgi_get(front, "/l/Ab3xK9z", "POST")[0].startswith("403")  # CSRF, then 405
    assert wsgi_get(front, "/l/")[0].startswith("404")
    # HTTPS required: Django redirects to it first.
    settings.SECURE_SSL_REDIRECT = True
    front = shortlinks.Front(WSGIHandler())  # Django's middleware reads it when built
    status, headers, _body = wsgi_get(front, "/l/Ab3xK9z")
    assert status.startswith("301") and headers["Location"].startswith("https://")
    assert clicks.flush() == 0


def test_the_front_on_a_short_domain_answers_its_host_only(link, settings, keep_connections):
    settings.SHORT_LINK_BASE = "https://s.example.com"
    settings.ALLOWED_HOSTS = ["s.example.com", "sms.example.com"]
    front = shortlinks.Front(WSGIHandler())
    status, headers, _body = wsgi_get(front, "/Ab3xK9z", host="s.example.com")
    assert status == "302 Found" and headers["Location"] == "https://shop.example.com/a"
    # The panel's host: Django's URLs decide (here the links answer under /l/ only).
    assert wsgi_get(front, "/Ab3xK9z", host="sms.example.com")[0].startswith("404")
    assert wsgi_get(front, "/Ab3xK9z", host="evil.example.com")[0].startswith("400")
    assert clicks.flush() == 1


def test_the_counter_counts_short_links(owner_client, account, settings):
    settings.SHORT_LINK_BASE = "https://s.example.com"
    url = "https://shop.example.com/" + "x" * 200
    plain = owner_client.post(f"/sms/{account.name}/send/counter/", {"message": url})
    tracked = owner_client.post(
        f"/sms/{account.name}/send/counter/", {"message": url, "track_links": "on"}
    )
    assert 'data-testid="segments">2<' in plain.content.decode()
    assert 'data-testid="segments">1<' in tracked.content.decode()
