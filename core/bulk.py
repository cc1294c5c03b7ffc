"""Set-based writes for the hot paths (100,000-message jobs, report floods).

PostgreSQL gets one statement per chunk with the values passed as arrays (`unnest`), and COPY for
inserts; SQLite runs one parameterised statement with `executemany`. Measured on a 2-core machine
(500-row batches, rows already in the table), `bulk_update()` managed ~1,000 rows/s against
~26,000–30,000 for `executemany` on SQLite and ~15,000 for `UPDATE … FROM (unnest …)` on
PostgreSQL: it builds one `CASE` per field over the whole batch.

Column names, PostgreSQL types and quoting all come from the model's fields and the backend, so
the SQL follows the model when a column changes.
"""

import fcntl
import os
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from itertools import chain

from django.db import connection, models, transaction

CHUNK = 5000


def _sqlite_max_params() -> int:
    """The parameters one SQLite statement takes here (32,766 by default since SQLite 3.32;
    Django's max_query_params says 999, the limit of older versions)."""
    probe = sqlite3.connect(":memory:")
    try:
        return probe.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    finally:
        probe.close()


SQLITE_MAX_PARAMS = _sqlite_max_params()


@contextmanager
def _sqlite_writers_queue() -> Iterator[None]:
    """SQLite: wait for the database's one write lock in a queue the kernel wakes at once.

    SQLite's own wait (busy_timeout) polls with sleeps of up to 100 ms, so two dispatchers
    taking turns on the write lock spent more time asleep than writing: two worker processes
    sent slower than one. An exclusive flock() beside the database file makes them take turns
    without sleeping; the kernel releases it when a process dies."""
    name = str(connection.settings_dict["NAME"])
    in_memory = ":memory:" in name or name.startswith("file:")
    if connection.vendor != "sqlite" or connection.in_atomic_block or in_memory:
        yield
        return
    fd = os.open(f"{name}.writers", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


@contextmanager
def atomic_write(*, lazy: bool = False) -> Iterator[None]:
    """transaction.atomic() for the dispatcher's short write transactions: on SQLite they
    queue for the write lock (_sqlite_writers_queue); `lazy`: see atomic_lazy_commit."""
    with _sqlite_writers_queue(), atomic_lazy_commit() if lazy else transaction.atomic():
        yield


@contextmanager
def atomic_lazy_commit() -> Iterator[None]:
    """transaction.atomic() whose commit, on PostgreSQL, returns before its WAL is on disk
    (`synchronous_commit` off for this transaction only): the dispatcher commits three times
    per batch, and waiting for the disk each time was a third of its time on PostgreSQL.

    Only for writes whose loss in a database crash the caller already survives, such as a
    dispatcher killed before its write: the WAL is replayed in order, so a lost commit takes
    every later commit with it, never an earlier one, and the database stays consistent.
    Nested in another transaction it is a plain atomic block (the outer commit decides)."""
    outer = connection.in_atomic_block
    with transaction.atomic():
        if not outer and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        yield


def _column(model: type[models.Model], name: str) -> tuple[str, str]:
    """(quoted column, PostgreSQL type for an array cast) of a model field."""
    field = model._meta.get_field(name)
    return connection.ops.quote_name(field.column), field.db_type(connection)


def _table(model: type[models.Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def update(
    model: type[models.Model],
    *,
    fields: Sequence[str],
    key: Sequence[str] = ("id",),
    rows: Sequence[tuple],
    constants: Mapping[str, object] | None = None,
    only_if: Mapping[str, object] | None = None,
    returning: Sequence[str] = (),
    then: tuple[str, list] | None = None,
) -> int | list[tuple]:
    """UPDATE model SET <fields from each row>, <constants> WHERE <key from each row>
    AND <only_if>. Each row holds the values of `fields` then those of `key`.

    `constants` and `only_if` values are passed as parameters (status values from the model's
    enums). Returns the number of rows changed; with `returning` (PostgreSQL only: SQLite's
    executemany cannot return rows), those columns of each row changed — or, with `then`
    (SQL and its parameters), nothing: the rows changed feed that statement in the same one,
    as the common table `moved` (WITH moved AS (UPDATE … RETURNING …) <then>), so they never
    travel to Python.
    """
    if not rows:
        return [] if returning and not then else 0
    assert not returning or connection.vendor == "postgresql", "RETURNING needs PostgreSQL"
    back = ", ".join(f"t.{_column(model, f)[0]}" for f in returning)
    out: list[tuple] = []
    constants = dict(constants or {})
    only_if = dict(only_if or {})
    table = _table(model)
    set_cols = [_column(model, f) for f in fields]
    key_cols = [_column(model, f) for f in key]
    const_cols = [_column(model, f)[0] for f in constants]
    cond_cols = [_column(model, f)[0] for f in only_if]
    changed = 0
    with connection.cursor() as cursor:
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            if connection.vendor == "postgresql":
                values = ", ".join(
                    f"unnest(%s::{pg_type}[]) AS c{i}"
                    for i, (_, pg_type) in enumerate(set_cols + key_cols)
                )
                sets = [f"{col} = v.c{i}" for i, (col, _) in enumerate(set_cols)]
                sets += [f"{col} = %s" for col in const_cols]
                n = len(set_cols)
                where = [f"t.{col} = v.c{n + i}" for i, (col, _) in enumerate(key_cols)]
                where += [f"t.{col} = %s" for col in cond_cols]
                sql = (
                    f"UPDATE {table} AS t SET {', '.join(sets)} "
                    f"FROM (SELECT {values}) AS v WHERE {' AND '.join(where)}"
                    + (f" RETURNING {back}" if returning else "")
                )
                # In the order the placeholders appear: SET, FROM, WHERE.
                params = (
                    list(constants.values())
                    + [list(col) for col in zip(*chunk, strict=True)]
                    + list(only_if.values())
                )
                if then:
                    cursor.execute(f"WITH moved AS ({sql}) {then[0]}", params + list(then[1]))
                    continue
                cursor.execute(sql, params)
                if returning:
                    out.extend(cursor.fetchall())
            else:
                sets = [f"{col} = %s" for col, _ in set_cols] + [f"{c} = %s" for c in const_cols]
                where = [f"{col} = %s" for col, _ in key_cols] + [f"{c} = %s" for c in cond_cols]
                n = len(set_cols)
                extra_set, extra_where = list(constants.values()), list(only_if.values())
                cursor.executemany(
                    f"UPDATE {table} SET {', '.join(sets)} WHERE {' AND '.join(where)}",
                    [(*row[:n], *extra_set, *row[n:], *extra_where) for row in chunk],
                )
            changed += max(cursor.rowcount, 0)
    return out if returning and not then else changed


def insert(
    model: type[models.Model],
    *,
    fields: Sequence[str],
    rows: Sequence[tuple],
    binary: bool = False,
) -> None:
    """INSERT rows holding the values of `fields` in order; PostgreSQL uses COPY.

    Values go to the database as they are: datetimes through
    `connection.ops.adapt_datetimefield_value`, decimals as text, as the ORM would send them.
    `binary`: PostgreSQL's binary COPY, for values of the columns' own Python types (int, str,
    datetime; not decimals as text): psycopg writes them a quarter as fast as the text format
    (0.1 s instead of 0.4 s of CPU for 200,000 contacts).
    """
    table = _table(model)
    names = ", ".join(_column(model, f)[0] for f in fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            sql = f"COPY {table} ({names}) FROM STDIN" + (" (FORMAT BINARY)" if binary else "")
            with cursor.cursor.copy(sql) as copy:
                if binary:
                    # "varchar(16)" → "varchar": psycopg knows the types by their plain names.
                    copy.set_types([_column(model, f)[1].split("(")[0] for f in fields])
                for row in rows:
                    copy.write_row(row)
            return
        # Several rows per statement, sent with executemany(): 2.2 s of CPU for 1,000,000
        # contacts against 3.6 s with one statement per row; FTS5 (the contact search index)
        # also writes its pending entries once per statement. At most 32,766 parameters a
        # statement, even where SQLite allows more (250,000 on Debian): Django rewrites the
        # placeholders of each statement it is given, which cost 1.7 s for 1,000,000 contacts
        # sent as one statement per 20,000 rows.
        per = max(1, min(SQLITE_MAX_PARAMS, 32_766) // len(fields))
        row_marks = f"({','.join(['%s'] * len(fields))})"

        def statement(count: int) -> str:
            return f"INSERT INTO {table} ({names}) VALUES {','.join([row_marks] * count)}"

        full = len(rows) // per * per
        if full:
            cursor.executemany(
                statement(per),
                (list(chain.from_iterable(rows[i : i + per])) for i in range(0, full, per)),
            )
        if full < len(rows):
            cursor.execute(statement(len(rows) - full), list(chain.from_iterable(rows[full:])))


def insert_returning(
    model: type[models.Model],
    *,
    fields: Sequence[str],
    rows: Sequence[tuple],
    returning: Sequence[str],
) -> list[tuple]:
    """INSERT rows as `insert()` does and return the `returning` columns of each inserted row,
    in no particular order. `returning` names the primary key and fields among `fields`."""
    return insert_returning_prepared(model, fields=fields, rows=rows, returning=returning)()


def insert_returning_prepared(
    model: type[models.Model],
    *,
    fields: Sequence[str],
    rows: Sequence[tuple],
    returning: Sequence[str],
) -> Callable[[], list[tuple]]:
    """insert_returning() in two steps: the statements and their parameters are built now, the
    returned function writes them. SQLite's callers build before taking the database's one
    write lock, so the other writers wait only for the writing."""
    table = _table(model)
    if connection.vendor == "postgresql":
        return lambda: _insert_returning_postgresql(model, fields, rows, returning)
    # SQLite: one multi-row VALUES statement per chunk (executemany cannot return rows); as
    # fast as executemany.
    cols = ", ".join(_column(model, f)[0] for f in fields)
    back = ", ".join(_column(model, f)[0] for f in returning)
    per = max(1, connection.features.max_query_params // len(fields))
    row_marks = f"({', '.join(['%s'] * len(fields))})"
    statements = [
        (
            f"INSERT INTO {table} ({cols}) VALUES {', '.join([row_marks] * len(chunk))} "
            f"RETURNING {back}",
            [value for row in chunk for value in row],
        )
        for chunk in (rows[start : start + per] for start in range(0, len(rows), per))
    ]

    def write() -> list[tuple]:
        out: list[tuple] = []
        with connection.cursor() as cursor:
            for sql, params in statements:
                cursor.execute(sql, params)
                out.extend(cursor.fetchall())
        return out

    return write


def _insert_returning_postgresql(model, fields, rows, returning) -> list[tuple]:
    # Ids are taken from the table's sequence first, then the rows are COPYed with them:
    # the rows to return are known without reading them back (a join on a unique key
    # after the COPY cost half as much again as the COPY itself).
    meta = model._meta
    pk = meta.pk.column
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, pk, len(rows)],
        )
        ids = [r[0] for r in cursor.fetchall()]
    at = {meta.get_field(f).column: i for i, f in enumerate(fields)}
    picks = [None if meta.get_field(f).column == pk else at[meta.get_field(f).column]
             for f in returning]  # fmt: skip
    insert(
        model,
        fields=(meta.pk.name, *fields),
        rows=[(i, *r) for i, r in zip(ids, rows, strict=True)],
    )
    return [
        tuple(i if p is None else row[p] for p in picks)
        for i, row in zip(ids, rows, strict=True)
    ]
