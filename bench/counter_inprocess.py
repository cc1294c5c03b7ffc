"""Throughput of the live counter endpoint next to a bare "hello" view, in one process.

Measured with Django's test client (in-process WSGI, no network), on a throwaway SQLite database
with the full middleware stack, a signed-in customer with Django's database sessions and CSRF
checks off (the test client's default; the check costs the same for every view). Prints requests
per second and ratios.
Without a server's own costs the fixed per-request work weighs more here than through gunicorn:
bench/counter.py (through gunicorn) is the measure of record.

    .venv/bin/python bench/counter_inprocess.py [--seconds 3] [--smoke]
"""

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.timing import customer, django_in_process, measure  # noqa: E402

django_in_process()

from urllib.parse import urlencode  # noqa: E402

from django.test import Client, override_settings  # noqa: E402

FORM = "application/x-www-form-urlencoded"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks it runs")
    args = parser.parse_args()
    if args.smoke:
        args.seconds = 0.2

    user, account = customer()

    message_1000 = ("Bonjour Camille, votre commande 4512 est prete. " * 25)[:1000]
    receivers = "\n".join(f"+3361234{i:04d}" for i in range(10))
    with override_settings(
        ROOT_URLCONF="bench.hello_urls", DEBUG=False, ALLOWED_HOSTS=["testserver"]
    ):
        client = Client()
        client.force_login(user)
        url = f"/sms/{account.name}/send/counter/"

        def counter(body: str):
            # As htmx sends it: url-encoded, not the test client's default multipart.
            response = client.post(url, body, content_type=FORM, HTTP_HX_REQUEST="true")
            assert response.status_code == 200, response.status_code
            return response

        typing = urlencode({"message": message_1000})
        estimate = urlencode({"message": message_1000, "receivers": receivers})
        assert b'data-testid="segments">7<' in counter(typing).content
        assert b'data-testid="estimate-recipients">10<' in counter(estimate).content
        results = {
            "bare hello view": measure(lambda: client.get("/hello/"), args.seconds),
            "hello under an account (auth only)": measure(
                lambda: client.get(f"/sms/{account.name}/hello/"), args.seconds
            ),
            "counter while typing, 1,000 chars": measure(lambda: counter(typing), args.seconds),
            "counter, 1,000 chars + 10 recipients": measure(
                lambda: counter(estimate), args.seconds
            ),
        }
    base = results["bare hello view"]
    # Every account URL checks the session, the user and the membership before it does
    # anything: the second ratio is against a page doing only that.
    authed = results["hello under an account (auth only)"]
    print(
        f"Django test client, in-process, {args.seconds:g} s per case, SQLite, "
        "database sessions, 1 process"
    )
    for name, rps in results.items():
        print(f"{name:40s} {rps:8.0f} req/s   {rps / base:6.1%} of bare view   "
              f"{rps / authed:6.1%} of the auth-only page")  # fmt: skip


if __name__ == "__main__":
    main()
