"""Short links' cheap paths (bench/links.py): the redirect's headers kept with each link read,
the lookup as a prepared statement on PostgreSQL (and behind a pooler that loses it), the click
sent to Redis as one packed command."""

import logging

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection

from messaging import clicks, shortlinks
from messaging.models import ShortLink
from tests.conftest import ON_POSTGRES
from tests.messaging.test_shortlinks import keep_connections, link, wsgi_get  # noqa: F401

pytestmark = pytest.mark.django_db
on_postgres = pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL's prepared statements")


def test_a_link_read_is_answered_again_as_django_would(client, link, keep_connections):  # noqa: F811
    front = shortlinks.Front(WSGIHandler())
    first = wsgi_get(front, "/l/Ab3xK9z", HTTP_USER_AGENT="Mozilla/5.0")
    ShortLink.objects.filter(pk=link.pk).update(url="https://elsewhere.example.com/")
    again = wsgi_get(front, "/l/Ab3xK9z", HTTP_USER_AGENT="Mozilla/5.0")
    assert again == first  # from this process's cache: no query, the same answer
    status, headers, body = first
    view = client.get("/l/Ab3xK9z", HTTP_USER_AGENT="Mozilla/5.0")  # Django's view, same cache
    assert status == "302 Found" and body == b""
    assert headers == {name: view[name] for name in headers}
    assert headers["Location"] == "https://shop.example.com/a"
    assert wsgi_get(front, "/l/Ab3xK9z", "HEAD")[0] == "302 Found"
    assert clicks.flush() == 3  # the HEAD is not counted
    shortlinks.targets_forget()
    assert wsgi_get(front, "/l/Ab3xK9z")[1]["Location"] == "https://elsewhere.example.com/"


def test_the_location_is_encoded_as_django_does_and_http_s_only(client, link):  # noqa: F811
    ShortLink.objects.filter(pk=link.pk).update(url="https://shop.example.com/é?q=a b")
    response = client.get("/l/Ab3xK9z")
    assert response["Location"] == "https://shop.example.com/%C3%A9?q=a%20b"  # as Django encodes
    ShortLink.objects.filter(pk=link.pk).update(url="ftp://files.example.com/x")
    shortlinks.targets_forget()
    assert client.get("/l/Ab3xK9z").status_code == 404  # http(s) only


def _executions() -> int:
    """How many times this connection ran the prepared lookup (0: never prepared)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COALESCE(SUM(generic_plans + custom_plans), 0) FROM pg_prepared_statements "
            "WHERE statement LIKE %s",
            [f"%{ShortLink._meta.db_table}%$1%"],
        )
        return cursor.fetchone()[0]


def _more_links(link, n: int) -> list[str]:  # noqa: F811
    codes = [f"More{i}" for i in range(n)]
    ShortLink.objects.bulk_create(
        ShortLink(code=code, job=link.job, receiver="+33612345679", url=f"https://ex.com/{code}")
        for code in codes
    )
    return codes


@on_postgres
def test_on_postgresql_the_lookup_is_prepared_once_per_connection(link, keep_connections):  # noqa: F811
    front = shortlinks.Front(WSGIHandler())
    before = _executions()
    for code in _more_links(link, 3):
        assert wsgi_get(front, f"/l/{code}")[1]["Location"] == f"https://ex.com/{code}"
    assert wsgi_get(front, "/l/nope123")[0].startswith("404")  # Front's lookup, then Django's
    assert _executions() == before + 5
    assert connection.connection.prepare_threshold is None  # Django's: nothing else prepared


@on_postgres
def test_without_prepared_statements_when_told(link, keep_connections, settings):  # noqa: F811
    settings.SHORT_LINK_PREPARED = False
    front = shortlinks.Front(WSGIHandler())
    before = _executions()
    for code in _more_links(link, 2):
        assert wsgi_get(front, f"/l/{code}")[1]["Location"] == f"https://ex.com/{code}"
    assert _executions() == before


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_a_pooler_losing_the_statement(link, keep_connections, monkeypatch, caplog):  # noqa: F811
    monkeypatch.setattr(shortlinks, "_PREPARING", [True])
    front = shortlinks.Front(WSGIHandler())
    first, second, third = _more_links(link, 3)
    assert wsgi_get(front, f"/l/{first}")[0] == "302 Found"
    # As when a pooler in transaction mode hands over another server connection.
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    with caplog.at_level(logging.WARNING, logger="messaging.shortlinks"):
        assert wsgi_get(front, f"/l/{second}")[1]["Location"] == f"https://ex.com/{second}"
    assert "SHORT_LINK_PREPARED=0" in caplog.text and shortlinks._PREPARING == [False]
    assert wsgi_get(front, f"/l/{third}")[1]["Location"] == f"https://ex.com/{third}"
    assert _executions() == 0
    assert clicks.flush() == 3


def test_a_redis_that_lost_the_script_still_counts(client, link, monkeypatch):  # noqa: F811
    # As after a Redis restart: the EVALSHA answers NOSCRIPT, the click goes by EVAL.
    monkeypatch.setattr(clicks, "_CLICK_SHA", "0" * 40)
    clicks._click_head.cache_clear()
    try:
        assert client.get("/l/Ab3xK9z", HTTP_USER_AGENT="Mozilla/5.0").status_code == 302
        assert client.get("/l/Ab3xK9z", HTTP_USER_AGENT="Mozilla/5.0").status_code == 302
    finally:
        clicks._click_head.cache_clear()
    assert clicks.pending() == 2  # the connection is still in step after the error
    assert clicks.flush() == 2
