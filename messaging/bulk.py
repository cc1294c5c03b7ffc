"""Set-based writes for the hot paths (100,000-message jobs, report floods).

PostgreSQL gets one statement per call with the values passed as arrays (`unnest`), and COPY
for inserts; SQLite, in-process, runs one parameterised statement with executemany. Both are an order of magnitude
faster than bulk_update()/bulk_create() here (shared/perf-notes.md).
"""

from collections.abc import Sequence

from django.db import connection

CHUNK = 5000


def update_by_id(
    table: str,
    *,
    columns: Sequence[tuple[str, str]],
    rows: Sequence[tuple],
    fixed: str = "",
    where: str = "",
) -> None:
    """UPDATE table SET <column> = <value>… [, fixed] WHERE id = <last value> [AND where].

    columns: (name, PostgreSQL type) of the values in each row; each row ends with the id.
    """
    if not rows:
        return
    assignments = [f"{name} = v.c{i}" for i, (name, _) in enumerate(columns)]
    if fixed:
        assignments.append(fixed)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            if connection.vendor == "postgresql":
                values = ", ".join(
                    f"unnest(%s::{pg_type}[]) AS c{i}" for i, (_, pg_type) in enumerate(columns)
                )
                cursor.execute(
                    f"UPDATE {table} AS t SET {', '.join(assignments)} "
                    f"FROM (SELECT {values}, unnest(%s::bigint[]) AS id) AS v "
                    f"WHERE t.id = v.id{' AND t.' + where if where else ''}",
                    [list(col) for col in zip(*chunk, strict=True)],
                )
            else:
                sets = [f"{name} = %s" for name, _ in columns] + ([fixed] if fixed else [])
                cursor.executemany(
                    f"UPDATE {table} SET {', '.join(sets)} "
                    f"WHERE id = %s{' AND ' + where if where else ''}",
                    chunk,
                )


def insert(table: str, *, columns: Sequence[tuple[str, str]], rows: Sequence[tuple]) -> None:
    """INSERT rows; columns: (name, PostgreSQL type) in row order. PostgreSQL uses COPY."""
    names = ", ".join(name for name, _ in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        marks = ", ".join(["%s"] * len(columns))
        for start in range(0, len(rows), CHUNK * 4):
            cursor.executemany(
                f"INSERT INTO {table} ({names}) VALUES ({marks})", rows[start : start + CHUNK * 4]
            )
