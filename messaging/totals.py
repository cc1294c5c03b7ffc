"""The dashboard's totals (MessageTotal): added to in the transactions that move messages.

Each step that changes messages' states adds, in one set-based statement, how many entered
which state in which hour of creation (and their credits): the insert of a job's rows, the
record of a batch's accepted submissions, delivery reports, failures and refunds
(ledger.messages_fail), cancellations. Totals only grow, except when a message goes back to be
sent again (a delivery error handled as a route problem), which takes back its `submitted`.
The dashboard then sums a few rows per hour instead of reading every message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal

from django.db import connection

from .models import MessageTotal, OutgoingMessage

_Q = OutgoingMessage.Status


def hour_of(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _hour_sql(column: str) -> str:
    """The UTC hour of a datetime column, as the database stores a DateTimeField."""
    if connection.vendor == "postgresql":
        return f"date_trunc('hour', {column})"  # Django's sessions run in UTC
    return f"substr({column}, 1, 13) || ':00:00'"  # SQLite stores "YYYY-MM-DD HH:MM:SS…" text


def _names():
    q = connection.ops.quote_name
    meta = MessageTotal._meta
    cols = [q(meta.get_field(f).column) for f in ("account", "hour", "status", "count", "credits")]
    return q(meta.db_table), cols


def _upsert_tail(cols: list[str]) -> str:
    count, credits = cols[3], cols[4]
    return (
        f" ON CONFLICT ({', '.join(cols[:3])}) DO UPDATE SET "
        f"{count} = {_names()[0]}.{count} + excluded.{count}, "
        f"{credits} = {_names()[0]}.{credits} + excluded.{credits}"
    )


def add(entries: Iterable[tuple[int, datetime, str, int, Decimal]]) -> None:
    """Add (account id, any time in the hour, status, count, credits) entries: one statement."""
    add_prepared(entries)()


def add_prepared(entries: Iterable[tuple[int, datetime, str, int, Decimal]]) -> Callable[[], None]:
    """add() in two steps: the entries are merged now, the returned function writes them
    (built before SQLite's write lock is taken, as core.bulk.insert_returning_prepared)."""
    merged: dict[tuple, list] = {}
    hours: dict[datetime, datetime] = {}  # a batch's entries share a few moments
    for account_id, moment, status, n, credits in entries:
        hour = hours.get(moment)
        if hour is None:
            hour = hours[moment] = hour_of(moment)
        slot = merged.get((account_id, hour, status))
        if slot is None:
            merged[account_id, hour, status] = [n, Decimal(credits)]
        else:
            slot[0] += n
            slot[1] += Decimal(credits)
    if not merged:
        return lambda: None
    table, cols = _names()
    adapt = connection.ops.adapt_datetimefield_value
    values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(merged))
    params = []
    for (account_id, hour, status), (n, credits) in merged.items():
        params += [account_id, adapt(hour), status, n, str(credits)]
    sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES {values}{_upsert_tail(cols)}"

    def write() -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)

    return write


# The columns add_moved() reads from `moved`: core.bulk.update(returning=MOVED, then=…).
MOVED = ("account", "created_at", "credits")


def add_moved(status: str) -> tuple[str, list]:
    """PostgreSQL: the statement adding the rows of the common table `moved` (account_id,
    created_at, credits of messages that entered `status`) to the totals, for
    core.bulk.update(then=…): counted where they were changed, never read into Python."""
    table, cols = _names()
    q, meta = connection.ops.quote_name, OutgoingMessage._meta
    account, created, credits = (q(meta.get_field(f).column) for f in MOVED)
    return (
        f"INSERT INTO {table} ({', '.join(cols)}) "
        f"SELECT {account}, {_hour_sql(created)}, %s, COUNT(*), SUM({credits}) FROM moved "
        f"GROUP BY {account}, {_hour_sql(created)}{_upsert_tail(cols)}",
        [status],
    )


def add_submitted(*, ids: Sequence[int], submitted_at) -> None:
    """After a batch's accepted messages were recorded: they entered `submitted`. Only rows
    this record moved carry its `submitted_at` (a value the database adapter gave), so a
    message taken over by another dispatcher meanwhile is not counted twice. One statement."""
    if not ids:
        return
    table, cols = _names()
    q = connection.ops.quote_name
    meta = OutgoingMessage._meta
    col = {f: q(meta.get_field(f).column) for f in ("id", "account", "created_at", "credits",
                                                    "status", "submitted_at")}  # fmt: skip
    hour = _hour_sql(col["created_at"])
    if connection.vendor == "postgresql":
        among, id_params = f"{col['id']} = ANY(%s)", [list(ids)]
    else:
        among, id_params = f"{col['id']} IN ({', '.join(['%s'] * len(ids))})", list(ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(cols)}) "
            f"SELECT {col['account']}, {hour}, %s, COUNT(*), SUM({col['credits']}) "
            f"FROM {q(meta.db_table)} WHERE {among} AND {col['status']} = %s "
            f"AND {col['submitted_at']} = %s GROUP BY {col['account']}, {hour}"
            f"{_upsert_tail(cols)}",
            [_Q.SUBMITTED, *id_params, _Q.SUBMITTED, submitted_at],
        )


# --- Rebuilding from the messages (data migration, benches, tests) ----------------------------

# The states a message in each current state went through, as the totals count them.
PATHS = {
    _Q.QUEUED: (_Q.QUEUED,),
    _Q.SUBMITTING: (_Q.QUEUED,),
    _Q.SUBMITTED: (_Q.QUEUED, _Q.SUBMITTED),
    _Q.DELIVERED: (_Q.QUEUED, _Q.SUBMITTED, _Q.DELIVERED),
    _Q.UNDELIVERED: (_Q.QUEUED, _Q.SUBMITTED, _Q.UNDELIVERED),
    _Q.EXPIRED: (_Q.QUEUED, _Q.SUBMITTED, _Q.EXPIRED),
    _Q.FAILED: (_Q.QUEUED, _Q.FAILED),
    _Q.CANCELLED: (_Q.QUEUED, _Q.CANCELLED),
    _Q.STOPLISTED: (_Q.STOPLISTED,),
}


def rebuild(account_ids: Iterable[int] | None = None) -> None:
    """Recompute the totals of these accounts (all by default) from their messages."""
    q = connection.ops.quote_name
    meta = OutgoingMessage._meta
    col = {f: q(meta.get_field(f).column) for f in ("account", "created_at", "credits", "status")}
    hour = _hour_sql(col["created_at"])
    where, params = "", []
    totals = MessageTotal.objects.all()
    if account_ids is not None:
        account_ids = list(account_ids)
        where = f" WHERE {col['account']} IN ({', '.join(['%s'] * len(account_ids))})"
        params = account_ids
        totals = totals.filter(account_id__in=account_ids)
    totals.delete()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {col['account']}, {hour}, {col['status']}, COUNT(*), SUM({col['credits']}) "
            f"FROM {q(meta.db_table)}{where} GROUP BY {col['account']}, {hour}, {col['status']}",
            params,
        )
        rows = cursor.fetchall()
    entries = []
    for account_id, hour_value, status, n, credits in rows:
        if isinstance(hour_value, str):
            hour_value = datetime.fromisoformat(hour_value).replace(tzinfo=UTC)
        for step in PATHS.get(status, ()):
            entries.append((account_id, hour_value, step, n, round(Decimal(str(credits or 0)), 2)))
    for start in range(0, len(entries), 500):
        add(entries[start : start + 500])
