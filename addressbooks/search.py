"""Finding a book's contacts by name, fast in a book of a million.

What matches: `Contact.search` (`models.search_text`) holds the contact's surname, first name
and company folded by `core.text.fold` ("Dupont", "Jean-Pierre", "Acme" → "dupont jean pierre
acme"); a query is folded the same way and each of its words must be a substring of that
column. `name_filter()` says exactly that with the ORM; the indexes below only find the same
rows sooner (tests/addressbooks/test_search.py compares both on each database).

How it is found:
- PostgreSQL: a pg_trgm GIN index on the column serves the filter itself (`LIKE '%word%'` with
  a word of 3 characters or more); the planner picks it, or the book's id order when a word is
  common enough for the first page to come sooner that way.
- SQLite: an FTS5 table with the trigram tokenizer over the column, external content (it holds
  the index only, the text stays in the contact row), kept by triggers on the contact table.
  The page asks it for the words of 3 characters or more, in id order, within the book's ids,
  and tests the shorter words on the row.

What the index costs the import of 1,000,000 contacts (bench/history.py prints the import with
and without it): ~2.5 s of CPU on SQLite through the insert trigger, 1–2 s less now that the
import indexes its rows in one statement after them (`contacts_inserted_in_bulk`); ~8–10 s of
PostgreSQL's CPU (three quarters of what PostgreSQL spends on the import; a larger
gin_pending_list_limit or work_mem saved under 10%, fastupdate off made it 4× more). FTS5
writes its pending entries at the end of every statement: one-row INSERT statements (as
`executemany` sends them) made it ~10× more, which is why `core.bulk.insert` sends several rows
per statement on SQLite.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DatabaseError, connection, transaction
from django.db.models import Q

from .models import Contact

# The shortest word the trigram indexes can look up; shorter ones are tested on each row.
INDEXED_WORD = 3

FTS_TABLE = "addressbooks_contact_search"
PG_INDEX = "addressbooks_contact_search_trgm"
FTS_HASHSIZE = 1024 * 1024  # FTS5's default (bytes of pending entries before it writes them)
BULK_HASHSIZE = 8 * 1024 * 1024
_TRIGGERS = {
    # new.search is "" for a contact without names: indexed all the same, it costs nothing.
    "insert": "AFTER INSERT ON {contact} BEGIN "
    "INSERT INTO {fts} (rowid, search) VALUES (new.id, new.search); END",
    # External content: FTS5 removes a row's entries given the text it indexed.
    "delete": "AFTER DELETE ON {contact} BEGIN "
    "INSERT INTO {fts} ({fts}, rowid, search) VALUES ('delete', old.id, old.search); END",
    "update": "AFTER UPDATE OF search ON {contact} WHEN old.search IS NOT new.search BEGIN "
    "INSERT INTO {fts} ({fts}, rowid, search) VALUES ('delete', old.id, old.search); "
    "INSERT INTO {fts} (rowid, search) VALUES (new.id, new.search); END",
}


def name_filter(query_words: list[str]) -> Q:
    """The contacts whose names hold every word (folded words, see core.text.words)."""
    condition = Q()
    for word in query_words:
        condition &= Q(search__contains=word)
    return condition


# --- the indexes (created by migration 0006; SQLite's triggers checked after every migrate) ---


def install(schema_editor, contact_table: str) -> None:
    """Create the index of Contact.search for this database and fill it from the rows."""
    vendor = schema_editor.connection.vendor
    quote = schema_editor.connection.ops.quote_name
    if vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {PG_INDEX} ON {quote(contact_table)} "
            "USING gin (search gin_trgm_ops)"
        )
    elif vendor == "sqlite":
        # detail=none, columnsize=0: no positions, no lengths (no phrase queries, no ranking,
        # neither of which the search uses): a third of the index, a fifth less time to write.
        # case_sensitive 1: the column is folded already, and GLOB then uses the index.
        schema_editor.execute(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(search, "
            f"content='{contact_table}', content_rowid='id', "
            "tokenize='trigram case_sensitive 1', detail=none, columnsize=0)"
        )
        _create_triggers(schema_editor.execute, quote(contact_table))
        schema_editor.execute(f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}) VALUES ('rebuild')")


def uninstall(schema_editor, contact_table: str) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {PG_INDEX}")
    elif vendor == "sqlite":
        for event in _TRIGGERS:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {FTS_TABLE}_{event}")
        schema_editor.execute(f"DROP TABLE IF EXISTS {FTS_TABLE}")


def _create_triggers(execute, contact_table: str) -> None:
    """contact_table: quoted."""
    for event, body in _TRIGGERS.items():
        sql = body.format(contact=contact_table, fts=FTS_TABLE)
        execute(f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_{event} {sql}")


def repair_sqlite_index(using: str = "default", **kwargs) -> None:
    """After any migrate (post_migrate): Django's SQLite schema editor rebuilds a table to alter
    it, and the copy has no triggers. Put them back and reindex when any is missing."""
    from django.db import connections

    conn = connections[using]
    if conn.vendor != "sqlite":
        return
    with conn.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE name LIKE %s", [f"{FTS_TABLE}%"])
        present = {row[0] for row in cursor.fetchall()}
        if FTS_TABLE not in present:
            return  # migration 0006 not applied (yet)
        if all(f"{FTS_TABLE}_{event}" in present for event in _TRIGGERS):
            return
        _create_triggers(cursor.execute, conn.ops.quote_name(Contact._meta.db_table))
        cursor.execute(f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}) VALUES ('rebuild')")


@contextmanager
def contacts_inserted_in_bulk() -> Iterator[None]:
    """SQLite: the contacts inserted within the block are indexed in one statement at its end,
    not by the insert trigger row by row (~2 s of CPU less for 1,000,000 contacts: FTS5 writes
    its pending entries at the end of each statement, and the trigger runs per row).

    Inside a transaction only (checked): the trigger is dropped in it and created again before
    it commits, so no other connection ever sees the table without it, and a rollback puts it
    back. New contacts have ids above every id before them (AUTOINCREMENT)."""
    if connection.vendor != "sqlite":
        yield
        return
    assert connection.in_atomic_block, "contacts_inserted_in_bulk() needs a transaction"
    contact = connection.ops.quote_name(Contact._meta.db_table)
    with connection.cursor() as cursor:
        # The write first: from it on, this transaction holds the database's one write lock,
        # so no contact is added by anyone else between the two (in WAL mode, a read first
        # could also make the write fail at once when another connection wrote in between).
        cursor.execute(f"DROP TRIGGER IF EXISTS {FTS_TABLE}_insert")
        # No index to fill where it is not installed (migration 0006 not applied yet, or
        # taken away: bench/history.py imports once without it).
        cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = %s", [FTS_TABLE])
        indexed = cursor.fetchone() is not None
        cursor.execute(f"SELECT coalesce(max(id), 0) FROM {contact}")
        last = cursor.fetchone()[0]
    yield
    if not indexed:
        return
    with connection.cursor() as cursor:
        # FTS5 writes its pending entries out each time they reach `hashsize` (1 MB by
        # default), then merges what it wrote: 8 MB for this statement, 2.1 -> 1.25 s of CPU for
        # 1,000,000 contacts. An option of FTS5's configuration table that its documentation
        # does not list: where it is unknown, the statement runs with the default.
        hashsize = _fts_option(cursor, "hashsize", BULK_HASHSIZE)
        cursor.execute(
            f"INSERT INTO {FTS_TABLE} (rowid, search) SELECT id, search FROM {contact} "
            "WHERE id > %s",
            [last],
        )
        if hashsize:
            _fts_option(cursor, "hashsize", FTS_HASHSIZE)
        insert = _TRIGGERS["insert"].format(contact=contact, fts=FTS_TABLE)
        cursor.execute(f"CREATE TRIGGER {FTS_TABLE}_insert {insert}")


def _fts_option(cursor, name: str, value: int) -> bool:
    """Set an option of the FTS5 table (in the transaction); False where SQLite refuses it."""
    try:
        with transaction.atomic():
            cursor.execute(
                f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}, rank) VALUES (%s, %s)", [name, value]
            )
    except DatabaseError:
        return False
    return True


def statistics_after_import(added: int) -> None:
    """PostgreSQL: refresh the contact table's statistics when an import added a tenth of its
    rows or more, as autovacuum would do within a minute or so. Until then the planner takes
    the trigram index for a common word (176 ms for the first page in a new book of 1,000,000
    contacts, 1.2 ms after ANALYZE, which took 0.26 s)."""
    if connection.vendor != "postgresql" or not added:
        return
    table = Contact._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
        estimated = cursor.fetchone()[0]  # -1: never analysed
        if estimated < 0 or added * 10 >= estimated:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")


# --- the page -------------------------------------------------------------------------------


def keyset_rows(contacts, *, after: int, before: int, limit: int) -> list:
    """Up to `limit` of these contacts in id order after `after`, or the last ones before
    `before` in descending order."""
    if before:
        return list(contacts.filter(pk__lt=before).order_by("-pk")[:limit])
    if after:
        contacts = contacts.filter(pk__gt=after)
    return list(contacts.order_by("pk")[:limit])


def name_page(book, query_words: list[str], *, after: int, before: int, limit: int) -> list:
    """keyset_rows() of the book's contacts matching the words (not empty), through the index."""
    indexed = [w for w in query_words if len(w) >= INDEXED_WORD]
    if connection.vendor == "sqlite" and indexed:
        return _sqlite_page(book, query_words, indexed, after=after, before=before, limit=limit)
    # PostgreSQL's planner uses the trigram index on the filter itself; a query of short
    # words only has no trigram to look up anywhere: the book is read in id order.
    contacts = Contact.objects.filter(book=book).filter(name_filter(query_words))
    return keyset_rows(contacts, after=after, before=before, limit=limit)


def _sqlite_page(book, query_words, indexed, *, after, before, limit) -> list:
    """The FTS5 table drives (CROSS JOIN keeps SQLite from starting with the contact table and
    probing the index once per contact), in its own rowid order so that LIMIT stops it early;
    the book's first and last ids bound it to the book's part of the index."""
    quote = connection.ops.quote_name
    contact = quote(Contact._meta.db_table)
    book_col = quote(Contact._meta.get_field("book").column)
    where = ["f.search GLOB %s" for _ in indexed]
    params: list = [f"*{w}*" for w in indexed]
    # Words too short for a trigram: tested on the row (instr: a plain substring test).
    for word in query_words:
        if len(word) < INDEXED_WORD:
            where.append("instr(c.search, %s) > 0")
            params.append(word)
    where.append(f"f.rowid >= (SELECT MIN(id) FROM {contact} WHERE {book_col} = %s)")
    where.append(f"f.rowid <= (SELECT MAX(id) FROM {contact} WHERE {book_col} = %s)")
    params += [book.pk, book.pk]
    if before:
        where.append("f.rowid < %s")
        params.append(before)
    elif after:
        where.append("f.rowid > %s")
        params.append(after)
    where.append(f"c.{book_col} = %s")
    params.append(book.pk)
    order = "DESC" if before else "ASC"
    sql = (
        f"SELECT c.* FROM {FTS_TABLE} AS f CROSS JOIN {contact} AS c ON c.id = f.rowid "
        f"WHERE {' AND '.join(where)} ORDER BY f.rowid {order} LIMIT %s"
    )
    return list(Contact.objects.raw(sql, [*params, limit]))
