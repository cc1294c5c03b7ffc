"""An OVHcloud route end to end: python-ovh against a second smspanel instance (its own
process and database) playing the remote OVHcloud account."""

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from core import recipients
from messaging import services
from messaging.models import OutgoingMessage, Route
from messaging.operator.base import OutboundSms
from messaging.operator.ovh import OvhOperator, reports_poll
from tests.smsc.harness import free_port, wait_for

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parent.parent.parent
Q = OutgoingMessage.Status

SETUP = """
from decimal import Decimal
from accounts.models import Membership, SmsAccount, User
from api import services
user = User.objects.create_user("remote@example.com", "remote-pass-123")
account = SmsAccount.objects.create(name="sms-re12345-1", credits=Decimal(100))
Membership.objects.create(user=user, account=account, role="owner")
app, secret = services.application_create(account=account, user=user, name="panel route")
_obj, ck = services.consumer_key_create(application=app, user=user, access_rules=services.FULL_ACCESS, expires_at=None)
print("CREDENTIALS", json.dumps({"app": app.app_key, "secret": secret, "ck": ck, "sn": account.name}))
"""
DELIVER = """
from datetime import timedelta
from django.utils import timezone
from messaging import dispatch
from messaging.operator.simulated import deliver_due_events
dispatch.pump(budget=5)
print("DELIVERED", deliver_due_events(now=timezone.now() + timedelta(minutes=10)))
"""
COUNT = "from messaging.models import OutgoingMessage; print('COUNT', OutgoingMessage.objects.count())"


class RemotePanel:
    def __init__(self, tmp: Path):
        self.env = {
            **os.environ,
            "SMSPANEL_VAR_DIR": str(tmp),
            "DEBUG": "1",
            "SMS_SIMULATOR_ERRORS_OFF": "1",
            "CELERY_QUEUE": "remote-panel-test",
            "API_RATE_LIMIT": "0",
            "PYTHONPATH": str(ROOT),
        }
        for name in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"):
            self.env.pop(name, None)
        self.run("migrate", "--noinput")
        out = self.shell("import json\n" + SETUP)
        self.credentials = json.loads(out.split("CREDENTIALS", 1)[1])
        self.port = free_port()
        self.server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{self.port}", "--noreload"],
            cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for(self._up, timeout=60, what="the remote panel")

    def _up(self):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{self.port}/1.0/auth/time", timeout=2)
            return True
        except OSError:
            return False

    def run(self, *args) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env,
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    def shell(self, code: str) -> str:
        return self.run("shell", "-c", code)

    def stop(self):
        self.server.terminate()
        self.server.wait(10)
        self.shell(
            "from django.conf import settings\nfrom smspanel.embedded_redis import stop\n"
            "stop(settings.VAR_DIR, settings.REDIS_SOCKET)"
        )


@pytest.fixture(scope="module")
def remote(tmp_path_factory):
    panel = RemotePanel(tmp_path_factory.mktemp("remote-panel"))
    yield panel
    panel.stop()


@pytest.fixture
def ovh_route(remote, make_route):
    c = remote.credentials
    return make_route(
        "ovh",
        {"FR": "0.04"},
        kind=Route.Kind.OVH,
        config={"endpoint": f"http://127.0.0.1:{remote.port}/1.0", "service_name": c["sn"]},
        credentials={"application_key": c["app"], "application_secret": c["secret"],
                     "consumer_key": c["ck"]},
    )  # fmt: skip


def test_messages_go_through_the_remote_account_and_its_reports_come_back(
    remote, ovh_route, account, owner
):
    job = services.job_submit(
        account=account,
        user=owner,
        message="Bonjour depuis le panel 😀",
        parsed=recipients.parse("+33612345678\n+33612345679", "FR"),
        stop_clause=False,
    )
    messages = list(OutgoingMessage.objects.filter(job=job).order_by("id"))
    assert {m.status for m in messages} == {Q.SUBMITTED}
    assert all(m.route == ovh_route and m.operator_id.startswith(f"ovh:{ovh_route.pk}:")
               for m in messages)  # fmt: skip
    # The remote panel sends them (its own dispatch and simulator) and reports them delivered.
    assert "DELIVERED 2" in remote.shell(DELIVER)
    assert reports_poll() == 2
    assert set(OutgoingMessage.objects.filter(job=job).values_list("status", flat=True)) == {
        Q.DELIVERED
    }


def test_a_retried_message_is_asked_about_before_being_sent_again(remote, ovh_route):
    operator = OvhOperator(ovh_route)
    sms = dict(message_id=987654, receiver="+33612345670", sender="", text="Une fois",
               parts=1, sms_class="phoneDisplay", reply_allowed=True)  # fmt: skip
    [first] = operator.submit([OutboundSms(**sms, attempt=1)])
    before = remote.shell(COUNT)
    remote.shell(DELIVER)  # the remote has sent it: it is in its outgoing list, tagged
    [again] = operator.submit([OutboundSms(**sms, attempt=2)])
    assert first.accepted and again.accepted
    assert again.operator_id == first.operator_id
    assert remote.shell(COUNT) == before  # nothing sent twice


def test_wrong_credentials_rest_the_route_and_messages_fail_over(
    remote, ovh_route, account, owner, make_route
):
    Route.objects.filter(pk=ovh_route.pk).update(credentials={"application_key": "nope",
                                                             "application_secret": "x",
                                                             "consumer_key": "y"})  # fmt: skip
    backup = make_route("sim", {"FR": "0.09"})
    job = services.job_submit(account=account, user=owner, message="Bonjour",
                              parsed=recipients.parse("+33612345678", "FR"), stop_clause=False)
    message = OutgoingMessage.objects.get(job=job)
    assert message.route == backup
    failover = message.failovers.get()
    assert failover.from_route_id == ovh_route.pk and failover.reason.startswith("OVH_")
    ovh_route.refresh_from_db()
    assert ovh_route.link == Route.Link.DOWN and ovh_route.resting_until


def test_a_lost_answer_is_told_apart_from_a_route_never_reached():
    """A request that went out and lost its answer (the upstream may have sent the SMS:
    LINK_NO_ANSWER, so another route's copy is flagged) is not a refused connection
    (LINK_DOWN, nothing sent); the messages after it in the batch were never sent."""
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()

    def hang_up():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            conn.recv(65536)
            conn.close()

    threading.Thread(target=hang_up, daemon=True).start()
    batch = [
        OutboundSms(message_id=n, receiver="+33612345670", sender="", text="Bonjour", parts=1,
                    sms_class="phoneDisplay", reply_allowed=True)
        for n in (1, 2)
    ]  # fmt: skip
    try:
        for port, first in ((server.getsockname()[1], "LINK_NO_ANSWER"), (free_port(), "LINK_DOWN")):
            route = Route.objects.create(
                name=f"ovh-{port}",
                kind=Route.Kind.OVH,
                config={"endpoint": f"http://127.0.0.1:{port}/1.0", "service_name": "sms-x"},
                credentials={"application_key": "k", "application_secret": "s", "consumer_key": "c"},
            )
            codes = [r.error_code for r in OvhOperator(route).submit(batch)]
            assert codes == [first, "LINK_DOWN"]
    finally:
        server.close()


def test_throttled_is_the_api_answering_429_not_a_port_in_a_url():
    """HTTP 429 from the API rests the route (THROTTLED, tried again later); a connection
    refused on a port whose number contains 429 is a route down, whatever its URL says."""
    import socket
    import threading
    import time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class TooMany(BaseHTTPRequestHandler):
        def _answer(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):  # python-ovh asks the API's time before signing
            self._answer(200, int(time.time()))

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self._answer(429, {"message": "Too many requests"})

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), TooMany)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    refused = None
    for port in range(42900, 43000):  # a free port with 429 in its number
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        refused = port
        break
    batch = [
        OutboundSms(message_id=1, receiver="+33612345670", sender="", text="Bonjour", parts=1,
                    sms_class="phoneDisplay", reply_allowed=True)
    ]  # fmt: skip
    try:
        for port, code in ((server.server_address[1], "THROTTLED"), (refused, "LINK_DOWN")):
            route = Route.objects.create(
                name=f"ovh-{port}",
                kind=Route.Kind.OVH,
                config={"endpoint": f"http://127.0.0.1:{port}/1.0", "service_name": "sms-x"},
                credentials={"application_key": "k", "application_secret": "s", "consumer_key": "c"},
            )
            assert [r.error_code for r in OvhOperator(route).submit(batch)] == [code]
    finally:
        server.shutdown()
