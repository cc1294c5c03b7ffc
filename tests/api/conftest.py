import json
import time

import pytest

from api import services
from api.ovh import signature


class SignedClient:
    """Calls /1.0 through Django's test client, signing each request as python-ovh does."""

    base = "http://testserver/1.0"

    def __init__(self, client, app_key, secret, consumer_key):
        self.client = client
        self.app_key, self.secret, self.consumer_key = app_key, secret, consumer_key
        self.time_offset = 0

    def headers(self, method, url, body):
        ts = str(int(time.time()) + self.time_offset)
        return {
            "X-Ovh-Application": self.app_key,
            "X-Ovh-Consumer": self.consumer_key,
            "X-Ovh-Timestamp": ts,
            "X-Ovh-Signature": signature(
                secret=self.secret, consumer_key=self.consumer_key, method=method, url=url,
                body=body, ts=ts,
            ),
        }  # fmt: skip

    def call(self, method, path, data=None, headers=None):
        body = "" if data is None else json.dumps(data, separators=(",", ":"))
        all_headers = self.headers(method, self.base + path, body)
        all_headers.update(headers or {})
        return self.client.generic(
            method, "/1.0" + path, data=body, content_type="application/json",
            headers=all_headers,
        )  # fmt: skip

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, data=None, **kw):
        return self.call("POST", path, data if data is not None else {}, **kw)

    def put(self, path, data=None, **kw):
        return self.call("PUT", path, data if data is not None else {}, **kw)

    def delete(self, path, **kw):
        return self.call("DELETE", path, **kw)


def make_key(account, user, rules=None, expires_at=None):
    app, secret = services.application_create(account=account, user=user, name="script")
    ck, key = services.consumer_key_create(
        application=app, user=user, access_rules=rules or services.FULL_ACCESS,
        expires_at=expires_at,
    )  # fmt: skip
    return app, secret, ck, key


@pytest.fixture
def api_client(client, account, owner):
    app, secret, ck, key = make_key(account, owner)
    signed = SignedClient(client, app.app_key, secret, key)
    signed.ck = ck
    signed.app = app
    return signed


@pytest.fixture
def sn(account):
    return account.name
