"""Property-based run of schemathesis over the served OpenAPI document: generated requests,
signed like python-ovh's, must never get a server error and every answer must match the
schema (status code declared, content type, body)."""

import json
import time
from urllib.parse import unquote

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.ovh import signature
from api.routes import api

from .conftest import make_key

schema = schemathesis.openapi.from_dict(json.loads(json.dumps(api.get_openapi_schema())))

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


class OvhAuth(requests.auth.AuthBase):
    """Sign the request as it leaves, on its final URL and body (python-ovh signs the URL
    before quoting; the server accepts either)."""

    def __init__(self, app_key, secret, consumer_key):
        self.app_key, self.secret, self.consumer_key = app_key, secret, consumer_key

    def __call__(self, prepared):
        body = prepared.body or ""
        if isinstance(body, bytes):
            body = body.decode("utf-8", errors="replace")
        ts = str(int(time.time()))
        prepared.headers.update({
            "X-Ovh-Application": self.app_key,
            "X-Ovh-Consumer": self.consumer_key,
            "X-Ovh-Timestamp": ts,
            "X-Ovh-Signature": signature(
                secret=self.secret, consumer_key=self.consumer_key, method=prepared.method,
                url=unquote(prepared.url), body=body, ts=ts,
            ),
        })  # fmt: skip
        return prepared


@pytest.fixture
def signed_session(live_server, settings, account, owner, eager_celery):
    settings.ALLOWED_HOSTS = ["*"]
    settings.API_RATE_LIMIT = 0
    app, secret, _ck, key = make_key(account, owner)
    session = requests.Session()
    session.auth = OvhAuth(app.app_key, secret, key)
    return session


@pytest.fixture
def existing(account, staff):
    """One object of each kind the paths name, in the key's account."""
    from accounts.services import sms_user_create
    from messaging.models import TemplateControl
    from senders.services import virtual_number_assign
    from tests.addressbooks.factories import BookFactory, make_recipient_list
    from tests.senders.factories import SenderFactory

    sms_user_create(account=account, login="fuzzer", password="fuzz-pass-1")
    TemplateControl.objects.create(account=account, name="fuzz", activity="alerting",
                                   message="Code #VALUE#")  # fmt: skip
    virtual_number_assign(account=account, number="+33700000009", by=staff)
    SenderFactory(account=account, sender="Fuzz", status="enable")
    book = BookFactory(account=account)
    rlist = make_recipient_list(account)
    return {"login": "fuzzer", "name": "fuzz", "number": "+33700000009", "sender": "Fuzz",
            "bookKey": str(book.pk), "slotId": rlist.slot}  # fmt: skip


@pytest.mark.django_db(transaction=True)
@schema.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_answers_every_generated_request_by_its_schema(
    case, live_server, signed_session, account, existing
):
    params = case.path_parameters or {}
    if "serviceName" in params:
        # Mostly the key's own account, so that routes get past the 404.
        params["serviceName"] = account.name
    for name, value in existing.items():
        # The account's own objects, so that the routes below them are reached too.
        if name in params:
            params[name] = value
    case.call_and_validate(base_url=live_server.url, session=signed_session,
                           checks=CHECKS)  # fmt: skip
