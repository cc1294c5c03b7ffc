"""Tracked short links: each http(s) URL of a campaign's message becomes, for each recipient,
`<SHORT_LINK_BASE>/<code>` with a random code of fixed length, so every click is counted for one
recipient. The redirect answers with the URL the customer wrote and nothing else (no open
redirect: the target is read from the link's row, never from the request).

The code has a fixed length, so every recipient's text counts the same: the counter, the estimate
and the charge count the text with the short link in it (`shape`)."""

import functools
import re
import secrets
import string
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.utils import timezone
from django.views.decorators.http import require_safe

from .models import ShortLink

# A URL in a message: up to the next space; the punctuation that ends a sentence is not part
# of it ("Voir https://ex.com/promo." links to https://ex.com/promo).
URL = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}»"
ALPHABET = string.ascii_letters + string.digits
# User agents of link-preview fetchers that say who they are: they get the redirect, uncounted.
PREVIEW_BOTS = re.compile(
    r"facebookexternalhit|facebot|twitterbot|slackbot|slack-imgproxy|whatsapp|telegrambot|"
    r"discordbot|linkedinbot|skypeuripreview|applebot|googlebot|bingbot|iframely|embedly|"
    r"pinterest|redditbot|vkshare|snapchat|viber|signal|mastodon|bot\b|crawler|spider|preview",
    re.IGNORECASE,
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


class Tracker:
    """Renders each recipient's text with its own short links (job_submit's `render`), and
    keeps the links to write once the job exists."""

    def __init__(self, render_text, recipients: list, texts_urls: list[str]):
        self.render_text = render_text  # recipient -> personalised text (links not replaced)
        self.urls = texts_urls
        codes = iter(new_codes(len(recipients) * len(texts_urls)))
        self.codes = {r.number: {url: next(codes) for url in texts_urls} for r in recipients}
        self.links: list[tuple[str, str, str]] = []  # (code, receiver, url)

    def __call__(self, recipient):
        text = self.render_text(recipient)
        mine = self.codes.get(recipient.number)
        if mine is None:  # not expected: the tracker is built for these recipients
            return text, text
        self.links.extend((code, recipient.number, url) for url, code in mine.items())
        return _replace(text, {url: short_url(code) for url, code in mine.items()}), shape(text)

    def save(self, job) -> None:
        ShortLink.objects.bulk_create(
            [ShortLink(code=c, job=job, receiver=r, url=u) for c, r, u in self.links],
            batch_size=2000,
        )
        self.links = []


@functools.cache
def _click_sql(vendor: str) -> str:
    """One statement that counts a click and returns the link's URL (built once per vendor).

    One round trip instead of five (begin, set, update, commit, select): bench/links.py showed
    the round trips, and on PostgreSQL the wait for the WAL to reach the disk (~10 ms), were
    nearly all of a redirect's time. A click is a statistic, not money, so on PostgreSQL it
    does not wait for the disk (set_config(..., true) lasts for this statement's own
    transaction): a crash may lose the last instants of clicks, never corrupt them."""
    table = connection.ops.quote_name(ShortLink._meta.db_table)
    col = {
        f: connection.ops.quote_name(ShortLink._meta.get_field(f).column)
        for f in ("code", "url", "clicks", "first_click_at", "last_click_at")
    }
    update = (
        f"UPDATE {table} SET {col['clicks']} = {col['clicks']} + 1, "
        f"{col['first_click_at']} = COALESCE({col['first_click_at']}, %s), "
        f"{col['last_click_at']} = %s"
    )
    if vendor == "postgresql":
        return (
            "WITH no_wait AS (SELECT set_config('synchronous_commit', 'off', true)) "
            f"{update} FROM no_wait WHERE {col['code']} = %s RETURNING {col['url']}"
        )
    return f"{update} WHERE {col['code']} = %s RETURNING {col['url']}"


def _click(code: str, now) -> str | None:
    moment = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.execute(_click_sql(connection.vendor), [moment, moment, code])
        row = cursor.fetchone()
    return row[0] if row else None


def _counted(request: HttpRequest) -> bool:
    """A person's click: not a HEAD, not a preview fetcher that says so."""
    return request.method == "GET" and not PREVIEW_BOTS.search(
        request.headers.get("User-Agent", "")
    )


@require_safe
def follow(request: HttpRequest, code: str):
    """Redirect to the link's URL; a person's click counts (total, first and last click).

    Unknown codes answer 404. Links are kept when their campaign is deleted, so a message
    already received keeps working."""
    if len(code) > 16:
        raise Http404
    if _counted(request):
        url = _click(code, timezone.now())
    else:
        url = next(iter(ShortLink.objects.filter(code=code).values_list("url", flat=True)), None)
    if url is None or urlsplit(url).scheme.lower() not in ("http", "https"):
        raise Http404
    response = HttpResponseRedirect(url)
    response["Cache-Control"] = "no-store"  # each click must reach us to be counted
    response["Referrer-Policy"] = "no-referrer"
    return response


def url_prefix() -> str:
    """Where the redirect answers on this server: SHORT_LINK_BASE's path ("l/")."""
    path = urlsplit(settings.SHORT_LINK_BASE).path.strip("/")
    return f"{path}/" if path else ""
