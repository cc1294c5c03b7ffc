"""The SMPP route end to end, against an SMSC this project did not write (tests/smsc: the npm
`smpp` package): bind, window, long UCS-2 messages, receipts per part, MO STOP, an SMSC
killed mid-send, throttling, failover, and an SMSC answering garbage.

The connector runs in a thread of the test process, as in `manage.py smpp_connector`; the
send goes through the real form service and dispatch (Celery eager)."""

import threading
from collections import Counter
from decimal import Decimal

import pytest

from accounts.models import SmsAccount
from core import recipients
from messaging import services
from messaging.encoding import count
from messaging.models import (
    IncomingMessage,
    OutgoingMessage,
    Route,
    RouteFailover,
    SmppOutbox,
    SmppPart,
    StopListEntry,
)
from messaging.operator.smpp_connector import RouteConnector
from messaging.operator.smpp_link import Part, SmppLink
from tests.smsc.harness import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fast_smpp")]
Q = OutgoingMessage.Status


@pytest.fixture
def smpp_route(smsc, make_route):
    """The test SMSC as a route serving France."""

    def _route(name="smsc", cost="0.01", password="secret", throughput=5000, **config):
        return make_route(
            name,
            {"FR": cost},
            kind=Route.Kind.SMPP,
            config={"host": "127.0.0.1", "port": smsc.port, "system_id": "panel",
                    "timeout": 2, "window": 10, **config},
            credentials={"password": password},
            throughput=throughput,
        )  # fmt: skip

    return _route


@pytest.fixture
def connect():
    started = []

    def _connect(route, *, up=True):
        stop = threading.Event()
        worker = RouteConnector(route.pk, stop)
        thread = threading.Thread(target=worker.run, daemon=True)
        thread.start()
        started.append((stop, thread))
        if up:
            wait_for(lambda: Route.objects.get(pk=route.pk).link == Route.Link.UP, what="bind")
        return thread

    yield _connect
    for stop, thread in started:
        stop.set()
        thread.join(10)


@pytest.fixture
def send(account, owner):
    SmsAccount.objects.filter(pk=account.pk).update(credits=Decimal(100_000))
    account.refresh_from_db()

    def _send(numbers, message="Bonjour"):
        job = services.job_submit(
            account=account,
            user=owner,
            message=message,
            parsed=recipients.parse("\n".join(numbers), "FR"),
            stop_clause=False,
        )
        return job

    return _send


def numbers(n, start=0):
    return [f"+336{10000000 + start + i:08d}" for i in range(n)]


def statuses(job):
    return dict(OutgoingMessage.objects.filter(job=job).values_list("receiver", "status"))


def all_in(job, wanted):
    return all(s in wanted for s in statuses(job).values())


# --- The link on its own ------------------------------------------------------------------


def test_bind_enquire_link_and_unbind(smsc):
    link = SmppLink(host="127.0.0.1", port=smsc.port, system_id="panel", password="secret")
    link.bind()
    link.enquire_link()
    link.poll(0.3)
    assert link.enquiring_since is None  # answered
    link.unbind()
    state = smsc.state()
    assert (state["binds"], state["enquire_links"], state["unbinds"]) == (1, 1, 1)


def test_throttling_answers_slow_the_link_and_every_part_goes_through(smsc):
    smsc.configure(throttle=5)
    link = SmppLink(
        host="127.0.0.1", port=smsc.port, system_id="panel", password="secret", throughput=500
    )
    link.bind()
    parts = [
        Part(
            key=i,
            params={
                "source_addr": "PANEL",
                "destination_addr": "33612345678",
                "short_message": b"hi",
            },
        )
        for i in range(20)
    ]
    answers = link.submit(parts)
    link.unbind()
    assert sorted(a.part.key for a in answers) == list(range(20))
    assert all(a.status == 0 for a in answers)
    assert link.throttled == 5
    assert link.rate.rate < 500  # slowed down, climbing back
    assert len(smsc.state()["submits"]) == 20


# --- Through the panel --------------------------------------------------------------------


def test_long_ucs2_message_arrives_in_the_parts_count_said_with_a_receipt_each(
    smsc, connect, send, owner_client, account, smpp_route
):
    route = smpp_route()
    connect(route)
    text = "Réunion demain 😀 à 10 h, salle « Ω ». " * 6
    job = send(["+33612345678", "+33612345679"], message=text)
    wait_for(lambda: all_in(job, {Q.DELIVERED}), what="delivered")
    segments = count(text).segments
    submits = smsc.state()["submits"]
    assert len(submits) == 2 * segments
    for receiver in ("33612345678", "33612345679"):
        mine = [s for s in submits if s["destination"] == receiver]
        assert all(s["data_coding"] == 8 and s["registered_delivery"] == 1 for s in mine)
        assert [s["udh"][0][-2:] for s in mine] == [f"{i:02x}" for i in range(1, segments + 1)]
        assert "".join(s["text"] for s in mine) == text
    message = OutgoingMessage.objects.get(job=job, receiver="+33612345678")
    assert message.route == route and message.parts == segments
    parts = list(SmppPart.objects.filter(message=message).values_list("part", "stat"))
    assert parts == [(i, "DELIVRD") for i in range(1, segments + 1)]
    assert message.operator_id == SmppPart.objects.get(message=message, part=1).smsc_id
    # Its page's timeline has one report per part; the history shows it delivered per part.
    reports = message.events.filter(kind="report").values_list("status", flat=True)
    assert list(reports) == ["delivered"] * segments
    page = owner_client.get(f"/sms/{account.name}/outgoing/").content.decode()
    assert page.count('data-testid="parts-delivered"') == 2
    assert f"{segments}/{segments}" in page


def test_a_thousand_messages_through_the_window(smsc, connect, send, smpp_route):
    route = smpp_route()
    connect(route)
    job = send(numbers(1000))
    wait_for(lambda: all_in(job, {Q.DELIVERED}), timeout=120, every=0.5, what="1,000 delivered")
    assert len(smsc.state()["submits"]) == 1000
    assert OutgoingMessage.objects.filter(job=job, route=route).count() == 1000
    job.refresh_from_db()
    assert job.status == job.Status.DONE
    # Recorded submissions leave the outbox (their parts stay, for the receipts).
    wait_for(lambda: not SmppOutbox.objects.exists(), what="the outbox emptied")
    assert SmppPart.objects.filter(stat="DELIVRD").count() == 1000


def test_a_failed_part_fails_the_message(smsc, connect, send, account, smpp_route):
    smsc.configure(stat={"33612345678": ["UNDELIV", "001"]})
    connect(smpp_route())
    before = account.credits
    job = send(["+33612345678", "+33612345679"])
    wait_for(lambda: all_in(job, {Q.DELIVERED, Q.UNDELIVERED}), what="final")
    assert statuses(job) == {"+33612345678": Q.UNDELIVERED, "+33612345679": Q.DELIVERED}
    assert OutgoingMessage.objects.get(receiver="+33612345678").error_code == "001"
    account.refresh_from_db()
    assert account.credits == before - 2  # undelivered is charged, as with the simulator


def test_mo_stop_lands_in_the_stop_list(smsc, connect, send, account, smpp_route):
    connect(smpp_route())
    job = send(["+33612345678"])
    wait_for(lambda: all_in(job, {Q.DELIVERED}), what="delivered")
    assert smsc.mo("33612345678", "STOP")["command_status"] == 0
    entry = wait_for(lambda: StopListEntry.objects.filter(account=account).first(), what="STOP")
    assert entry.number == "+33612345678"
    assert IncomingMessage.objects.get(account=account).text == "STOP"
    smsc.mo("33612345678", "Merci 😀", ucs2=True)
    wait_for(lambda: IncomingMessage.objects.filter(text="Merci 😀").exists(), what="reply")


def test_smsc_killed_mid_send_nothing_lost_and_resends_are_flagged(smsc, connect, send, smpp_route):
    route = smpp_route(throughput=150)
    connect(route)
    job = send(numbers(300))
    wait_for(lambda: len(smsc.state()["submits"]) >= 60, what="sending")
    first_life = len(smsc.state()["submits"])
    smsc.kill()
    wait_for(lambda: Route.objects.get(pk=route.pk).link == Route.Link.DOWN, what="down")
    smsc.start()  # same ports
    # Receipts the first SMSC owed died with it: those messages stay "sent".
    wait_for(
        lambda: all_in(job, {Q.SUBMITTED, Q.DELIVERED}),
        timeout=60,
        every=0.3,
        what=lambda: Counter(statuses(job).values()),
    )
    second_life = len(smsc.state()["submits"])
    duplicates = OutgoingMessage.objects.filter(job=job, possible_duplicate=True).count()
    # Only what was on the wire at the kill may have gone twice: at most a window of them.
    assert duplicates <= 10
    assert second_life <= 300 - first_life + duplicates + 10
    assert not OutgoingMessage.objects.filter(job=job, status=Q.FAILED).exists()


def test_bad_credentials_mark_the_route_down_and_messages_fail_over(
    connect, send, smpp_route, make_route
):
    smsc_route = smpp_route(password="wrong")
    backup = make_route("backup", {"FR": "0.05"})
    connect(smsc_route, up=False)
    wait_for(
        lambda: "ESME_RINVPASWD" in Route.objects.get(pk=smsc_route.pk).link_error,
        what="down with its reason",
    )
    assert Route.objects.get(pk=smsc_route.pk).link == Route.Link.DOWN
    job = send(["+33612345678"])
    assert statuses(job) == {"+33612345678": Q.SUBMITTED}
    assert OutgoingMessage.objects.get(job=job).route == backup


def test_rejected_submits_fail_over_to_the_second_route(
    smsc, connect, send, smpp_route, make_route
):
    smsc.configure(reject={"33612345678": 0x14})  # ESME_RMSGQFUL: the SMSC's queue is full
    first = smpp_route()
    backup = make_route("backup", {"FR": "0.05"})
    connect(first)
    job = send(["+33612345678", "+33612345679"])
    wait_for(
        lambda: (
            all_in(job, {Q.SUBMITTED, Q.DELIVERED})
            and OutgoingMessage.objects.get(receiver="+33612345678").route_id == backup.pk
        ),
        what="failover",
    )
    moved = OutgoingMessage.objects.get(receiver="+33612345678")
    [failover] = moved.failovers.all()
    assert (failover.from_route, failover.reason) == (first, "SMPP_REJECTED")
    assert OutgoingMessage.objects.get(receiver="+33612345679").route == first


@pytest.mark.parametrize("fault", ["garbage", "cut"])
def test_an_smsc_sending_garbage_or_closing_mid_pdu_marks_the_route_down_and_it_recovers(
    smsc, connect, send, fault, smpp_route
):
    route = smpp_route()
    thread = connect(route)
    smsc.configure(**{fault: True})
    job = send(numbers(5))
    wait_for(lambda: Route.objects.get(pk=route.pk).link_error, what="link error")
    assert thread.is_alive()  # the connector survived and rebinds
    wait_for(lambda: all_in(job, {Q.DELIVERED}), timeout=30, what="delivered after rebind")
    assert smsc.state()["binds"] >= 1
    assert not SmppOutbox.objects.exclude(state=SmppOutbox.State.ACCEPTED).exists()
    assert RouteFailover.objects.count() == 0


def test_a_delivery_error_listed_as_a_route_problem_sends_the_message_through_the_next_route(
    smsc, connect, send, smpp_route, make_route
):
    smsc.configure(stat={"33612345678": ["UNDELIV", "069"]})
    first = smpp_route()
    Route.objects.filter(pk=first.pk).update(failover_errors="069, 0FF")
    backup = make_route("backup", {"FR": "0.05"})
    connect(first)
    job = send(["+33612345678", "+33612345679"])
    # Routing names the route as the upstream accepts, then the record moves the status on:
    # wait for both.
    moved = wait_for(
        lambda: OutgoingMessage.objects.filter(receiver="+33612345678", route=backup)
        .exclude(status=Q.SUBMITTING)
        .first(),
        what="the failover after the receipt",
    )
    assert moved.status == Q.SUBMITTED  # carried by the simulator now
    [failover] = moved.failovers.all()
    assert (failover.from_route, failover.reason) == (first, "DLR_069")
    wait_for(lambda: OutgoingMessage.objects.get(receiver="+33612345679").status == Q.DELIVERED)
    assert len(smsc.state()["submits"]) == 2  # the first route got each message once
    assert job.pk == moved.job_id


def test_a_route_disabled_with_a_message_in_flight_resends_it_elsewhere_flagged(send, make_route):
    from messaging import dispatch

    gone = Route.objects.create(name="gone", kind=Route.Kind.SMPP, enabled=False,
                                config={"host": "127.0.0.1", "port": 9, "system_id": "x"})
    backup = make_route("backup", {"FR": "0.05"})
    job = send(["+33612345678"])  # carried by the backup at once
    message = OutgoingMessage.objects.get(job=job)
    # As if it had been on the wire of the disabled route when it stopped:
    OutgoingMessage.objects.filter(pk=message.pk).update(
        status=Q.SUBMITTING, operator_id="", route=gone, next_attempt_at=message.created_at
    )
    SmppOutbox.objects.create(message=message, route=gone, claim=message.attempts,
                              state=SmppOutbox.State.UNKNOWN, payload={})
    dispatch.pump(budget=2)
    message.refresh_from_db()
    assert (message.status, message.route, message.possible_duplicate) == (
        Q.SUBMITTED, backup, True
    )
    assert not SmppOutbox.objects.exists()


def test_a_route_edited_in_admin_binds_again_with_its_new_settings(smsc, connect, smpp_route):
    route = smpp_route(password="wrong")
    connect(route, up=False)
    wait_for(lambda: Route.objects.get(pk=route.pk).link == Route.Link.DOWN, what="refused")
    # Refused credentials are not tried again for a minute, unless staff fix them.
    Route.objects.filter(pk=route.pk).update(credentials={"password": "secret"})
    wait_for(lambda: Route.objects.get(pk=route.pk).link == Route.Link.UP, what="bound")
    assert smsc.state()["binds"] == 1
    Route.objects.filter(pk=route.pk).update(throughput=4000)
    wait_for(lambda: smsc.state()["binds"] == 2, what="bound again with the new limit")
    assert smsc.state()["unbinds"] == 1
