"""Clicks on tracked short links: counted in Redis by the redirect, written to the links' rows
by the beat's `clicks_flush` every few seconds.

A redirect costs one Redis round trip (a script: HINCRBY total, HSETNX first click, HSET last
click on one hash) instead of a database write: bench/links.py showed the write, not the
lookup, to be what held redirects back. Statistics show clicks once flushed (the beat runs it
every 5 s).

Nothing is counted twice or lost when a flusher dies: the live hash is renamed to a single
"flushing" hash that carries a batch id; the flush adds it to the rows and records the batch id
(`ClickFlush`, unique) in one transaction, then deletes the hash. A flusher that dies before the
commit leaves the hash for the next one; one that dies after it leaves a hash whose batch id is
already recorded, which the next one only deletes. What can be lost: the clicks Redis holds
when Redis itself loses its data (restarted without persistence), at most those since the last
flush (5 s), or more if flushing had been failing (the database down). When Redis cannot be
reached at click time, the click is written to the row at once instead.
"""

from __future__ import annotations

import functools
import hashlib
import os
import uuid
from datetime import UTC, datetime, timedelta

import redis
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from redis.exceptions import NoScriptError

from .models import ClickFlush, ShortLink

# A live hash nobody flushes (no beat) is dropped after this; markers are kept as long.
KEEP = timedelta(days=7)

# KEYS: live. ARGV: link id, Unix time, seconds to keep. One command per click: a MULTI of the
# same four commands cost 3× more of the web process's time (bench/links.py).
_CLICK = """
redis.call('HINCRBY', KEYS[1], 'n' .. ARGV[1], 1)
redis.call('HSETNX', KEYS[1], 'f' .. ARGV[1], ARGV[2])
redis.call('HSET', KEYS[1], 'l' .. ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
"""
_CLICK_SHA = hashlib.sha1(_CLICK.encode()).hexdigest()
# KEYS: live, flushing. ARGV: a new batch id. Returns the batch to flush (an unfinished one
# first), or nil when there is nothing to flush.
_CLAIM = """
if redis.call('EXISTS', KEYS[2]) == 0 then
  if redis.call('EXISTS', KEYS[1]) == 0 then return false end
  redis.call('RENAME', KEYS[1], KEYS[2])
  redis.call('PERSIST', KEYS[2])
  redis.call('HSET', KEYS[2], 'batch', ARGV[1])
end
return redis.call('HGET', KEYS[2], 'batch')
"""
# KEYS: flushing. ARGV: the batch id. Deletes it only if it is still that batch.
_DONE = """
if redis.call('HGET', KEYS[1], 'batch') == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


@functools.cache
def _client(url: str, pid: int) -> redis.Redis:
    # One connection per process (its lock serialises threads), not a pool: a pool's checkout
    # and return cost as much as the command (bench/links.py). Short timeouts: a click never
    # waits long for a Redis that is gone, it is written to the database instead.
    return redis.Redis.from_url(
        url, socket_timeout=1, socket_connect_timeout=1, single_connection_client=True
    )


def _redis() -> redis.Redis:
    return _client(settings.REDIS_URL, os.getpid())


def _keys() -> tuple[str, str]:
    prefix = settings.SHORT_LINK_CLICKS_KEY
    return f"{prefix}:live", f"{prefix}:flushing"


def _bulk(value: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(value), value)


@functools.cache
def _click_head(live: str) -> bytes:
    """EVALSHA <_CLICK> 1 <live>, packed: a click's command only adds its three arguments."""
    parts = (b"EVALSHA", _CLICK_SHA.encode(), b"1", live.encode())
    return b"*7\r\n" + b"".join(_bulk(part) for part in parts)


def _send_click(client: redis.Redis, live: str, args: tuple[int, str, int]) -> None:
    """The click's EVALSHA on the client's one connection, packed here and sent without
    redis-py's command machinery: its packing, retries and metrics cost the web process more
    than the round trip (bench/links.py). Not retried: a click Redis fails is written to the
    database instead. The connection (AUTH, SELECT, TLS) is still redis-py's."""
    packed = _click_head(live) + b"".join(_bulk(str(arg).encode()) for arg in args)
    conn = client.connection
    with client.single_connection_lock:  # threads of one process share the connection
        conn.send_packed_command([packed], check_health=False)
        conn.read_response()


def record(link_id: int, *, at: float) -> None:
    """Count one click on a link (`at`: Unix time)."""
    live, _flushing = _keys()
    args = (link_id, repr(at), int(KEEP.total_seconds()))
    try:
        client = _redis()
        try:
            _send_click(client, live, args)
        except NoScriptError:  # a Redis that has not seen it yet (started, restarted)
            client.eval(_CLICK, 1, live, *args)
    except redis.RedisError:
        moment = datetime.fromtimestamp(at, UTC)
        ShortLink.objects.filter(pk=link_id).update(
            clicks=F("clicks") + 1,
            first_click_at=Coalesce("first_click_at", Value(moment)),
            last_click_at=moment,
        )


def _rows(fields: dict[bytes, bytes]) -> list[tuple[int, int, datetime, datetime]]:
    """(link id, clicks, first, last) from a hash's fields n<id>, f<id>, l<id>."""
    links: dict[int, dict[str, bytes]] = {}
    for name, value in fields.items():
        kind, rest = name[:1].decode(), name[1:]
        if kind in "nfl" and rest.isdigit():
            links.setdefault(int(rest), {})[kind] = value
    now = timezone.now().timestamp()
    rows = []
    for link_id, got in links.items():
        last = float(got.get("l") or got.get("f") or now)
        first = float(got.get("f") or last)
        rows.append(
            (
                link_id,
                int(got.get("n") or 0),
                datetime.fromtimestamp(first, UTC),
                datetime.fromtimestamp(last, UTC),
            )
        )
    return rows


def _apply(rows: list[tuple[int, int, datetime, datetime]]) -> None:
    """Add the clicks to the rows: one statement (PostgreSQL) or one executemany (SQLite);
    columns from the model. A link deleted meanwhile is skipped."""
    col = {
        f: connection.ops.quote_name(ShortLink._meta.get_field(f).column)
        for f in ("id", "clicks", "first_click_at", "last_click_at")
    }
    table = connection.ops.quote_name(ShortLink._meta.db_table)
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            id_type, n_type = (
                ShortLink._meta.get_field(f).db_type(connection) for f in ("id", "clicks")
            )
            cursor.execute(
                f"UPDATE {table} AS t SET {col['clicks']} = t.{col['clicks']} + v.n, "
                f"{col['first_click_at']} = COALESCE(t.{col['first_click_at']}, v.f), "
                f"{col['last_click_at']} = GREATEST(t.{col['last_click_at']}, v.l) "
                f"FROM (SELECT unnest(%s::{id_type}[]) AS id, unnest(%s::{n_type}[]) AS n, "
                "unnest(%s::timestamptz[]) AS f, unnest(%s::timestamptz[]) AS l) AS v "
                f"WHERE t.{col['id']} = v.id",
                [list(column) for column in zip(*rows, strict=True)],
            )
            return
        cursor.executemany(
            f"UPDATE {table} SET {col['clicks']} = {col['clicks']} + %s, "
            f"{col['first_click_at']} = COALESCE({col['first_click_at']}, %s), "
            f"{col['last_click_at']} = MAX(COALESCE({col['last_click_at']}, %s), %s) "
            f"WHERE {col['id']} = %s",
            [(n, adapt(f), adapt(last), adapt(last), pk) for pk, n, f, last in rows],
        )


def flush(*, rounds: int = 20) -> int:
    """Move the clicks counted in Redis to the links' rows; returns how many were added.
    Safe to run twice at once and after a flusher died (see the module's docstring)."""
    live, flushing = _keys()
    client = _redis()
    claim, done = client.register_script(_CLAIM), client.register_script(_DONE)
    added = 0
    for _ in range(rounds):
        batch = claim(keys=[live, flushing], args=[uuid.uuid4().hex])
        if batch is None:
            break
        rows = _rows(client.hgetall(flushing))
        now = timezone.now()
        try:
            with transaction.atomic():
                ClickFlush.objects.create(batch=batch.decode(), at=now)
                if rows:
                    _apply(rows)
                added += sum(r[1] for r in rows)
        except IntegrityError:
            pass  # this batch was added already (its flusher died before deleting it)
        done(keys=[flushing], args=[batch])
    ClickFlush.objects.filter(at__lt=timezone.now() - KEEP).delete()
    return added


def flushed() -> bool:
    """Flush; False when Redis cannot be read (clicks may be waiting there)."""
    try:
        flush()
    except redis.RedisError:
        return False
    return True


def pending() -> int:
    """Clicks counted in Redis and not flushed yet (for the bench and staff)."""
    client = _redis()
    total = 0
    for key in _keys():
        total += sum(int(v) for k, v in client.hgetall(key).items() if k[:1] == b"n")
    return total
