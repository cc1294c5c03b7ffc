"""Throughput of the OVH-compatible API (/1.0) with signed requests, next to a bare view.

Django's test client (in-process WSGI, no network), a throwaway SQLite database, the full
middleware stack, signature checks and the per-key rate limiter (on a local-memory cache, limit
raised so it never trips). Prints requests per second and ratios to the bare view.

    .venv/bin/python bench/ovh_api.py [--seconds 3] [--smoke]
"""

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.timing import customer, django_in_process, measure  # noqa: E402

django_in_process()

from django.test import Client, override_settings  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks it runs")
    args = parser.parse_args()
    if args.smoke:
        args.seconds = 0.2

    from api import services as api_services
    from api.ovh import signature

    user, account = customer(free_credits=1_000_000)
    app, secret = api_services.application_create(account=account, user=user, name="bench")
    _ck, key = api_services.consumer_key_create(
        application=app, user=user, access_rules=api_services.FULL_ACCESS, expires_at=None
    )
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
        job = {"message": "Rappel : rendez-vous demain 10h", "receivers": ["+33612345678"],
               "noStopClause": True, "differedPeriod": 600}  # fmt: skip
        first = call("POST", f"/sms/{sn}/jobs", job).json()["ids"][0]
        estimate = {"message": "x" * 1000, "noStopClause": False, "senderType": "alpha"}
        results = {
            "bare hello view": measure(lambda: client.get("/hello/"), args.seconds),
            "GET /auth/time (no signature)": measure(
                lambda: client.get("/1.0/auth/time"), args.seconds
            ),
            "GET /sms/{sn}": measure(lambda: call("GET", f"/sms/{sn}"), args.seconds),
            "POST /sms/estimate (1,000 chars)": measure(
                lambda: call("POST", "/sms/estimate", estimate), args.seconds
            ),
            "GET /sms/{sn}/jobs/{id}": measure(
                lambda: call("GET", f"/sms/{sn}/jobs/{first}"), args.seconds
            ),
            "POST /sms/{sn}/jobs (1 receiver, planned)": measure(
                lambda: call("POST", f"/sms/{sn}/jobs", job), args.seconds
            ),
        }
    base = results["bare hello view"]
    print(f"Django test client, in-process, {args.seconds:g} s per case, SQLite, 1 process")
    for name, rps in results.items():
        print(f"{name:45s} {rps:8.0f} req/s   {rps / base:6.1%} of bare view")


if __name__ == "__main__":
    main()
