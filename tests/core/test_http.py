import io
import time

import pytest

from core import http
from tests.core.local_server import (
    LocalServers,
    content,
    pretend_public,
    redirect_to,
    trickle,
)


@pytest.fixture
def serve():
    with LocalServers() as servers:
        yield servers.start


@pytest.fixture
def public(monkeypatch, settings):
    return pretend_public(monkeypatch, settings)


def test_it_fetches_a_public_address(serve, public):
    server = serve(content(b"number\n+33612345678\n"), host=public)
    into = io.BytesIO()
    response = http.request("GET", server.base + "/list.csv", into=into)
    assert (response.status, response.size) == (200, 20)
    assert into.getvalue() == b"number\n+33612345678\n"
    assert server.requests[0][2]["Host"] == server.base.removeprefix("http://")


def test_it_refuses_a_private_address(serve, settings):
    settings.CALLBACKS_ALLOW_PRIVATE = False
    server = serve(content(b"secret"))
    with pytest.raises(http.UnsafeURL, match="private or reserved"):
        http.request("GET", server.base + "/")
    assert server.requests == []


def test_a_redirect_to_loopback_is_refused_before_connecting(serve, public):
    inside = serve(content(b"internal"))  # 127.0.0.1: the panel's own network
    outside = serve(redirect_to(inside.base + "/admin"), host=public)
    with pytest.raises(http.UnsafeURL, match="127.0.0.1 resolves to a private"):
        http.request("GET", outside.base + "/", into=io.BytesIO())
    assert len(outside.requests) == 1
    assert inside.requests == []


def test_redirects_can_be_refused(serve, public):
    target = serve(content(b"x"), host=public)
    server = serve(redirect_to(target.base + "/"), host=public)
    with pytest.raises(http.FetchError, match="redirect \\(HTTP 302\\), not followed"):
        http.request("GET", server.base + "/", follow_redirects=False)
    assert target.requests == []


def test_redirects_between_allowed_addresses_are_followed(serve, public):
    target = serve(content(b"done"), host=public)
    server = serve(redirect_to(target.base + "/final", 307), host=public)
    response = http.request("POST", server.base + "/hook", body=b'{"a":1}', headers={
        "Content-Type": "application/json"})  # fmt: skip
    assert (response.status, response.url) == (200, target.base + "/final")
    method, path, headers, body = target.requests[0]
    assert (method, path, body) == ("POST", "/final", b'{"a":1}')  # 307 repeats the POST


def test_a_303_becomes_a_get_without_body(serve, public):
    target = serve(content(b"done"), host=public)
    server = serve(redirect_to(target.base + "/seen", 303), host=public)
    http.request("POST", server.base + "/", body=b"payload",
                 headers={"Content-Type": "application/json"})  # fmt: skip
    method, path, headers, body = target.requests[0]
    assert (method, path, body) == ("GET", "/seen", b"")
    assert "Content-Type" not in headers


def test_private_addresses_are_allowed_by_the_setting(serve, settings):
    settings.CALLBACKS_ALLOW_PRIVATE = True
    inside = serve(content(b"ok"))
    outside = serve(redirect_to(inside.base + "/"), host="127.0.0.2")
    assert http.request("GET", outside.base + "/").status == 200
    assert len(inside.requests) == 1


def test_redirect_loops_stop(serve, public):
    server = serve(lambda path: (302, {"Location": path + "x"}, b""), host=public)
    with pytest.raises(http.FetchError, match=f"more than {http.MAX_REDIRECTS} redirects"):
        http.request("GET", server.base + "/")
    assert len(server.requests) == http.MAX_REDIRECTS + 1


def test_it_stops_reading_past_the_size_limit(serve, public):
    server = serve(content(b"x" * 300_000), host=public)
    into = io.BytesIO()
    with pytest.raises(http.TooLarge, match="exceeds 100000 bytes") as caught:
        http.request("GET", server.base + "/", into=into, max_bytes=100_000)
    assert caught.value.limit == 100_000
    assert len(into.getvalue()) <= 100_000


def test_a_slow_answer_is_cut_at_the_time_limit(serve, public):
    server = serve(trickle(5), host=public)
    started = time.monotonic()
    with pytest.raises(http.FetchError, match="too long"):
        http.request("GET", server.base + "/", into=io.BytesIO(), max_bytes=10**9, timeout=0.5)
    assert time.monotonic() - started < 2


def test_a_silent_server_is_cut_at_the_time_limit(serve, public):
    server = serve(lambda path: (time.sleep(3), content(b"late")(path))[1],
                          host=public)  # fmt: skip
    with pytest.raises(http.FetchError, match="did not answer in time"):
        http.request("GET", server.base + "/", timeout=0.5)


def test_an_unreachable_server_is_a_clear_error(public):
    with pytest.raises(http.FetchError, match="cannot be reached"):
        http.request("GET", "http://127.0.0.2:9/")  # the discard port: nothing listens


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1/x", "http://localhost/x", "http://10.0.0.5/x", "http://[::1]/x",
     "http://[::ffff:127.0.0.1]/x", "http://169.254.169.254/latest", "http://0.0.0.0/",
     "ftp://example.com/x", "http://example.com:99999/", "file:///etc/passwd"],
)  # fmt: skip
def test_check_url_refuses_private_and_non_http_urls(url, settings):
    settings.CALLBACKS_ALLOW_PRIVATE = False
    with pytest.raises(http.UnsafeURL):
        http.check_url(url)


def test_read_limited_copies_within_the_limit():
    into = io.BytesIO()
    assert http.read_limited(io.BytesIO(b"a" * 200_000), into, max_bytes=200_000) == 200_000
    assert into.getvalue() == b"a" * 200_000
    with pytest.raises(http.TooLarge):
        http.read_limited(io.BytesIO(b"a" * 200_001), io.BytesIO(), max_bytes=200_000)
