"""Tracked short links: each http(s) URL of a campaign's message becomes, for each recipient,
`<SHORT_LINK_BASE>/<code>` with a random code of fixed length, so every click is counted for one
recipient. The redirect answers with the URL the customer wrote and nothing else (no open
redirect: the target is read from the link's row, never from the request).

The code has a fixed length, so every recipient's text counts the same: the counter, the estimate
and the charge count the text with the short link in it (`shape`)."""

import functools
import logging
import re
import secrets
import string
import sys
import threading
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.core.handlers.wsgi import WSGIRequest
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.views.decorators.http import require_safe

from . import clicks
from .models import ShortLink

logger = logging.getLogger(__name__)
# A URL in a message: up to the next space; the punctuation that ends a sentence is not part
# of it ("Voir https://ex.com/promo." links to https://ex.com/promo).
URL = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}»"
ALPHABET = string.ascii_letters + string.digits
# User agents of link-preview fetchers that say who they are: they get the redirect, uncounted.
# Matched on the lowercased agent: IGNORECASE made this one search 10× slower (bench/links.py).
PREVIEW_BOTS = re.compile(
    r"facebookexternalhit|facebot|twitterbot|slackbot|slack-imgproxy|whatsapp|telegrambot|"
    r"discordbot|linkedinbot|skypeuripreview|applebot|googlebot|bingbot|iframely|embedly|"
    r"pinterest|redditbot|vkshare|snapchat|viber|signal|mastodon|bot\b|crawler|spider|preview"
)


def urls_in(text: str) -> list[str]:
    """The distinct http(s) URLs of a text, in order."""
    found = []
    for match in URL.finditer(text):
        url = match.group(0).rstrip(_TRAILING)
        if url not in found and urlsplit(url).hostname:
            found.append(url)
    return found


def _replace(text: str, links: dict[str, str]) -> str:
    def sub(match):
        url = match.group(0).rstrip(_TRAILING)
        return links.get(url, url) + match.group(0)[len(url) :]

    return URL.sub(sub, text)


def short_url(code: str) -> str:
    return f"{settings.SHORT_LINK_BASE}/{code}"


def shape(text: str) -> str:
    """The text as every recipient's will count: each URL replaced by a short link."""
    placeholder = short_url("x" * settings.SHORT_LINK_CODE_LENGTH)
    return _replace(text, dict.fromkeys(urls_in(text), placeholder))


def new_codes(n: int) -> list[str]:
    """n distinct codes that no stored link has (rare clashes are drawn again)."""
    length = settings.SHORT_LINK_CODE_LENGTH
    codes: set[str] = set()
    while len(codes) < n:
        draw = {
            "".join(secrets.choice(ALPHABET) for _ in range(length)) for _ in range(n - len(codes))
        }
        draw -= codes
        fresh = list(draw)
        for start in range(0, len(fresh), 900):
            chunk = fresh[start : start + 900]
            draw -= set(ShortLink.objects.filter(code__in=chunk).values_list("code", flat=True))
        codes |= draw
    return list(codes)


def with_links(text: str, codes: dict[str, str]) -> str:
    """The text with each of these URLs replaced by the short link of its code."""
    return _replace(text, {url: short_url(code) for url, code in codes.items()})


# code -> (link id, URL, monotonic time until which it is trusted, the redirect's headers).
# A link's URL never changes after the send, so each process keeps what it read; the expiry
# only bounds how long a link deleted with its account goes on redirecting in a process that
# had read it.
_TARGETS: dict[str, tuple[int, str, float, tuple[tuple[str, str], ...]]] = {}
TARGETS_KEPT = 50_000
TARGETS_SECONDS = 600.0
CODE = re.compile(r"[A-Za-z0-9]{1,16}")


@functools.cache
def _target_sql() -> str:
    """SELECT id, url by code, columns from the model. Raw: the ORM's query building was ~2/3
    of a redirect's time for a link not read before (bench/links.py)."""
    table = connection.ops.quote_name(ShortLink._meta.db_table)
    col = {
        f: connection.ops.quote_name(ShortLink._meta.get_field(f).column)
        for f in ("id", "url", "code")
    }
    return f"SELECT {col['id']}, {col['url']} FROM {table} WHERE {col['code']} = %s"


def _select(code: str) -> tuple[int, str] | None:
    if connection.vendor == "postgresql" and settings.SHORT_LINK_PREPARED and _PREPARING[0]:
        return _select_prepared(code)
    with connection.cursor() as cursor:
        cursor.execute(_target_sql(), [code])
        return cursor.fetchone()


# PostgreSQL: the lookup is a prepared statement, parsed and planned once per connection, run
# by a psycopg cursor with server-side binding kept for the connection. Against Django's
# cursor (client-side binding: the query parsed and planned on each click) it cuts the
# lookup's CPU by half in the web process and by two thirds in PostgreSQL's backend
# (bench/links.py).
_KEPT = threading.local()
# psycopg ignores prepare=True while a connection's prepare_threshold is None, as Django sets
# it to keep connection poolers working: a threshold never reached, for this lookup only,
# lets its explicit preparation through; nothing else on the connection is prepared or
# tracked by psycopg.
_EXPLICIT_ONLY = sys.maxsize
# False once a pooler refused the prepared statement (see _select_prepared): for this process.
_PREPARING = [True]


@functools.cache
def _psycopg():
    import psycopg  # only on PostgreSQL; once, not on each click

    return psycopg


def _select_prepared(code: str) -> tuple[int, str] | None:
    psycopg = _psycopg()
    connection.ensure_connection()
    raw = connection.connection
    cursor = getattr(_KEPT, "cursor", None)
    if cursor is None or cursor.connection is not raw:
        cursor = _KEPT.cursor = psycopg.Cursor(raw)
    threshold = raw.prepare_threshold
    with connection.wrap_database_errors:
        try:
            if threshold is None:
                raw.prepare_threshold = _EXPLICIT_ONLY
            cursor.execute(_target_sql(), (code,), prepare=True)
        except (psycopg.errors.InvalidSqlStatementName, psycopg.errors.DuplicatePreparedStatement):
            # A pooler that hands each transaction another server connection without
            # carrying prepared statements over (PgBouncer in transaction mode before 1.21,
            # or with max_prepared_statements = 0): plain queries from now on.
            logger.warning(
                "short links: prepared statement lost by a connection pooler; this process "
                "goes on without (set SHORT_LINK_PREPARED=0 behind such a pooler)"
            )
            _PREPARING[0] = False
            cursor.execute(_target_sql(), (code,), prepare=False)
        finally:
            raw.prepare_threshold = threshold
        return cursor.fetchone()


def target(code: str) -> tuple[int, str] | None:
    """(link id, URL) of a code, or None when no link has it or its URL is not http(s)."""
    known = _read(code)
    return None if known is None else (known[0], known[1])


def _read(code: str) -> tuple[int, str, float, tuple[tuple[str, str], ...]] | None:
    """The link's entry in this process's cache (see _TARGETS), read first if need be."""
    now = time.monotonic()
    known = _TARGETS.get(code)
    if known is not None and known[2] > now:
        return known
    try:
        found = _select(code)
    except (OperationalError, InterfaceError):
        # A connection lost (database restarted): Front's requests do not go through Django's
        # request signals, which would close it; one new try on a new connection.
        connection.close()
        found = _select(code)
    if found is None or urlsplit(found[1]).scheme.lower() not in ("http", "https"):
        return None
    # The headers as Django's redirect makes them (its checks on the URL included), once per
    # link read: Front answers from them without building a response per click.
    headers = tuple(_response(found[1]).items())
    if len(_TARGETS) >= TARGETS_KEPT:
        _TARGETS.clear()  # crude, but lock-free for threads; misses refill it
    known = _TARGETS[code] = (found[0], found[1], now + TARGETS_SECONDS, headers)
    return known


def targets_forget() -> None:
    """Empty this process's cache of links read (tests)."""
    _TARGETS.clear()


def _counted(request: HttpRequest) -> bool:
    """A person's click: not a HEAD, not a preview fetcher that says so."""
    return request.method == "GET" and not PREVIEW_BOTS.search(
        request.META.get("HTTP_USER_AGENT", "").lower()
    )


def redirect(request: HttpRequest, code: str) -> HttpResponseRedirect | None:
    """The redirect to a link's URL, a person's click counted (total, first and last click);
    None when there is no such link. The target comes from the link's row only, never from
    the request."""
    if not CODE.fullmatch(code):
        return None
    found = target(code)
    if found is None:
        return None
    link_id, url = found
    if _counted(request):
        clicks.record(link_id, at=time.time())
    return _response(url)


def _response(url: str) -> HttpResponseRedirect:
    response = HttpResponseRedirect(url)
    response["Cache-Control"] = "no-store"  # each click must reach us to be counted
    response["Referrer-Policy"] = "no-referrer"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Length"] = "0"
    return response


@require_safe
def follow(request: HttpRequest, code: str):
    """The redirect through Django's URLs (the test client, a server without `Front`).
    Unknown codes answer 404. Links are kept when their campaign is deleted, so a message
    already received keeps working."""
    response = redirect(request, code)
    if response is None:
        raise Http404
    return response


class Front:
    """WSGI application in front of Django's (smspanel/wsgi.py): answers a short link's GET or
    HEAD itself, without Django's middleware (sessions, CSRF, locale, CSP… serve no purpose on a
    bodiless redirect and cost more than the redirect itself: bench/links.py), and hands every
    other request to Django, as well as what the redirect does not settle: an unknown code
    (Django's 404 page), another method (405), plain HTTP when HTTPS is required."""

    def __init__(self, app):
        self.app = app
        self.prefix = "/" + url_prefix()
        # With no path in SHORT_LINK_BASE, links answer at the root of their own host only.
        self.host = None if url_prefix() else urlsplit(settings.SHORT_LINK_BASE).netloc.lower()

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if (
            path.startswith(self.prefix)
            and environ.get("REQUEST_METHOD") in ("GET", "HEAD")
            and CODE.fullmatch(path[len(self.prefix) :])
        ):
            request = WSGIRequest(environ)
            if self._mine(request):
                try:
                    known = _read(path[len(self.prefix) :])
                    if known is not None and _counted(request):
                        clicks.record(known[0], at=time.time())
                except DatabaseError:
                    known = None  # Django answers, its error page and log included
                if known is not None:
                    # No response object: its close() would send request_finished, whose
                    # connection check then costs a query on the next miss.
                    start_response("302 Found", list(known[3]))
                    return [b""]
        return self.app(environ, start_response)

    def _mine(self, request: HttpRequest) -> bool:
        if settings.SECURE_SSL_REDIRECT and not request.is_secure():
            return False  # Django redirects to HTTPS first
        if self.host is None:
            return True
        try:
            return request.get_host().lower() == self.host
        except DisallowedHost:
            return False


def url_prefix() -> str:
    """Where the redirect answers on this server: SHORT_LINK_BASE's path ("l/")."""
    path = urlsplit(settings.SHORT_LINK_BASE).path.strip("/")
    return f"{path}/" if path else ""
