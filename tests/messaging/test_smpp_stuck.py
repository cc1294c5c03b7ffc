"""Nothing waits forever on an SMPP route: a lost submit_sm answer on a busy bind, messages
waiting for a link that stays down past their validity period."""

import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import SmsAccount
from core import recipients
from messaging import services
from messaging.models import OutgoingMessage, Route, SmppOutbox
from messaging.operator.smpp_connector import RouteConnector
from messaging.operator.smpp_link import LinkDown, Part, SmppLink
from tests.smsc import harness
from tests.smsc.harness import wait_for

Q = OutgoingMessage.Status
pytestmark = pytest.mark.usefixtures("fast_smpp")


def test_a_lost_submit_answer_breaks_the_link_even_while_the_smsc_keeps_talking(smsc):
    """An SMSC that loses one submit_sm_resp but keeps sending other PDUs (receipts, MO) must
    not hold the sender forever: the part's answer is late past the timeout, so the link is
    declared down (the message's outcome is unknown, and the duplicate policy applies)."""
    link = SmppLink(
        host="127.0.0.1", port=smsc.port, system_id="panel", password="secret", timeout=1
    )
    link.bind()
    smsc.configure(silent=True)
    chatting = threading.Event()

    def chat():  # an MO every 0.3 s: the line is never quiet
        while not chatting.is_set():
            smsc.mo("33612345678", "hello")
            time.sleep(0.3)

    talker = threading.Thread(target=chat, daemon=True)
    talker.start()
    outcome = []

    def send():
        part = Part(
            key=1,
            params={
                "source_addr": "PANEL",
                "destination_addr": "33612345678",
                "short_message": b"hi",
            },
        )
        try:
            link.submit([part])
            outcome.append("returned")
        except LinkDown as error:
            outcome.append(str(error))

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    sender.join(8)
    chatting.set()
    talker.join(5)
    alive = sender.is_alive()
    link.close()
    assert not alive, "submit() still waiting for an answer that will never come"
    assert outcome == ["submit_sm unanswered"]


@pytest.mark.django_db(transaction=True)
def test_messages_waiting_for_a_link_that_stays_down_expire_after_their_validity(
    account, owner, make_route
):
    """With no other route, a handed-over message waits for the link, but not past its
    validity period: it then expires and its credits come back, once."""
    SmsAccount.objects.filter(pk=account.pk).update(credits=Decimal(10))
    route = make_route(
        "dead",
        {"FR": "0.01"},
        kind=Route.Kind.SMPP,
        config={"host": "127.0.0.1", "port": harness.free_port(), "system_id": "x", "timeout": 1},
    )
    job = services.job_submit(
        account=account,
        user=owner,
        message="Bonjour",
        parsed=recipients.parse("+33612345678\n+33612345679", "FR"),
        stop_clause=False,
    )  # no route up: both wait for a retry, charged
    old, fresh = OutgoingMessage.objects.filter(job=job).order_by("receiver")
    # As if routing had handed them over while the link was up, one three days ago:
    for message in (old, fresh):
        OutgoingMessage.objects.filter(pk=message.pk).update(
            status=Q.SUBMITTING, route=route, next_attempt_at=timezone.now() + timedelta(hours=1)
        )
        message.refresh_from_db()
        SmppOutbox.objects.create(
            message=message,
            route=route,
            claim=message.attempts,
            payload={"receiver": message.receiver, "sender": "", "text": "Bonjour"},
        )
    OutgoingMessage.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(minutes=job.validity_period + 1)
    )
    charged = SmsAccount.objects.get(pk=account.pk).credits
    stop = threading.Event()
    thread = threading.Thread(target=RouteConnector(route.pk, stop).run, daemon=True)
    thread.start()
    try:
        wait_for(
            lambda: OutgoingMessage.objects.get(pk=old.pk).status == Q.EXPIRED,
            what="the old message expired",
        )
        time.sleep(0.5)  # more bind failures: still refunded once
    finally:
        stop.set()
        thread.join(10)
    assert OutgoingMessage.objects.get(pk=old.pk).error_code == "VALIDITY_EXPIRED"
    assert SmsAccount.objects.get(pk=account.pk).credits == charged + old.credits
    assert not SmppOutbox.objects.filter(pk=old.pk).exists()
    # The other one still waits for the link.
    assert OutgoingMessage.objects.get(pk=fresh.pk).status == Q.SUBMITTING
    assert SmppOutbox.objects.get(pk=fresh.pk).state == SmppOutbox.State.WAITING


@pytest.mark.django_db(transaction=True)
def test_a_throttled_route_keeps_its_heartbeat_while_it_works_slowly_through_a_claim(
    smsc, account, owner, monkeypatch, make_route
):
    """ESME_RTHROTTLED slows the route down; it must not make it look dead (a stale
    heartbeat makes routing pass over it and the messages it holds lose their lease)."""
    from messaging import routing

    monkeypatch.setattr(routing, "HEARTBEAT_STALE_SECONDS", 2)
    SmsAccount.objects.filter(pk=account.pk).update(credits=Decimal(100))
    route = make_route(
        "slow",
        {"FR": "0.01"},
        kind=Route.Kind.SMPP,
        throughput=20,
        config={"host": "127.0.0.1", "port": smsc.port, "system_id": "panel", "timeout": 2},
        credentials={"password": "secret"},
    )
    stop = threading.Event()
    thread = threading.Thread(target=RouteConnector(route.pk, stop).run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: Route.objects.get(pk=route.pk).link == Route.Link.UP, what="bind")
        smsc.configure(throttle=12)  # the rate halves to about 1 message a second
        receivers = "\n".join(f"+3361234{i:04d}" for i in range(30))
        job = services.job_submit(
            account=account,
            user=owner,
            message="Bonjour",
            parsed=recipients.parse(receivers, "FR"),
            stop_clause=False,
        )
        wait_for(lambda: len(smsc.state()["submits"]) >= 1, what="sending")
        ages = []
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            beat = Route.objects.get(pk=route.pk).heartbeat_at
            ages.append((timezone.now() - beat).total_seconds())
            time.sleep(0.2)
        assert len(smsc.state()["submits"]) < 30, "not slowed down: the test proves nothing"
        assert max(ages) < 2, f"heartbeat went stale while throttled: {max(ages):.1f} s"
        wait_for(
            lambda: not OutgoingMessage.objects.filter(job=job, status=Q.SUBMITTING).exists(),
            timeout=120,
            every=0.5,
            what="all sent",
        )
    finally:
        stop.set()
        thread.join(10)


@pytest.mark.django_db(transaction=True)
def test_a_second_connector_for_the_same_route_waits_for_the_first(smsc):
    """Two connectors on one route (a second `smpp_connector` started by hand beside the
    devserver's or compose's) would each turn the other's messages on the wire into unknown
    outcomes and send them again. The second waits until the first is gone."""
    route = Route.objects.create(
        name="one",
        kind=Route.Kind.SMPP,
        config={"host": "127.0.0.1", "port": smsc.port, "system_id": "panel", "timeout": 2},
        credentials={"password": "secret"},
    )
    first_stop, second_stop = threading.Event(), threading.Event()
    first = threading.Thread(target=RouteConnector(route.pk, first_stop).run, daemon=True)
    second = threading.Thread(target=RouteConnector(route.pk, second_stop).run, daemon=True)
    first.start()
    try:
        wait_for(lambda: Route.objects.get(pk=route.pk).link == Route.Link.UP, what="bind")
        second.start()
        time.sleep(1.5)
        assert smsc.state()["binds"] == 1
        assert second.is_alive()  # waiting, not gone
        first_stop.set()
        first.join(10)
        wait_for(lambda: smsc.state()["binds"] == 2, what="the second one took over")
    finally:
        first_stop.set()
        second_stop.set()
        first.join(10)
        second.join(10)


def test_the_connector_process_outlives_a_database_outage(monkeypatch):
    """`manage.py smpp_connector` scans for routes every few seconds; a database that is
    briefly unreachable must not end the process (devserver would stop web, worker and beat
    with it), it scans again."""
    from django.db import OperationalError

    from messaging.operator.smpp_connector import Connector

    connector = Connector(rescan=0.05)
    scans = []

    def routes():
        scans.append(1)
        if len(scans) == 1:
            raise OperationalError("could not connect to server")
        if len(scans) >= 3:
            connector.stop.set()
        return []

    monkeypatch.setattr(connector, "routes", routes)
    connector.run()
    assert len(scans) >= 3


@pytest.mark.django_db(transaction=True)
def test_an_smsc_that_drops_every_bind_at_once_is_reconnected_with_backoff():
    """Bind accepted, line dropped at once, again and again: the connector backs off between
    attempts instead of reconnecting as fast as it can."""
    binds = []

    class DroppingLink:
        def __init__(self, **kwargs):
            self.answers = []

        def bind(self):
            binds.append(time.monotonic())

        def poll(self, seconds):
            raise LinkDown("the SMSC closed the connection")

        submit = poll

        def unanswered(self):
            return []

        def not_sent(self):
            return []

        def close(self):
            pass

    route = Route.objects.create(
        name="flapping",
        kind=Route.Kind.SMPP,
        config={"host": "127.0.0.1", "port": 9, "system_id": "x"},
    )
    stop = threading.Event()
    worker = RouteConnector(route.pk, stop, link_factory=DroppingLink)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    time.sleep(2.5)
    stop.set()
    thread.join(10)
    assert 2 <= len(binds) <= 3, f"{len(binds)} binds in 2.5 s"
    assert Route.objects.get(pk=route.pk).link == Route.Link.DOWN
