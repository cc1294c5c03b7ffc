"""Outbound HTTP to addresses that customers give us (webhook URLs, an API csvUrl).

One client for every such request, so that each one gets the same protections:

- The private-address guard: unless settings.CALLBACKS_ALLOW_PRIVATE, every address the host
  resolves to must be public (not private, loopback, link-local, reserved or multicast). The
  connection then goes to one of the addresses that were checked, never to a second lookup's
  answer, so a DNS change between check and connect cannot reach the panel's own network.
- Redirects are either refused (`follow_redirects=False`) or followed with the same guard on every
  hop, at most MAX_REDIRECTS of them. urllib's own redirect handler cannot do the latter: it
  connects to the new location without asking.
- A time limit for the whole exchange (every hop and the body), not only per socket operation,
  and a size limit on the body read.
- Every failure is a FetchError (UnsafeURL, TooLarge) whose text says what went wrong.

Built on http.client rather than urllib so that the address connected to is the one checked.
Environment proxies (http_proxy) are not used: behind a proxy the guard would check the proxy.
"""

import functools
import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from typing import BinaryIO
from urllib.parse import urljoin, urlsplit

from django.conf import settings

DEFAULT_TIMEOUT = 10  # seconds, for the whole exchange
MAX_REDIRECTS = 5
CHUNK = 1 << 16
REDIRECTS = {301, 302, 303, 307, 308}


class FetchError(Exception):
    """The URL may not be fetched, or fetching it failed; the text says why."""


class UnsafeURL(FetchError):
    """Not http(s), or the host resolves to an address the guard refuses."""


class TooLarge(FetchError):
    def __init__(self, limit: int):
        super().__init__(f"the content exceeds {limit} bytes")
        self.limit = limit


def read_limited(source, into: BinaryIO, *, max_bytes: int, deadline: float | None = None) -> int:
    """Copy `source` (anything with read(n)) into `into`, in chunks; returns the size.

    Raises TooLarge past `max_bytes` (having read at most one chunk more), and FetchError once
    time.monotonic() passes `deadline`. The one loop for request bodies and fetched files.
    """
    size = 0
    while chunk := source.read(CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise TooLarge(max_bytes)
        if deadline is not None and time.monotonic() > deadline:
            raise FetchError("the answer took too long")
        into.write(chunk)
    return size


def address_allowed(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """The guard's rule for one address (tests replace it to let a local server pass as public)."""
    return address.is_global and not address.is_multicast


def check_url(url: str) -> None:
    """Raise UnsafeURL unless `url` is http(s) to a host whose addresses the guard allows (any
    host when private addresses are allowed: then nothing is resolved)."""
    _addresses(url, resolve=False)


def _addresses(url: str, *, resolve: bool = True) -> list[str]:
    """The addresses `url`'s host resolves to, all of them allowed; raises UnsafeURL."""
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UnsafeURL("the port is not valid") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeURL("only http and https URLs are allowed")
    allow_private = settings.CALLBACKS_ALLOW_PRIVATE
    if allow_private and not resolve:
        return []
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise UnsafeURL(f"the host does not resolve ({error})") from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not allow_private:
        for address in addresses:
            if not address_allowed(ipaddress.ip_address(address)):
                raise UnsafeURL(f"{parts.hostname} resolves to a private or reserved address")
    return addresses


class _PinnedHTTP(http.client.HTTPConnection):
    """An HTTP connection to `host` (Host header, TLS name) made to an address already checked."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self):
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


@functools.cache
def _tls() -> ssl.SSLContext:
    # Built on first use: loading the CA store costs ~27 ms, and most processes that import
    # this module (through the URLconf) never make an HTTPS call.
    return ssl.create_default_context()


class _PinnedHTTPS(_PinnedHTTP):
    default_port = 443  # so the Host header leaves the port out, as for https URLs

    def connect(self):
        super().connect()
        self.sock = _tls().wrap_socket(self.sock, server_hostname=self.host)


@dataclass(frozen=True)
class Response:
    status: int
    reason: str
    url: str  # the last hop's URL
    size: int  # bytes of the body written to `into` (0 when the body was not read)


def request(
    method: str,
    url: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    into: BinaryIO | None = None,
    max_bytes: int = 1 << 20,
    timeout: float = DEFAULT_TIMEOUT,
    follow_redirects: bool = True,
) -> Response:
    """Send one request and return the final answer, whatever its status.

    The body of the answer is copied into `into` when given (at most `max_bytes`), else not
    read. Redirects are followed as browsers do (303, and 301/302 after a POST, become a GET
    without body; 307/308 repeat the request) or, with follow_redirects=False, refused with a
    FetchError. Raises FetchError (UnsafeURL, TooLarge) for everything but an HTTP status.
    """
    deadline = time.monotonic() + timeout
    headers = dict(headers or {})
    for _hop in range(MAX_REDIRECTS + 1):
        status, reason, location, size = _exchange(
            method, url, body=body, headers=headers, into=into, max_bytes=max_bytes,
            deadline=deadline,
        )  # fmt: skip
        if status not in REDIRECTS or not location:
            return Response(status=status, reason=reason, url=url, size=size)
        if not follow_redirects:
            raise FetchError(f"the server answers with a redirect (HTTP {status}), not followed")
        url = urljoin(url, location)
        if status == 303 or (status in (301, 302) and method == "POST"):
            method, body = "GET", None
            headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
    raise FetchError(f"more than {MAX_REDIRECTS} redirects")


def _exchange(method, url, *, body, headers, into, max_bytes, deadline):
    """One hop: check, connect to a checked address, send, read. Returns (status, reason,
    Location header, body size)."""
    addresses = _addresses(url)
    parts = urlsplit(url)
    kind = _PinnedHTTPS if parts.scheme == "https" else _PinnedHTTP
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    error: Exception | None = None
    for address in addresses:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        connection = kind(parts.hostname, parts.port, address=address, timeout=left)
        try:
            try:
                connection.connect()
            except TimeoutError:
                raise FetchError("the server did not answer in time") from None
            except OSError as exc:
                # Another address of the same host may answer, as socket.create_connection
                # tries them all. Only a failed connect moves on: once the request may have
                # been sent, trying again could deliver it twice.
                error = exc
                continue
            connection.request(method, target, body=body, headers=headers)
            answer = connection.getresponse()
            size = 0
            if into is not None and answer.status not in REDIRECTS:
                size = read_limited(answer, into, max_bytes=max_bytes, deadline=deadline)
            return answer.status, answer.reason, answer.getheader("Location"), size
        except TimeoutError:
            raise FetchError("the server did not answer in time") from None
        except (OSError, http.client.HTTPException) as exc:
            raise FetchError(f"the request failed ({exc})") from None
        finally:
            connection.close()
    if error is None:
        raise FetchError("the server did not answer in time")
    raise FetchError(f"the server cannot be reached ({error})")
