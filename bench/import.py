"""Contact import throughput: a 1,000,000-line CSV through contact_import_run (in process),
next to a naive row-by-row ORM loop on a 20,000-line sample, in the same run; then the time
of the book page with those contacts.

    .venv/bin/python bench/import.py [--n 1000000] [--naive 20000] [--worker] [--xlsx 200000]
    .venv/bin/python bench/import.py --smoke   # 12,000 lines, also through a worker and as .xlsx
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/import.py

On PostgreSQL the script creates and drops its own database (bench_import, or $BENCH_DB); on
SQLite it works in a temporary directory.
"""

import argparse
import csv
import os
import pickle
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
import types
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
VAR = tempfile.mkdtemp(prefix="smspanel-bench-import-")
os.environ["SMSPANEL_VAR_DIR"] = VAR
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smspanel.settings")
os.environ["SECURE_SSL_REDIRECT"] = "0"
os.environ["CELERY_QUEUE"] = f"bench-import-{os.getpid()}"
os.environ["CELERY_DB_REUSE_MAX"] = "1000"  # the page timing uses the test client over plain HTTP

PG_URL = os.environ.get("DATABASE_URL", "")
# BENCH_DB names it otherwise, so that two people can run the bench on one server at once.
BENCH_DB = os.environ.get("BENCH_DB", "bench_import")
if PG_URL.startswith("postgres"):
    import psycopg

    parts = urlsplit(PG_URL)
    admin = psycopg.connect(PG_URL, autocommit=True)
    admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DB}")
    admin.execute(f"CREATE DATABASE {BENCH_DB}")
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{BENCH_DB}"))

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.files import File  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.urls import include, reverse  # noqa: E402
from django.urls import path as url_path  # noqa: E402

from accounts import services as account_services  # noqa: E402
from accounts.models import User  # noqa: E402
from addressbooks import parsers, services  # noqa: E402
from addressbooks.models import AddressBook, Contact, ContactImport  # noqa: E402
from addressbooks.tasks import contact_import  # noqa: E402
from bench.contacts_file import generate  # noqa: E402


def new_import(account, book_name: str, path: Path) -> ContactImport:
    """A new book and an import of `path` into it, waiting for its task (as the upload leaves it)."""
    book = AddressBook.objects.create(account=account, name=book_name)
    imp = ContactImport(book=book, original_name=path.name)
    with open(path, "rb") as f:
        imp.file.save(path.name, File(f), save=False)
    imp.save()
    return imp


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def helper_peak_mb() -> float:
    """Peak RSS of a validation helper process (VmHWM) after one chunk of the import's size."""
    helper = subprocess.Popen(
        [sys.executable, "-m", "addressbooks.validation"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=ROOT,
    )  # fmt: skip
    rows = [("", f"+336{i:08d}", "0140000000", "") for i in range(services.VALIDATION_CHUNK)]
    pickle.dump(("FR", rows), helper.stdin)
    helper.stdin.flush()
    pickle.load(helper.stdout)
    status = Path(f"/proc/{helper.pid}/status").read_text()
    helper.stdin.close()
    helper.wait()
    helper.stdout.close()
    peak_kb = next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM"))
    return int(peak_kb) / 1024


def children_cpu() -> float:
    """CPU seconds of the children this process waited for (the validation helpers)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class BackendsCpu:
    """PostgreSQL: the CPU of the bench database's backends (the import's own and its writer's),
    read from /proc while they run (the server is on this machine); None elsewhere."""

    def __init__(self):
        self.seen: dict[int, list[float]] = {}
        self.done = threading.Event()
        self.thread = None
        if PG_URL.startswith("postgres") and Path("/proc").is_dir():
            self.thread = threading.Thread(target=self._poll, daemon=True)
            self.thread.start()

    def _poll(self) -> None:
        tick = os.sysconf("SC_CLK_TCK")
        with psycopg.connect(PG_URL, autocommit=True) as watcher:
            while not self.done.is_set():
                pids = watcher.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = %s", [BENCH_DB]
                ).fetchall()
                for (pid,) in pids:
                    try:
                        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                    except OSError:
                        continue  # ended, or not on this machine
                    used = (int(fields[11]) + int(fields[12])) / tick
                    self.seen.setdefault(pid, [used, used])[1] = used
                self.done.wait(0.1)

    def stop(self) -> float | None:
        if self.thread is None:
            return None
        self.done.set()
        self.thread.join()
        return sum(last - first for first, last in self.seen.values())


def naive(book, path: Path) -> int:
    """The obvious code: read, validate, Contact.objects.create() per row, one transaction."""
    region = book.account.default_region
    created = 0
    with open(path, "rb") as binary, transaction.atomic():
        for _, row in parsers.ContactFile(binary):
            numbers = {}
            for field in parsers.NUMBER_FIELDS:
                if row.get(field):
                    number = services.normalise_number(row[field], field, region)
                    if number[0] != "+":
                        break
                    numbers[field] = number
            else:
                if (
                    numbers
                    and not Contact.objects.filter(
                        book=book, primary_number=next(iter(numbers.values()))
                    ).exists()
                ):
                    Contact.objects.create(
                        book=book, surname=row.get("surname", ""), name=row.get("name", ""),
                        group=row.get("group", ""), **numbers,
                    )  # fmt: skip
                    created += 1
    return created


def worker_run(account, path: Path, n: int):
    """The product path: upload saved, task queued, a real worker (prefork, 1 process: the
    import starts its own validation helpers) runs it; timed from .delay() to done."""
    env = {**os.environ}
    if connection.vendor == "sqlite":
        env["DATABASE_URL"] = f"sqlite:///{settings.DATABASES['default']['NAME']}"
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "smspanel", "worker", "--concurrency=1",
         "--loglevel=WARNING", "--without-mingle", "--without-gossip"],
        cwd=ROOT, env=env, start_new_session=True,
        stdout=open(Path(VAR) / "worker.log", "w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        imp = new_import(account, "Worker", path)
        time.sleep(3)  # let the worker start
        t0 = time.perf_counter()
        contact_import.delay(imp.pk)
        while ContactImport.objects.get(pk=imp.pk).status in ("todo", "doing"):
            time.sleep(0.2)
        elapsed = time.perf_counter() - t0
        imp.refresh_from_db()
        print(f"through a Celery worker: {n:,} lines in {elapsed:.1f} s = {n / elapsed:,.0f} "
              f"lines/s; status {imp.status}, imported {imp.imported:,}")  # fmt: skip
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=60)


def xlsx_run(account, csv_path: Path, n: int) -> None:
    """The same contacts as an .xlsx workbook (openpyxl's streaming reader)."""
    import openpyxl  # here, not at the top: the import's peak RSS is measured before

    path = Path(VAR) / "contacts.xlsx"
    book_out = openpyxl.Workbook(write_only=True)
    sheet = book_out.create_sheet()
    with open(csv_path, encoding="utf-8", newline="") as f:
        for i, row in enumerate(csv.reader(f, delimiter=";")):
            if i > n:
                break
            sheet.append(row)
    book_out.save(path)
    imp = new_import(account, "Excel", path)
    t0 = time.perf_counter()
    imp = services.contact_import_run(imp.pk)
    elapsed = time.perf_counter() - t0
    print(f"xlsx workbook:       {n:,} lines ({path.stat().st_size / 1e6:.0f} MB) in "
          f"{elapsed:.1f} s = {n / elapsed:,.0f} lines/s; imported {imp.imported:,}; "
          f"peak RSS now {rss_mb():.0f} MB")  # fmt: skip


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--naive", type=int, default=20_000)
    parser.add_argument(
        "--worker", action="store_true", help="also run the same file through a Celery worker"
    )
    parser.add_argument("--xlsx", type=int, default=0, help="also import N lines as .xlsx")
    parser.add_argument("--pages", type=int, default=5, help="requests per book page case")
    parser.add_argument(
        "--smoke", action="store_true", help="tiny sizes (every path still runs): checks it runs"
    )
    args = parser.parse_args()
    if args.smoke:
        # Three validation chunks, so the helper processes start (in the worker too).
        args.n, args.naive, args.xlsx, args.pages, args.worker = 12_000, 200, 500, 1, True

    call_command("migrate", verbosity=0)
    user = User.objects.create_user("bench@example.com", "bench-pass-123")
    account = account_services.account_open(user=user, free_credits=0)
    print(f"database: {connection.vendor}; python {sys.version.split()[0]}; {os.cpu_count()} CPUs")

    big = Path(VAR) / "contacts.csv"
    t = time.perf_counter()
    info = generate(big, args.n)
    print(f"generated {args.n:,} lines ({info['bytes'] / 1e6:.0f} MB, "
          f"{info['numbers_per_line']:.2f} numbers/line) in {time.perf_counter() - t:.1f} s")  # fmt: skip
    sample = Path(VAR) / "sample.csv"
    generate(sample, args.naive, seed=2)

    rss_before = rss_mb()
    imp = new_import(account, "Bench", big)
    book = imp.book
    backends = BackendsCpu()
    cpu0, helpers0 = time.process_time(), children_cpu()
    t0 = time.perf_counter()
    imp = services.contact_import_run(imp.pk)
    fast_s = time.perf_counter() - t0
    cpu, helpers, database = (time.process_time() - cpu0, children_cpu() - helpers0,
                              backends.stop())  # fmt: skip
    rss_after = rss_mb()
    fast = args.n / fast_s
    print(f"contact_import_run:  {args.n:,} lines in {fast_s:.1f} s = {fast:,.0f} lines/s; "
          f"imported {imp.imported:,}, duplicates {imp.duplicates:,}, rejected {imp.rejected:,}")  # fmt: skip
    print(
        f"its CPU: {cpu:.1f} s in this process, {helpers:.1f} s in the validation helpers"
        + (f", {database:.1f} s in PostgreSQL's backends" if database is not None else "")
    )
    print(f"peak RSS (ru_maxrss): {rss_after:.0f} MB (before the import: {rss_before:.0f} MB); "
          f"one validation helper: {helper_peak_mb():.0f} MB")  # fmt: skip

    if args.worker:
        worker_run(account, big, args.n)
    if args.xlsx:
        xlsx_run(account, big, args.xlsx)

    naive_book = AddressBook.objects.create(account=account, name="Naive")
    t0 = time.perf_counter()
    created = naive(naive_book, sample)
    naive_s = time.perf_counter() - t0
    slow = args.naive / naive_s
    print(f"naive ORM loop:      {args.naive:,} lines in {naive_s:.1f} s = {slow:,.0f} lines/s "
          f"(created {created:,})")  # fmt: skip
    print(f"ratio:               {fast / slow:.1f}x")

    # -- the book page with the million contacts --------------------------------------------
    import smspanel.urls  # here, not at the top: the import's peak RSS is measured before

    # Others edit smspanel/urls.py: make sure the pages are there for this timing.
    urls = types.ModuleType("bench_import_urls")
    urls.urlpatterns = [*smspanel.urls.urlpatterns]
    if not any(getattr(p, "namespace", None) == "addressbooks" for p in urls.urlpatterns):
        urls.urlpatterns.append(url_path("", include("addressbooks.urls")))
    sys.modules[urls.__name__] = urls
    plain_static = override_settings(
        ROOT_URLCONF=urls.__name__,
        ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"],
        STORAGES={
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
    )
    plain_static.enable()
    client = Client()
    client.force_login(user)
    page = reverse("addressbooks:book", args=[account.name, book.pk])
    last = Contact.objects.filter(book=book).order_by("-pk").values_list("pk", flat=True)[0]
    for label, query in [("first page", {}), ("deep page (keyset)", {"after": last - 5000}),
                         ("search by number", {"q": "+33612345678"}),
                         ("search by name", {"q": "Nom999999"})]:  # fmt: skip
        client.get(page, query)
        times = []
        for _ in range(args.pages):
            t0 = time.perf_counter()
            response = client.get(page, query)
            times.append(time.perf_counter() - t0)
            assert response.status_code == 200
        print(f"book page, {label}: median {sorted(times)[len(times) // 2] * 1000:.0f} ms")


if __name__ == "__main__":
    try:
        main()
    finally:
        if getattr(settings, "REDIS_EMBEDDED", False):
            from smspanel.embedded_redis import stop

            stop(settings.VAR_DIR, settings.REDIS_SOCKET)
        if PG_URL.startswith("postgres"):
            connection.close()
            admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DB}")
