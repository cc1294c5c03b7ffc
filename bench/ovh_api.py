"""Cost of the OVH-compatible API (/1.0) with signed requests: each call next to the same call
with the signature and key check taken out, in the same run, and next to a bare view.

Django's test client (in-process WSGI, no network), a throwaway SQLite database, the full
middleware stack, the per-key rate limiter (on a local-memory cache, limit raised so it never
trips). "Unsigned" replaces api.ovh.authenticate by a function returning the consumer key read
once: the difference is what the four X-Ovh-* headers cost (key lookup, time window, SHA-1 over
the body, holder's membership, rules, rate limit). Prints CPU ms per call and the check's share.

    .venv/bin/python bench/ovh_api.py [--seconds 3] [--receivers 1000] [--messages 100000] [--smoke]
"""

import argparse
import itertools
import json
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.timing import customer, django_in_process  # noqa: E402

django_in_process()

from django.test import Client, override_settings  # noqa: E402


def per_call(fn, seconds: float, warmup: int = 3) -> float:
    """CPU seconds of this process per call of fn(), over at least `seconds` of CPU (and at
    least 3 calls): the client, the server and SQLite all run here, and CPU time does not count
    the other processes of a busy machine."""
    for _ in range(warmup):
        fn()
    n, start = 0, time.process_time()
    while n < 3 or time.process_time() - start < seconds:
        fn()
        n += 1
    return (time.process_time() - start) / n


def fill_history(account, user, messages: int) -> None:
    """`messages` delivered messages of one job, written in bulk (what GET /outgoing lists)."""
    from decimal import Decimal

    from django.utils import timezone

    from messaging.models import OutgoingMessage, SmsJob

    job = SmsJob.objects.create(
        account=account, created_by=user, message="Votre colis arrive demain", stop_clause=False,
        encoding="GSM-7", segments=1, credits=Decimal(messages), status=SmsJob.Status.DONE,
        recipients_count=messages,
    )  # fmt: skip
    now = timezone.now()
    rows = (
        OutgoingMessage(job=job, account=account, receiver=f"+336{i:08d}", country="FR", parts=1,
                        credits=Decimal("1"), status=OutgoingMessage.Status.DELIVERED,
                        submitted_at=now, delivered_at=now)
        for i in range(messages)
    )  # fmt: skip
    OutgoingMessage.objects.bulk_create(rows, batch_size=5000)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--receivers", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks it runs")
    args = parser.parse_args()
    if args.smoke:
        args.seconds, args.receivers, args.messages = 0.1, 20, 500

    import api.ovh
    from api import services as api_services
    from api.models import ConsumerKey, key_hash
    from api.ovh import signature

    user, account = customer(free_credits=100_000_000)
    app, secret = api_services.application_create(account=account, user=user, name="bench")
    ck, key = api_services.consumer_key_create(
        application=app, user=user, access_rules=api_services.FULL_ACCESS, expires_at=None
    )
    ck = ConsumerKey.objects.select_related("application__account").get(pk=ck.pk)
    fill_history(account, user, args.messages)
    signed_check = api.ovh.authenticate

    def lookup_only(request):
        """Who is calling, without checking anything: the key named by its header, with its
        application and account (one query, what any request needs to know its account)."""
        keys = ConsumerKey.objects.select_related("application__account")
        return keys.get(key_hash=key_hash(request.headers["X-Ovh-Consumer"]))

    @contextmanager
    def unsigned(check):
        api.ovh.authenticate = check
        try:
            yield
        finally:
            api.ovh.authenticate = signed_check

    locmem = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    with override_settings(
        ROOT_URLCONF="bench.hello_urls", DEBUG=False, ALLOWED_HOSTS=["testserver"], CACHES=locmem,
        API_RATE_LIMIT=10**9,
    ):  # fmt: skip
        client = Client()

        def call(method, api_path, data=None):
            body = "" if data is None else json.dumps(data, separators=(",", ":"))
            ts = str(int(time.time()))
            sig = signature(secret=secret, consumer_key=key, method=method,
                            url="http://testserver/1.0" + api_path, body=body, ts=ts)  # fmt: skip
            response = client.generic(
                method, "/1.0" + api_path, data=body, content_type="application/json",
                headers={"X-Ovh-Application": app.app_key, "X-Ovh-Consumer": key,
                         "X-Ovh-Timestamp": ts, "X-Ovh-Signature": sig},
            )  # fmt: skip
            assert response.status_code == 200, response.content
            return response

        sn = account.name
        posts = itertools.count()
        receivers = [f"+3361{i:07d}" for i in range(args.receivers)]
        big_job = {"message": "Rappel : rendez-vous demain 10h", "receivers": receivers,
                   "noStopClause": True, "differedPeriod": 600}  # fmt: skip
        assert len(call("POST", f"/sms/{sn}/jobs", big_job).json()["ids"]) == args.receivers
        assert len(call("GET", f"/sms/{sn}/outgoing").json()) == args.messages
        cases = {
            "GET /sms/{sn}": lambda: call("GET", f"/sms/{sn}"),
            # Each POST its own tag: an identical signed write within the same second is
            # refused as a replay.
            f"POST /sms/{{sn}}/jobs ({args.receivers:,} receivers)": lambda: call(
                "POST", f"/sms/{sn}/jobs", {**big_job, "tag": f"b{next(posts)}"}
            ),
            f"GET /sms/{{sn}}/outgoing ({args.messages:,} messages)": lambda: call(
                "GET", f"/sms/{sn}/outgoing"
            ),
        }
        bare = per_call(lambda: client.get("/hello/"), args.seconds, warmup=20)
        variants = {"signed": signed_check, "lookup": lookup_only, "none": lambda request: ck}
        results = {}
        for name, fn in cases.items():
            # Call by call in turn, so that a growing database (each POST adds its messages)
            # and a busy neighbour weigh on the three alike.
            spent, calls = dict.fromkeys(variants, 0.0), 0
            for check in variants.values():
                with unsigned(check):
                    fn()  # warm-up
            while calls < 3 or sum(spent.values()) < args.seconds:
                for kind, check in variants.items():
                    with unsigned(check):
                        start = time.process_time()
                        fn()
                        spent[kind] += time.process_time() - start
                calls += 1
            results[name] = {kind: total / calls for kind, total in spent.items()}

    print(f"Django test client, in-process, SQLite, 1 process, CPU time; bare view "
          f"{bare * 1000:.2f} ms")  # fmt: skip
    print("signed: every check; lookup: the key, its application and account read by the "
          "header, nothing checked; none: even that taken out (the key read once, up front)")
    print(f"{'call':45s} {'signed':>9s} {'lookup':>9s} {'none':>9s} {'checks':>8s} {'+lookup':>8s}")
    for name, t in results.items():
        print(f"{name:45s} {t['signed'] * 1000:7.2f}ms {t['lookup'] * 1000:7.2f}ms "
              f"{t['none'] * 1000:7.2f}ms {(t['signed'] - t['lookup']) / t['signed']:8.1%} "
              f"{(t['signed'] - t['none']) / t['signed']:8.1%}")  # fmt: skip
    t = results["GET /sms/{sn}"]
    print(f"signature and key checks: {(t['signed'] - t['lookup']) / t['signed']:.1%} of a "
          f"GET /sms/{{sn}} (target under 20%); with the key's lookup: "
          f"{(t['signed'] - t['none']) / t['signed']:.1%}")  # fmt: skip


if __name__ == "__main__":
    main()
