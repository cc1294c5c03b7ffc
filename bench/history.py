"""Time the outgoing history page, its CSV export and the dashboard at 1,000,000 messages,
and an address book's page and search at 1,000,000 contacts.

Fills a throwaway database with one account's messages (core.bulk.insert, 10,000 rows a
batch), then requests the pages through Django's test client (in-process, logged in, full
middleware stack) and prints the median of N requests per case, in milliseconds.

The contacts come through the import (addressbooks.services.contact_import_run, the task's
code, with its validation helper processes): once with the search index taken away (the import
as it was before the index, into a book deleted at once), then with it, both timed. The search
by name is then timed through the page and, as a query, next to the filter it replaced
(icontains on surname, first name and company, which reads the whole book).

    .venv/bin/python bench/history.py [--rows 1000000] [--contacts 1000000] [--repeat 20]
                                      [--explain] [--smoke]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/history.py

With DATABASE_URL (PostgreSQL) it creates the database `bench_history` (or $BENCH_DB) next to
the one named, works there, and drops it at the end. Without it, a SQLite file in a temporary directory.
"""

import argparse
import atexit
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
VAR_DIR = tempfile.mkdtemp(prefix="smspanel-bench-history-")
atexit.register(shutil.rmtree, VAR_DIR, ignore_errors=True)  # the SQLite file is ~300 MB
os.environ["SMSPANEL_VAR_DIR"] = VAR_DIR
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smspanel.settings")
# No broker is needed here: point at an unused address so no embedded Redis is started.
os.environ["REDIS_URL"] = "redis://127.0.0.1:1/0"
os.environ["SECURE_SSL_REDIRECT"] = "0"

# BENCH_DB names it otherwise, so that two people can run the bench on one server at once.
BENCH_DB = os.environ.get("BENCH_DB", "bench_history")
SERVER_URL = os.environ.get("DATABASE_URL", "")
ON_POSTGRES = SERVER_URL.startswith(("postgres://", "postgresql://"))


def _postgres(sql: str) -> None:
    """Run one statement on the server's maintenance database (autocommit)."""
    with psycopg.connect(SERVER_URL, autocommit=True) as conn:
        conn.execute(sql)


if ON_POSTGRES:
    _postgres(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
    _postgres(f"CREATE DATABASE {BENCH_DB}")
    parts = urlsplit(SERVER_URL)
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{BENCH_DB}"))
else:
    os.environ.pop("DATABASE_URL", None)

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.files.base import File  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Count, DecimalField, Q, Sum, Value  # noqa: E402
from django.db.models.functions import Coalesce  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts import services  # noqa: E402
from accounts.models import User  # noqa: E402
from addressbooks import search as contact_search  # noqa: E402
from addressbooks import services as books  # noqa: E402
from addressbooks.models import AddressBook, Contact, ContactImport  # noqa: E402
from bench.contacts_file import generate  # noqa: E402
from core import bulk  # noqa: E402
from messaging import stats, totals  # noqa: E402
from messaging.models import OutgoingMessage, SmsJob  # noqa: E402

# Per 1,000 messages: most are delivered, a few of each other final state.
STATUS_MIX = (
    ["delivered"] * 900
    + ["undelivered"] * 30
    + ["failed"] * 20
    + ["expired"] * 10
    + ["stoplisted"] * 10
    + ["submitted"] * 30
)
ERRORS = {"undelivered": "ABSENT_SUBSCRIBER", "failed": "REJECTED", "expired": "EXPIRED"}
DAYS = 60  # the rows span the last 60 days, oldest first
# The columns fill() writes, in the order of its rows; the others keep their database default.
FIELDS = ("job", "account", "receiver", "country", "source", "text", "parts", "credits", "status",
          "operator_id", "error_code", "attempts", "created_at", "submitted_at", "delivered_at")  # fmt: skip
JOBS = 10
CHUNK = 10_000


def fill(account, user, rows: int) -> list[int]:
    """`rows` messages for `account` spread over JOBS jobs and DAYS days; returns job ids."""
    now = timezone.now()
    start = now - timedelta(days=DAYS)
    step = timedelta(days=DAYS) / rows
    jobs = [
        SmsJob.objects.create(
            account=account,
            created_by=user,
            sender_label="" if j % 3 == 0 else f"SHOP{j}",
            message=f"Offre n°{j} : -20 % sur tout le magasin ce week-end. " * 2,
            tag=f"campaign-{j}",
            encoding="GSM-7",
            segments=1,
            credits=rows // JOBS,
            status="done",
        )
        for j in range(JOBS)
    ]
    rng = random.Random(42)
    adapt = connection.ops.adapt_datetimefield_value
    per_job = rows // JOBS + 1
    for first in range(0, rows, CHUNK):
        batch = []
        for i in range(first, min(first + CHUNK, rows)):
            status = "queued" if i >= rows - 500 else rng.choice(STATUS_MIX)
            created = start + step * i
            sent = None if status in ("queued", "stoplisted") else created + timedelta(seconds=2)
            done = (
                created + timedelta(seconds=9) if status in ("delivered", "undelivered") else None
            )
            batch.append(
                (
                    jobs[i // per_job].pk,
                    account.pk,
                    f"+336{i:08d}",
                    "FR",
                    "",
                    "",
                    1,
                    "0.00" if status == "stoplisted" else "1.00",
                    status,
                    f"op-{i}" if sent else "",
                    ERRORS.get(status, ""),
                    1,
                    adapt(created),
                    adapt(sent),
                    adapt(done),
                )
            )
        with transaction.atomic():
            bulk.insert(OutgoingMessage, fields=FIELDS, rows=batch)
    return [job.pk for job in jobs]


def live_figures(account) -> dict:
    """The dashboard's "Since the beginning" figures counted over every message."""
    s = OutgoingMessage.Status
    figures = OutgoingMessage.objects.filter(account=account).aggregate(
        sent=Count("id", filter=Q(status__in=stats.SENT)),
        delivered=Count("id", filter=Q(status=s.DELIVERED)),
        failed=Count("id", filter=Q(status__in=stats.FAILED)),
        stoplisted=Count("id", filter=Q(status=s.STOPLISTED)),
        cancelled=Count("id", filter=Q(status=s.CANCELLED)),
        credits=Coalesce(
            Sum("credits", filter=~Q(status__in=stats.REFUNDED)),
            Value(Decimal("0.00")),
            output_field=DecimalField(max_digits=14, decimal_places=2),
        ),
    )
    figures["credits"] = figures["credits"].quantize(Decimal("0.01"))
    return figures


def import_contacts(account, name: str, path: Path) -> tuple[AddressBook, float]:
    """A new book filled from `path` by the import's own code; (book, lines per second)."""
    book = AddressBook.objects.create(account=account, name=name)
    imp = ContactImport(book=book, original_name=path.name)
    with open(path, "rb") as f:
        imp.file.save(path.name, File(f), save=False)
    imp.save()
    started = time.perf_counter()
    imp = books.contact_import_run(imp.pk)
    seconds = time.perf_counter() - started
    assert imp.status == "done", imp.failure
    return book, imp.total_lines / seconds


def previous_search(book, query: str) -> list[int]:
    """The first page as the search found it before the index (a copy of the filter it had)."""
    condition = Q(surname__icontains=query) | Q(name__icontains=query) | Q(group__icontains=query)
    digits = "".join(c for c in query if c.isdigit())
    if len(digits) >= 3:
        candidates = {digits}
        if digits.startswith("0") and len(digits) > 3:
            candidates.add(digits[1:])
        for part in candidates:
            for field in ("home_phone", "home_mobile", "work_phone", "work_mobile"):
                condition |= Q(**{f"{field}__contains": part})
    contacts = Contact.objects.filter(book=book).filter(condition).order_by("pk")
    return list(contacts.values_list("pk", flat=True)[: books.PAGE_SIZE + 1])


def contacts_bench(account, n: int) -> AddressBook:
    """Import n lines without the search index, then with it; prints both rates."""
    path = Path(VAR_DIR) / "contacts.csv"
    generate(path, n)
    # The import as it was before the index: the index taken away for one import, whose book
    # is deleted before the index comes back (empty, so at once).
    with connection.schema_editor() as editor:
        contact_search.uninstall(editor, Contact._meta.db_table)
    before_book, before = import_contacts(account, "Without the index", path)
    books.book_delete(before_book)
    with connection.schema_editor() as editor:
        contact_search.install(editor, Contact._meta.db_table)
    book, after = import_contacts(account, "Contacts", path)
    print(
        f"{connection.vendor}: imported {n:,} lines: {after:,.0f} lines/s with the search "
        f"index, {before:,.0f} lines/s without it in this run ({after / before:.2f}); "
        f"{book.contacts.count():,} contacts",
        flush=True,
    )
    os.remove(path)
    book.refresh_from_db()
    return book  # searched at once, as after an import (which runs ANALYZE on PostgreSQL)


def median_ms(fn, repeat: int) -> float:
    fn()  # warm up (template loading, connection)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def explain(client, url, params) -> str:
    """The plan of the request's query on the messages or the contacts table."""
    tables = (OutgoingMessage._meta.db_table, Contact._meta.db_table, contact_search.FTS_TABLE)
    with CaptureQueriesContext(connection) as captured:
        client.get(url, params)
    sql = next(
        q["sql"]
        for q in reversed(captured.captured_queries)
        if any(table in q["sql"].split("FROM", 1)[-1][:60] for table in tables)
    )
    prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
    with connection.cursor() as cursor:
        cursor.execute(prefix + sql)
        return "\n".join("      " + " ".join(str(c) for c in row) for row in cursor.fetchall())


def measure(client, account, cases, repeat: int, show_plans: bool) -> dict[str, float]:
    results = {}
    for name, url, params in cases:

        def get(url=url, params=params, name=name):
            response = client.get(url, params)
            assert response.status_code == 200, (name, response.status_code)
            if response.streaming:
                b"".join(response.streaming_content)
            return response

        results[name] = median_ms(get, repeat)
        print(f"  {name:52s} {results[name]:9.1f} ms", flush=True)
        if show_plans and "export" not in name:
            print(explain(client, url, params))
    return results


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--contacts", type=int, default=1_000_000, help="lines imported")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--explain", action="store_true", help="print the query plans")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks it runs")
    args = parser.parse_args()
    if args.smoke:
        args.rows, args.contacts, args.repeat = 3000, 3000, 2

    call_command("migrate", verbosity=0)
    user = User.objects.create_user("bench@example.com", "bench-pass-123")
    account = services.account_open(user=user, free_credits=100)

    started = time.perf_counter()
    job_ids = fill(account, user, args.rows)
    print(
        f"{connection.vendor}: inserted {args.rows:,} messages in "
        f"{time.perf_counter() - started:.1f} s",
        flush=True,
    )

    # The rows were written past the sending steps that keep the dashboard's totals: build
    # them as the migration does for an existing history.
    started = time.perf_counter()
    totals.rebuild([account.pk])
    print(f"dashboard totals rebuilt in {time.perf_counter() - started:.1f} s", flush=True)

    if ON_POSTGRES:
        # What autovacuum does soon after such an insert; SQLite keeps no statistics unless
        # told to (Django never runs ANALYZE there), so it is measured as it comes.
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {OutgoingMessage._meta.db_table}")

    book = contacts_bench(account, args.contacts)
    last = args.contacts - 1

    ids = list(OutgoingMessage.objects.filter(account=account).order_by("id").values_list("id"))
    middle = ids[len(ids) // 2][0]
    rare = OutgoingMessage.objects.get(pk=ids[5][0]).receiver  # among the oldest: worst case
    day = (timezone.localtime() - timedelta(days=DAYS // 2)).date().isoformat()

    history = f"/sms/{account.name}/outgoing/"
    export = f"/sms/{account.name}/outgoing/export.csv"
    dashboard = f"/sms/{account.name}/"
    cases = [
        ("history: first page", history, {}),
        (f"history: deep page (before={middle})", history, {"before": middle}),
        ("history: status=failed", history, {"status": "failed"}),
        ("history: status=failed, deep", history, {"status": "failed", "before": middle}),
        (f"history: receiver={rare} (one row, oldest)", history, {"receiver": rare}),
        ("history: receiver prefix +3360099 (newest 1%)", history, {"receiver": "+3360099"}),
        ("history: receiver prefix +3360000 (oldest 1%)", history, {"receiver": "+3360000"}),
        ("history: tag (one job of 10)", history, {"tag": "campaign-4"}),
        ("history: job id (the oldest job)", history, {"job": job_ids[0]}),
        (f"history: one day ({day}, 30 days ago)", history, {"date_from": day, "date_to": day}),
        ("export: status=failed (2% of rows)", export, {"status": "failed"}),
        ("dashboard: today", dashboard, {"period": "today"}),
        ("dashboard: 7d", dashboard, {"period": "7d"}),
        ("dashboard: all", dashboard, {"period": "all"}),
    ]
    contacts_page = reverse("addressbooks:book", args=[account.name, book.pk])
    # Surnames Nom0…Nom{n-1}, first names Prénom0…Prénom96, companies Société 0…12.
    searches = [
        (f"Nom{last}", "one contact, the newest"),
        ("Nom12345", "Nom12345, Nom123450…: 11 contacts among the oldest"),
        ("prenom 5 societe 12", "accents aside, several words"),
        ("Prénom7", "common: a page at once"),
        ("Dupont", "no contact"),
        ("0612345", "part of a number (a scan, as before)"),
    ]
    cases += [("book: first page", contacts_page, {})] + [
        (f"book: search {query!r} ({what})", contacts_page, {"q": query})
        for query, what in searches
    ]
    locmem = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # No collected manifest here: serve static URLs unhashed, as the tests do.
    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(ALLOWED_HOSTS=["testserver"], CACHES=locmem, STORAGES=storages):
        client = Client()
        client.force_login(user)
        print(f"\nMedian of {args.repeat} requests, Django test client, 1 process:")
        results = measure(client, account, cases, args.repeat, args.explain)

        started = time.perf_counter()
        response = client.get(export)
        size = sum(len(chunk) for chunk in response.streaming_content)
        seconds = time.perf_counter() - started
        print(
            f"\nexport: every row, once: {args.rows:,} rows, {size / 1e6:.0f} MB in {seconds:.1f} s "
            f"({args.rows / seconds:,.0f} rows/s)"
        )

    # The search before the index: its filter, next to the page's own query, in this process.
    print(f"\nSearch queries at {args.contacts:,} lines (median of {args.repeat}), first page:")
    for query, what in searches:
        old = median_ms(lambda q=query: previous_search(book, q), args.repeat)
        new = median_ms(lambda q=query: books.book_page(book, query=q), args.repeat)
        print(f"  {query!r:24s} {what:45s} now {new:7.1f} ms, before {old:7.1f} ms "
              f"({old / new:,.0f}x)")  # fmt: skip
    name = results[f"book: search {searches[0][0]!r} ({searches[0][1]})"]
    print(
        f"The search by name at {book.contacts_count:,} contacts (target < 50 ms): "
        f"{name:.1f} ms for the page with one match"
    )

    # The baseline: "Since the beginning" counted from the messages themselves (the query the
    # dashboard ran before the totals), against the totals, in this process.
    live = median_ms(lambda: live_figures(account), args.repeat)
    kept = median_ms(
        lambda: stats.period_figures(account, "all", timezone.localdate()), args.repeat
    )
    assert live_figures(account) == stats.period_figures(account, "all", timezone.localdate())
    print(
        f"\ndashboard 'all' figures: from the messages {live:.1f} ms, from the totals "
        f"{kept:.1f} ms ({live / kept:.0f}x); the page: {results['dashboard: all']:.1f} ms"
    )

    first = results["history: first page"]
    deep = results[f"history: deep page (before={middle})"]
    print(
        f"\nThe history page at {args.rows:,} rows (target < 100 ms): "
        f"first page {first:.1f} ms, deep page {deep:.1f} ms"
    )

    if ON_POSTGRES:
        connection.close()
        _postgres(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")


if __name__ == "__main__":
    main()
