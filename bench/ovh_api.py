"""Cost of the OVH-compatible API (/1.0) with signed requests: each call next to the same call
with the signature and key check taken out, in the same run, and next to a bare view.

Django's test client (in-process WSGI, no network), the full middleware stack, the per-key rate
limiter (limit raised so it never trips) on a local-memory cache, or on the Redis of REDIS_URL
when it is set (as in production: its round trip then counts). Four variants of each call, call
by call in turn: "signed" runs every check (api.ovh.authenticate); "unlimited" all of them but
the rate limiter (to show its share); "lookup" only reads the key, its application and account
by the X-Ovh-Consumer header, as any API must to know its caller, and checks nothing; "none"
even skips that (the key read once, up front). The signature and key checks are signed minus
lookup. The calls repeat in rounds of --seconds of CPU per call; each round gives one ratio, and
the median over the rounds is the figure (target: under 20% of a GET /sms/{sn}). CPU time of
this process: the client, the server and SQLite run here, the PostgreSQL and Redis servers do
not (the share in wall time is printed too).

    .venv/bin/python bench/ovh_api.py [--seconds 1] [--rounds 9] [--receivers 1000]
        [--messages 100000] [--smoke]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres [REDIS_URL=redis://…] \
        .venv/bin/python bench/ovh_api.py

On PostgreSQL the script creates and drops its own database (BENCH_DB, default bench_ovh_api).
"""

import argparse
import gc
import itertools
import json
import os
import statistics
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.timing import customer, django_in_process  # noqa: E402


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


def one_round(fn, variants: dict, use, seconds: float) -> dict[str, tuple[float, float]]:
    """(CPU, wall) seconds per call of fn() under each variant, called in turn (each turn in
    another order) until the calls took `seconds` of CPU (at least 3 each): a growing database
    (each POST adds its messages) and a busy neighbour weigh on the variants alike."""
    cpu, wall, calls = dict.fromkeys(variants, 0.0), dict.fromkeys(variants, 0.0), 0
    order = list(variants)
    while calls < 3 or sum(cpu.values()) < seconds:
        for kind in order:
            with use(variants[kind]):
                c, w = time.process_time(), time.perf_counter()
                fn()
                cpu[kind] += time.process_time() - c
                wall[kind] += time.perf_counter() - w
        order.append(order.pop(0))
        calls += 1
    return {kind: (cpu[kind] / calls, wall[kind] / calls) for kind in variants}


def share(extra: float, total: float) -> float:
    return extra / total if total else 0.0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=1.0, help="CPU per call and round")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--receivers", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks it runs")
    args = parser.parse_args()
    if args.smoke:
        args.seconds, args.rounds, args.receivers, args.messages = 0.1, 2, 20, 500
    redis_url = os.environ.get("REDIS_URL", "")
    django_in_process(postgres_db=os.environ.get("BENCH_DB", "bench_ovh_api"))

    from django.db import connection
    from django.test import Client, override_settings

    import api.ovh
    from api import services as api_services
    from api.models import ConsumerKey
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
        application and account, read as authenticate() reads it (one query, what any request
        needs to know its account)."""
        return api.ovh.consumer_key_named(request.headers["X-Ovh-Consumer"])

    def signed_unlimited(request):
        """Every check but the per-key rate limiter (its share of the checks)."""
        throttle = api.ovh._throttle
        api.ovh._throttle = lambda ck: None
        try:
            return signed_check(request)
        finally:
            api.ovh._throttle = throttle

    @contextmanager
    def use(check):
        api.ovh.authenticate = check
        try:
            yield
        finally:
            api.ovh.authenticate = signed_check

    if redis_url:
        cache = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url,
                 "KEY_PREFIX": f"bench-ovh-api-{os.getpid()}"}  # fmt: skip
    else:
        cache = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    with override_settings(
        ROOT_URLCONF="bench.hello_urls", DEBUG=False, ALLOWED_HOSTS=["testserver"],
        CACHES={"default": cache}, API_RATE_LIMIT=10**9,
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
        get_sms = "GET /sms/{sn}"
        cases = {
            get_sms: lambda: call("GET", f"/sms/{sn}"),
            # Each POST its own tag: an identical signed write within the same second is
            # refused as a replay.
            f"POST /sms/{{sn}}/jobs ({args.receivers:,} receivers)": lambda: call(
                "POST", f"/sms/{sn}/jobs", {**big_job, "tag": f"b{next(posts)}"}
            ),
            f"GET /sms/{{sn}}/outgoing ({args.messages:,} messages)": lambda: call(
                "GET", f"/sms/{sn}/outgoing"
            ),
        }
        variants = {"signed": signed_check, "unlimited": signed_unlimited, "lookup": lookup_only,
                    "none": lambda request: ck}  # fmt: skip
        for fn in cases.values():
            for check in variants.values():
                with use(check):
                    fn()  # warm-up
        bare_calls = [client.get("/hello/") for _ in range(20)]  # warm-up
        # What setting up left behind stays out of the collector's way (for every variant).
        gc.collect()
        gc.freeze()
        bare, rounds = [], {name: [] for name in cases}
        for _ in range(args.rounds):
            start, n = time.process_time(), 0
            while n < 3 or time.process_time() - start < args.seconds / 4:
                bare_calls[0] = client.get("/hello/")
                n += 1
            bare.append((time.process_time() - start) / n)
            for name, fn in cases.items():
                rounds[name].append(one_round(fn, variants, use, args.seconds))

    cache_name = "Redis" if redis_url else "local memory"
    print(f"Django test client, in-process, {connection.vendor}, rate limiter in {cache_name}, "
          f"1 process; {args.rounds} rounds, median per call of each round's mean; bare view "
          f"{statistics.median(bare) * 1000:.2f} ms CPU")  # fmt: skip
    print("signed: every check; unlimited: every check but the per-key rate limiter; lookup: the "
          "key, its application and account read by the header, nothing checked; none: even "
          "that taken out (the key read once, up front). checks = signed - lookup, of which "
          "limiter = signed - unlimited; +lookup = signed - none (shares of signed)")  # fmt: skip
    print(f"{'call (CPU ms per call)':42s} {'signed':>7s} {'unlim.':>7s} {'lookup':>7s} "
          f"{'none':>7s} {'checks':>7s} {'limiter':>7s} {'+lookup':>7s}")  # fmt: skip
    shares = {}
    for name, per_round in rounds.items():
        med = {k: statistics.median(r[k][0] for r in per_round) for k in variants}

        def ratio(less, field=0, per_round=per_round):
            """Each round's share of signed that `less` takes away."""
            return [share(r["signed"][field] - r[less][field], r["signed"][field])
                    for r in per_round]  # fmt: skip

        shares[name] = {"checks": ratio("lookup"), "limiter": ratio("unlimited"),
                        "total": ratio("none"), "wall": ratio("lookup", field=1)}  # fmt: skip
        m = {k: statistics.median(v) for k, v in shares[name].items()}
        print(f"{name:42s} " + " ".join(f"{med[k] * 1000:7.2f}" for k in variants)
              + f" {m['checks']:7.1%} {m['limiter']:7.1%} {m['total']:7.1%}")  # fmt: skip
    got = shares[get_sms]
    checks = got["checks"]
    print(f"\nGET /sms/{{sn}}: the signature and key checks cost {statistics.median(checks):.1%} "
          f"of the call (CPU time, median of {len(checks)} rounds, each between "
          f"{min(checks):.1%} and {max(checks):.1%}); target under 20%.\n"
          f"  Of which the per-key rate limiter ({cache_name}): "
          f"{statistics.median(got['limiter']):.1%}; in wall time: "
          f"{statistics.median(got['wall']):.1%}; with the key's lookup: "
          f"{statistics.median(got['total']):.1%}.")  # fmt: skip


if __name__ == "__main__":
    main()
