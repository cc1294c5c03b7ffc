"""Routes: cheapest healthy route first per country, failover to the next, the route and
every failover recorded, and the staff form's write-only credentials."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from core import recipients
from messaging import services
from messaging.models import OutgoingMessage, Route, RouteCountry, RouteFailover
from tests.messaging.fakes import CLEAN

FR, FR2, BE = "+33612345671", "+33612345672", "+32470123456"
Q = OutgoingMessage.Status


def route(name, countries, *, kind=Route.Kind.SIMULATED, **config):
    r = Route.objects.create(name=name, kind=kind, config={**CLEAN, **config})
    for country, cost in countries.items():
        RouteCountry.objects.create(route=r, country=country, cost=Decimal(cost))
    return r


@pytest.fixture
def send(account, owner, scripted_operator, django_capture_on_commit_callbacks):
    def _send(*numbers):
        with django_capture_on_commit_callbacks(execute=True):
            job = services.job_submit(
                account=account,
                user=owner,
                message="Bonjour",
                parsed=recipients.parse("\n".join(numbers), "FR"),
                stop_clause=False,
            )
        return {m.receiver: m for m in OutgoingMessage.objects.filter(job=job)}

    return _send


def test_the_cheapest_route_serving_the_country_carries_the_message(send, make_route):
    make_route("dear", {"FR": "0.05"})
    cheap = make_route("cheap", {"FR": "0.03"})
    make_route("belgium", {"BE": "0.01"})
    sent = send(FR)
    assert sent[FR].status == Q.SUBMITTED
    assert sent[FR].route == cheap
    assert sent[FR].operator_id == f"sim-{sent[FR].pk}"
    assert not RouteFailover.objects.exists()


def test_a_country_route_beats_a_catch_all_and_other_countries_use_the_catch_all(send, make_route):
    anywhere = make_route("anywhere", {"*": "0.01"})
    france = make_route("france", {"FR": "0.02", "*": "0.00"})
    sent = send(FR, BE)
    # France's own cost (0.02) counts for FR, not its catch-all cost.
    assert sent[FR].route == anywhere
    assert sent[BE].route == france


def test_a_rejecting_route_fails_over_to_the_next_and_both_are_recorded(send, make_route):
    broken = make_route("broken", {"FR": "0.01"}, config={"transient_error_rate": 1.0})
    backup = make_route("backup", {"FR": "0.02"})
    sent = send(FR, FR2)
    for receiver in (FR, FR2):
        assert sent[receiver].status == Q.SUBMITTED
        assert sent[receiver].route == backup
        [failover] = sent[receiver].failovers.all()
        assert (failover.from_route, failover.to_route) == (broken, backup)
        assert failover.reason in ("THROTTLED", "SMSC_BUSY")


def test_a_throttled_route_rests_and_later_messages_skip_it(send, make_route):
    throttled = make_route("throttled", {"FR": "0.01"}, config={"transient_error_rate": 1.0})
    make_route("backup", {"FR": "0.02"})
    Route.objects.filter(pk=throttled.pk).update(
        resting_until=timezone.now() + timedelta(minutes=1)
    )
    sent = send(FR)
    assert sent[FR].route.name == "backup"
    assert not RouteFailover.objects.exists()  # never tried, so no failover


def test_when_every_route_rejects_the_last_answer_stands(send, account, make_route):
    make_route("one", {"FR": "0.01"}, config={"transient_error_rate": 1.0})
    make_route("two", {"FR": "0.02"}, config={"transient_error_rate": 1.0})
    sent = send(FR)
    assert sent[FR].status == Q.QUEUED  # transient: dispatch retries it later
    assert sent[FR].next_attempt_at > timezone.now() + timedelta(minutes=4)
    assert RouteFailover.objects.filter(message=sent[FR]).count() == 2
    assert list(
        RouteFailover.objects.filter(message=sent[FR]).values_list("to_route__name", flat=True)
    ) == [None, "two"]


def test_permanent_rejection_everywhere_fails_and_refunds(send, account, make_route):
    make_route("one", {"FR": "0.01"}, config={"permanent_error_rate": 1.0})
    before = account.credits
    sent = send(FR)
    assert sent[FR].status == Q.FAILED
    account.refresh_from_db()
    assert account.credits == before


def test_a_country_no_route_serves_goes_to_the_settings_operator(
    send, scripted_operator, make_route
):
    make_route("belgium", {"BE": "0.01"})
    sent = send(FR, BE)
    assert sent[FR].route is None and sent[FR].operator_id == f"op-{sent[FR].pk}"
    assert [m.receiver for m in scripted_operator.SUBMITTED] == [FR]
    assert sent[BE].route.name == "belgium"


def test_disabled_routes_are_ignored(send, scripted_operator, make_route):
    r = make_route("off", {"FR": "0.01"})
    Route.objects.filter(pk=r.pk).update(enabled=False)
    sent = send(FR)
    assert sent[FR].route is None


# --- Staff pages ------------------------------------------------------------------------


def test_staff_add_a_route_whose_password_is_never_shown_again(staff_client):
    form = {
        "name": "smsc-a",
        "kind": "smpp",
        "enabled": "on",
        "config": '{"host": "127.0.0.1", "port": 2775, "system_id": "panel"}',
        "throughput": "50",
        "failover_errors": "069",
        "password": "s3cret-pw",
        "countries-TOTAL_FORMS": "1",
        "countries-INITIAL_FORMS": "0",
        "countries-0-country": "FR",
        "countries-0-cost": "0.03",
        "countries-0-priority": "1",
    }
    response = staff_client.post("/admin/messaging/route/add/", form)
    assert response.status_code == 302, response.content.decode()[:3000]
    r = Route.objects.get(name="smsc-a")
    assert r.credentials == {"password": "s3cret-pw"}
    assert r.countries.get().country == "FR"
    page = staff_client.get(f"/admin/messaging/route/{r.pk}/change/").content.decode()
    assert "s3cret-pw" not in page
    assert "Bound" in page or "Connecté" in page or "Lié" in page
    # Saved again without typing it: kept.
    form.update({"countries-INITIAL_FORMS": "1", "countries-0-id": str(r.countries.get().pk)})
    form.update({"countries-0-route": str(r.pk), "password": ""})
    response = staff_client.post(f"/admin/messaging/route/{r.pk}/change/", form)
    assert response.status_code == 302
    r.refresh_from_db()
    assert r.credentials == {"password": "s3cret-pw"}


def test_an_smpp_route_without_its_host_is_refused_with_a_message(staff_client):
    response = staff_client.post(
        "/admin/messaging/route/add/",
        {
            "name": "bad",
            "kind": "smpp",
            "config": "{}",
            "throughput": "50",
            "countries-TOTAL_FORMS": "0",
            "countries-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "host, port, system_id" in response.content.decode()
    assert not Route.objects.exists()


def test_the_dispatch_health_page_lists_the_routes(staff_client, send, make_route):
    r = make_route("smsc-b", {"FR": "0.01"}, kind=Route.Kind.SMPP)
    Route.objects.filter(pk=r.pk).update(link=Route.Link.DOWN, link_error="bind refused: ESME_RINVPASWD")
    page = staff_client.get("/admin/messaging/smsjob/dispatch-health/").content.decode()
    assert "smsc-b" in page and "ESME_RINVPASWD" in page


def test_an_unreachable_http_route_rests_and_its_messages_fail_over(send, make_route):
    from tests.smsc.harness import free_port

    http = make_route(
        "provider", {"FR": "0.01"}, kind=Route.Kind.HTTP, credentials={"token": "t"},
        config={"url": f"http://127.0.0.1:{free_port()}/send"},  # nothing listens there
    )  # fmt: skip
    backup = make_route("backup", {"FR": "0.02"})
    sent = send(FR)
    assert sent[FR].route == backup and sent[FR].status == Q.SUBMITTED
    assert sent[FR].failovers.get().from_route == http
    http.refresh_from_db()
    assert http.link == Route.Link.DOWN and http.resting_until > timezone.now()
    assert http.link_error
    assert not sent[FR].possible_duplicate  # refused before anything was sent


def test_a_message_whose_answer_was_lost_moves_on_flagged_as_a_possible_duplicate(send, make_route):
    """The provider read the request, then hung up without answering: it may have sent the
    SMS. Another route cannot deduplicate it, so the copy it sends is flagged (as SMPP's
    resend after a lost answer is)."""
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
    try:
        make_route(
            "provider", {"FR": "0.01"}, kind=Route.Kind.HTTP, credentials={"token": "t"},
            config={"url": f"http://127.0.0.1:{server.getsockname()[1]}/send"},
        )  # fmt: skip
        backup = make_route("backup", {"FR": "0.02"})
        sent = send(FR)
    finally:
        server.close()
    assert sent[FR].route == backup and sent[FR].status == Q.SUBMITTED
    assert sent[FR].failovers.get().reason == "RemoteDisconnected"
    assert sent[FR].possible_duplicate
