"""Campaigns at scale, in process: a campaign to N recipients (an address book of N contacts)
created through the panel's form (the page must return in under 3 s, whatever N), then prepared
by its task (audience gathered, charged, the recipients stored for the pacer; the seconds of
each stage printed), then sent at a set pace by the pacer (the dispatch beat's work, every 2 s:
it writes each message row as it releases it) and in-process pumps with an instant operator:
the bench prints the messages handed over each minute against the pace (target ±5 %). During
the first minute a second campaign to the same N recipients is prepared in another thread (for
later), to show that a preparation does not hold the pace of a campaign that is sending.

    .venv/bin/python bench/campaigns.py [--n 1000000] [--pace 6000] [--minutes 3] [--track]
        [--smoke]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/campaigns.py

On PostgreSQL the script creates and drops its own database (BENCH_DB, default bench_campaigns).
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["SMSPANEL_VAR_DIR"] = tempfile.mkdtemp(prefix="smspanel-bench-campaigns-")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smspanel.settings")
os.environ["REDIS_URL"] = "redis://127.0.0.1:1/0"  # no broker: the bench runs each step itself
os.environ["SECURE_SSL_REDIRECT"] = "0"
PG_URL = os.environ.get("DATABASE_URL", "")
DB_NAME = os.environ.get("BENCH_DB", "bench_campaigns")
if PG_URL.startswith("postgres"):
    import psycopg

    admin = psycopg.connect(PG_URL, autocommit=True)
    admin.execute(f"DROP DATABASE IF EXISTS {DB_NAME}")
    admin.execute(f"CREATE DATABASE {DB_NAME}")
    os.environ["DATABASE_URL"] = urlunsplit(urlsplit(PG_URL)._replace(path=f"/{DB_NAME}"))

import django  # noqa: E402

django.setup()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--pace", type=int, default=6000, help="messages a minute")
    parser.add_argument("--minutes", type=float, default=3)
    parser.add_argument("--track", action="store_true", help="a tracked link in the message")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks it runs")
    args = parser.parse_args()
    if args.smoke:
        args.n, args.pace, args.minutes = 2000, 600, 0.25

    from datetime import timedelta
    from decimal import Decimal
    from unittest import mock

    from django.conf import settings
    from django.db import connection, transaction
    from django.test import Client
    from django.utils import timezone

    from accounts.models import SmsAccount
    from addressbooks.models import AddressBook, Contact, search_text
    from bench.timing import customer
    from core import bulk
    from messaging import campaigns, dispatch
    from messaging.models import Campaign, HeldRecipients, OutgoingMessage

    settings.SMS_OPERATOR = {"BACKEND": "bench.instant_operator.InstantOperator"}
    settings.ALLOWED_HOSTS = ["testserver"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    user, account = customer()
    SmsAccount.objects.filter(pk=account.pk).update(credits=Decimal(args.n * 3))
    book = AddressBook.objects.create(account=account, name="Clients")
    started = time.perf_counter()
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    fields = ("book", "name", "surname", "group", "home_phone", "home_mobile", "work_phone",
              "work_mobile", "primary_number", "created_at", "search")  # fmt: skip
    for start in range(0, args.n, 50_000):
        rows = []
        for i in range(start, min(args.n, start + 50_000)):
            number = f"+336{10_000_000 + i:08d}"
            rows.append((book.pk, "Client", f"N{i}", "", "", number, "", "", number, now,
                         search_text(f"N{i}", "Client", "")))  # fmt: skip
        with transaction.atomic():
            bulk.insert(Contact, fields=fields, rows=rows)
    AddressBook.objects.filter(pk=book.pk).update(contacts_count=args.n)
    print(f"{connection.vendor}: address book of {args.n:,} contacts written in "
          f"{time.perf_counter() - started:.1f} s")  # fmt: skip

    import logging
    import threading

    logging.getLogger("messaging.dispatch").setLevel(logging.CRITICAL)  # no broker, on purpose
    stages = []

    class Stages(logging.Handler):
        def emit(self, record):
            stages.append(record.getMessage())

    logging.getLogger("messaging.campaigns").addHandler(Stages())
    logging.getLogger("messaging.campaigns").setLevel(logging.INFO)
    logging.getLogger("messaging.campaigns").propagate = False
    client = Client()
    client.force_login(user)
    client.get(f"/sms/{account.name}/campaigns/new/")  # warm-up: templates, URLs
    form = {"name": "Bench", "sender": "short", "books": [book.pk], "no_stop_clause": "on",
            "message": "Bonjour {{ name }}, -30% ce week-end"
            + (" https://shop.example.com/soldes?from=sms" if args.track else ""),
            "track_links": "on" if args.track else "", "sms_class": "phoneDisplay",
            "when": "now", "pace_kind": "minute", "pace_value": str(args.pace),
            "winner_metric": "clicks", "send": "1"}  # fmt: skip
    queued = []
    with mock.patch("messaging.tasks.campaign_prepare.delay", side_effect=queued.append):
        started = time.perf_counter()
        response = client.post(f"/sms/{account.name}/campaigns/new/", form)
        created = time.perf_counter() - started
    assert response.status_code == 302, response.content[:500]
    progress = client.get(response["Location"])
    assert progress.status_code == 200 and b'id="live"' in progress.content
    print(f"campaign to {args.n:,} recipients: the page returned in {created:.2f} s "
          f"(target < 3 s); the campaign page shows it being prepared")  # fmt: skip

    campaign = Campaign.objects.get(name="Bench")
    started = time.perf_counter()
    campaigns.campaign_prepare(queued[0])
    campaign.refresh_from_db()
    print(f"preparation (task): {time.perf_counter() - started:.1f} s for "
          f"{campaign.total_records:,} recipients; status {campaign.status}; "
          f"{campaign.estimated_credits} credits charged; {stages[-1].split('; ', 1)[1]}")  # fmt: skip
    written = OutgoingMessage.objects.filter(job__campaign=campaign).count()
    print(f"message rows written at the start: {written:,}; recipients waiting in "
          f"{HeldRecipients.objects.count():,} chunks")  # fmt: skip

    # A second campaign to the same audience, prepared in another thread while the first one
    # sends (planned for tomorrow: it only competes for the database and the CPU).
    form2 = {**form, "name": "Bench 2", "when": "later",
             "scheduled_at": (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")}  # fmt: skip
    with mock.patch("messaging.tasks.campaign_prepare.delay", side_effect=queued.append):
        response = client.post(f"/sms/{account.name}/campaigns/new/", form2)
    assert response.status_code == 302, response.content[:500]
    beside = {}

    def prepare_beside():
        began = time.perf_counter()
        campaigns.campaign_prepare(queued[1])
        beside["seconds"] = time.perf_counter() - began
        connection.close()

    thread = threading.Thread(target=prepare_beside)

    # Sending at the pace: the beat's work every 2 s, pumps in between, real time.
    thread.start()
    per_minute, total, began = [], 0, time.monotonic()
    minute_end, this_minute = began + 60, 0
    deadline = began + args.minutes * 60
    while time.monotonic() < deadline:
        campaigns.tick()
        handed = dispatch.pump(budget=1.5)
        this_minute += handed
        total += handed
        time.sleep(max(0.0, 2 - (time.monotonic() - began) % 2))
        if time.monotonic() >= minute_end:
            per_minute.append(this_minute)
            this_minute, minute_end = 0, minute_end + 60
    thread.join()
    print(f"second campaign to {args.n:,} recipients prepared beside, during minute 1, in "
          f"{beside['seconds']:.1f} s")  # fmt: skip
    if not per_minute:  # shorter than a minute (smoke): scale the count
        per_minute.append(round(this_minute * 60 / (time.monotonic() - began)))
    for i, n in enumerate(per_minute, 1):
        print(f"minute {i}: {n:,} messages handed over; pace {args.pace:,}/min: "
              f"{100 * (n - args.pace) / args.pace:+.1f} %")  # fmt: skip
    submitted = OutgoingMessage.objects.filter(job__campaign=campaign, status="submitted").count()
    print(f"{submitted:,} submitted in {time.monotonic() - began:.0f} s; campaign "
          f"{Campaign.objects.get(pk=campaign.pk).status}; {timezone.now():%H:%M:%S}")  # fmt: skip
    connection.close()
    if PG_URL.startswith("postgres"):
        admin.execute(f"DROP DATABASE IF EXISTS {DB_NAME}")


if __name__ == "__main__":
    main()
