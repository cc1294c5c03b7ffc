"""The SMPP connector: one thread per SMPP route holds its transceiver bind and works the
messages routing handed to it (SmppOutbox rows), run by `manage.py smpp_connector`.

Loop: bind (backoff 1 s doubling to 60 s when it fails or the link drops soon after; bad
credentials mark the route down with the SMSC's reason) → heartbeat (Route.link up, heartbeat_at, the handed messages' leases
renewed) → claim `waiting` rows (`sending`, committed before the first submit_sm) → submit
their parts through the window → record the answers under the dispatch claim
(dispatch.results_record) → read receipts and MO in between (smpp_received).

Failover: while the link is down, waiting messages another healthy route can take are given
back to the dispatchers at once (a RouteFailover each); those with no other route wait for the
link, up to their validity period (then expired and refunded). A submit answer other than throttling moves the message on the same way when another
route exists; else it stands (a transient one is retried later by dispatch, a permanent one
fails and is refunded). ESME_RTHROTTLED only slows the link down (the part is sent again).

Duplicate policy (SMPP cannot deduplicate a resubmission): a message whose every part was
answered is never sent again — the SMSC's ids are kept (SmppOutbox `accepted`) and answer any
later claim. A message with a part sent but unanswered when the link broke (or the connector
died) has an *unknown* outcome. query_sm cannot help: it asks by the SMSC's message id, which
that lost answer was carrying. So after the rebind it is sent once more, the message marked
"possible duplicate"; if that second submission's answer is lost too, the message fails
(SMPP_NO_ANSWER, refunded) rather than risk a third copy. A message one of whose parts was
accepted and another rejected fails (SMPP_PARTIAL): sending it again would repeat the part
that went out.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, close_old_connections, connection, transaction
from django.db.models import Min
from django.utils import timezone

from core import bulk

from .. import dispatch, routing
from ..encoding import count
from ..ledger import messages_fail
from ..models import OutgoingMessage, Route, RouteFailover, SmppOutbox, SmppPart
from . import smpp_codec, smpp_received
from .base import SubmitResult
from .smpp_link import PERMANENT_SUBMIT, BindRefused, LinkDown, Part, SmppLink

logger = logging.getLogger(__name__)
_OUT = SmppOutbox.State
_Q = OutgoingMessage.Status
CLAIM = 500  # outbox rows per claim, at most: a claim is sent before the next heartbeat
MAX_BACKOFF = 60.0
HOLD_SECONDS = 60  # a connector that stopped heartbeating lets go of its route after this


def _addresses(payload: dict, config: dict) -> dict:
    sender = payload.get("sender") or str(config.get("short_code", "36111"))
    if sender.isdigit() or sender.startswith("+"):
        source = {"source_addr_ton": 1 if sender.startswith("+") else 3, "source_addr_npi": 1}
        sender = sender.lstrip("+")
    else:
        source = {"source_addr_ton": 5, "source_addr_npi": 0}  # alphanumeric
    return {
        **source,
        "source_addr": sender,
        "dest_addr_ton": 1,
        "dest_addr_npi": 1,
        "destination_addr": payload["receiver"].lstrip("+"),
    }


def build_parts(message_id: int, payload: dict, config: dict) -> list[Part]:
    """The submit_sm of each part of a message (as many as count() said)."""
    encoded = smpp_codec.encode(
        payload["text"], packed=bool(config.get("gsm7_packed")), ref=message_id
    )
    coding = encoded.data_coding
    if payload.get("sms_class") == "flash":
        coding |= 0x10  # message class 0, shown at once and not stored
    common = {
        **_addresses(payload, config),
        "esm_class": encoded.esm_class,
        "data_coding": coding,
        "registered_delivery": 1,  # a receipt per part
    }
    total = len(encoded.parts)
    return [
        Part(key=(message_id, seq, total), params={**common, "short_message": data})
        for seq, data in enumerate(encoded.parts, start=1)
    ]


class RouteConnector:
    """Holds one route's bind until `stop` is set."""

    def __init__(self, route_id: int, stop: threading.Event, *, link_factory=SmppLink):
        self.route_id = route_id
        self.stop = stop
        self.link_factory = link_factory
        self.route: Route | None = None
        self._sending: list[SmppOutbox] = []  # the batch on the wire
        self.token = uuid.uuid4().hex

    # --- The loop ---------------------------------------------------------------------------

    def run(self) -> None:
        backoff, held = 1.0, False
        try:
            while not self.stop.is_set():
                close_old_connections()
                self.route = Route.objects.get(pk=self.route_id)
                if not self.route.enabled or self.route.kind != Route.Kind.SMPP:
                    return
                if not self._hold():
                    held = False
                    self.stop.wait(1.0)  # another connector holds the route
                    continue
                if not held:
                    held = True
                    self._forget_sending()
                link = self._link()
                try:
                    link.bind()
                except LinkDown as error:
                    self._down(str(error))
                    wait = MAX_BACKOFF if isinstance(error, BindRefused) else backoff
                    self._wait_or_edit(wait)
                    backoff = min(backoff * 2, MAX_BACKOFF)
                    continue
                self._up()
                bound_at = time.monotonic()
                try:
                    self._serve(link)
                    link.unbind()
                    backoff = 1.0
                except LinkDown as error:
                    link.close()
                    self._link_lost(link, str(error))
                    # A link that held for a while binds again at once; one dropped soon
                    # after its bind (a flapping SMSC) backs off like a refused bind.
                    if time.monotonic() - bound_at < MAX_BACKOFF:
                        self._wait_or_edit(backoff)
                        backoff = min(backoff * 2, MAX_BACKOFF)
                    else:
                        backoff = 1.0
                except BaseException:
                    # A database outage or a bug: the bind is dropped (the rows being sent
                    # are found `sending`, so unknown, by the thread Connector starts again).
                    link.close()
                    raise
        except Route.DoesNotExist:
            return
        finally:
            self._release()
            connection.close()

    # One connector per route, across processes: a second one would find the first one's
    # messages `sending` and send them again. The hold is a cache (Redis) key with a TTL,
    # renewed at each heartbeat; without the cache, connectors run unguarded (an outage must
    # not stop the SMS).

    def _hold(self) -> bool:
        key = f"smpp-connector:{self.route_id}"
        try:
            if cache.add(key, self.token, HOLD_SECONDS):
                return True
            if cache.get(key) == self.token:
                cache.touch(key, HOLD_SECONDS)
                return True
            return False
        except Exception:  # noqa: BLE001 - any cache failure: run unguarded
            logger.warning("SMPP route %s: cache unavailable, connector unguarded", self.route_id)
            return True

    def _release(self) -> None:
        key = f"smpp-connector:{self.route_id}"
        try:
            if cache.get(key) == self.token:
                cache.delete(key)
        except Exception:  # noqa: BLE001 - it expires by itself
            pass

    def _wait_or_edit(self, seconds: float) -> None:
        """Back off, but bind again at once when staff edit the route meanwhile."""
        deadline = time.monotonic() + seconds
        while not self.stop.is_set() and time.monotonic() < deadline:
            self.stop.wait(min(1.0, max(0.0, deadline - time.monotonic())))
            self.route = Route.objects.get(pk=self.route_id)
            if not self.route.enabled or self._settings() != self._bound_with:
                return
            if not self._hold():
                return

    def _settings(self) -> tuple:
        return (self.route.config, self.route.credentials, self.route.throughput)

    def _link(self) -> SmppLink:
        config = self.route.config
        self._bound_with = self._settings()
        return self.link_factory(
            host=config["host"],
            port=int(config["port"]),
            system_id=config["system_id"],
            password=self.route.credentials.get("password", ""),
            system_type=config.get("system_type", ""),
            window=int(config.get("window", 10)),
            throughput=float(self.route.throughput),
            timeout=float(config.get("timeout", 10)),
            enquire_every=float(config.get("enquire_link_seconds", 30)),
            on_deliver=lambda pdu: smpp_received.deliver_sm_receive(self.route, pdu),
            on_tick=self._keepalive,
            tick_every=settings.SMPP["HEARTBEAT_SECONDS"],
        )

    def _serve(self, link: SmppLink) -> None:
        self._unknown_resend()
        beat = 0.0
        while not self.stop.is_set():
            if time.monotonic() - beat >= settings.SMPP["HEARTBEAT_SECONDS"]:
                if not self._heartbeat():
                    return  # disabled or edited meanwhile: unbind (and bind again)
                beat = time.monotonic()
            rows = self._claim()
            if not rows:
                link.poll(settings.SMPP["POLL_SECONDS"])
                continue
            self._sending = rows
            parts = [p for row in rows for p in build_parts(row.pk, row.payload, self.route.config)]
            answers = link.submit(parts)
            self._record(rows, answers)
            self._sending = []

    # --- Link state -------------------------------------------------------------------------

    def _up(self) -> None:
        now = timezone.now()
        Route.objects.filter(pk=self.route_id).update(
            link=Route.Link.UP,
            link_changed_at=now,
            heartbeat_at=now,  # the last error stays
        )
        self.route.link, self.route.heartbeat_at = Route.Link.UP, now

    def _down(self, error: str) -> None:
        logger.warning("SMPP route %s down: %s", self.route, error)
        now = timezone.now()
        Route.objects.filter(pk=self.route_id).update(
            link=Route.Link.DOWN, link_error=error[:200], link_changed_at=now, heartbeat_at=now
        )
        self.route.link = Route.Link.DOWN
        self._hand_back()
        self._expire_waiting()
        self._renew_leases()

    def _heartbeat(self) -> bool:
        now = timezone.now()
        Route.objects.filter(pk=self.route_id).update(heartbeat_at=now)
        self.route = Route.objects.get(pk=self.route_id)
        self._renew_leases()
        smpp_received.kept_receipts_apply(self.route)
        self._forget_recorded()
        held = self._hold()
        return held and self.route.enabled and self._settings() == self._bound_with

    def _keepalive(self) -> None:
        """In the middle of a long batch (a throttled link): still alive, leases renewed."""
        Route.objects.filter(pk=self.route_id).update(heartbeat_at=timezone.now())
        self._renew_leases()
        self._hold()

    def _forget_recorded(self) -> None:
        """An accepted row answers a claim taken over after a lost record; once the message's
        submission is recorded no claim can come, so the row can go (its parts stay)."""
        recorded = (
            SmppOutbox.objects.filter(route_id=self.route_id, state=_OUT.ACCEPTED)
            .exclude(message__status__in=OutgoingMessage.IN_FLIGHT)
            .values_list("message_id", flat=True)[:5000]
        )
        SmppOutbox.objects.filter(pk__in=list(recorded)).delete()

    def _renew_leases(self) -> None:
        held = SmppOutbox.objects.filter(
            route_id=self.route_id, state__in=[_OUT.WAITING, _OUT.SENDING, _OUT.UNKNOWN]
        ).values("message_id")
        OutgoingMessage.objects.filter(pk__in=held, status=_Q.SUBMITTING).update(
            next_attempt_at=timezone.now() + routing.handoff_lease()
        )

    def _link_lost(self, link: SmppLink, error: str) -> None:
        """Sorts the batch being sent: every part answered → recorded; a part sent and not
        answered, or some parts answered and others not sent → `unknown`; nothing sent but
        throttled attempts → back to `waiting`."""
        answered = defaultdict(list)
        for answer in link.answers:
            answered[answer.part.key[0]].append(answer)
        link.answers = []
        unanswered = {part.key[0] for part in link.unanswered()}
        link.not_sent()  # throttled parts: refused, so never sent
        rows, self._sending = self._sending, []
        complete = [
            r for r in rows if r.pk not in unanswered and len(answered[r.pk]) == r.total_parts
        ]
        if complete:
            self._record(complete, [a for r in complete for a in answered[r.pk]])
        done = {r.pk for r in complete}
        unknown = [
            r.pk for r in rows if r.pk not in done and (r.pk in unanswered or answered[r.pk])
        ]
        waiting = [r.pk for r in rows if r.pk not in done and r.pk not in unknown]
        SmppOutbox.objects.filter(pk__in=unknown, state=_OUT.SENDING).update(state=_OUT.UNKNOWN)
        SmppOutbox.objects.filter(pk__in=waiting, state=_OUT.SENDING).update(state=_OUT.WAITING)
        self._down(error)

    # --- The outbox -------------------------------------------------------------------------

    def _forget_sending(self) -> None:
        """At start: what a previous connector was sending has an unknown outcome."""
        SmppOutbox.objects.filter(route_id=self.route_id, state=_OUT.SENDING).update(
            state=_OUT.UNKNOWN
        )

    def _unknown_resend(self) -> None:
        """The duplicate policy, after each bind: unknown once → sent again, flagged;
        unknown twice → failed."""
        unknown = SmppOutbox.objects.filter(route_id=self.route_id, state=_OUT.UNKNOWN)
        again = list(unknown.filter(resent=False).values_list("message_id", flat=True))
        if again:
            with transaction.atomic():
                SmppOutbox.objects.filter(pk__in=again).update(state=_OUT.WAITING, resent=True)
                OutgoingMessage.objects.filter(pk__in=again).update(possible_duplicate=True)
        lost = list(unknown.filter(resent=True).values_list("message_id", "claim"))
        if lost:
            self._results(
                [
                    SubmitResult(pk, False, error_code="SMPP_NO_ANSWER", permanent=True)
                    for pk, _c in lost
                ],
                dict(lost),
            )

    def _claim(self) -> list[SmppOutbox]:
        with transaction.atomic():
            waiting = SmppOutbox.objects.filter(route_id=self.route_id, state=_OUT.WAITING)
            if connection.features.has_select_for_update_skip_locked:
                waiting = waiting.select_for_update(skip_locked=True)
            # About two seconds of the route's throughput, so heartbeats stay regular.
            size = max(10, min(CLAIM, 2 * self.route.throughput))
            ids = list(waiting.order_by("created_at").values_list("message_id", flat=True)[:size])
            if not ids:
                return []
            SmppOutbox.objects.filter(pk__in=ids, state=_OUT.WAITING).update(state=_OUT.SENDING)
        rows = list(SmppOutbox.objects.filter(pk__in=ids, state=_OUT.SENDING))
        for row in rows:
            row.total_parts = count(row.payload["text"]).segments
        return rows

    def _hand_back(self) -> None:
        """Link down: waiting messages another route can take go back to the dispatchers."""
        waiting = SmppOutbox.objects.filter(route_id=self.route_id, state=_OUT.WAITING)
        rows = list(waiting.values_list("message_id", "message__country"))
        movable = [
            pk for pk, country in rows if routing.next_route_exists(pk, country, leaving=self.route)
        ]
        self._fail_over(movable, reason="LINK_DOWN")

    def _expire_waiting(self) -> None:
        """Link down: a message no other route could take waits for the link, but not past
        its job's validity period (from when the message was written). It was never sent,
        so it expires and is refunded (under its claim, so once)."""
        now = timezone.now()
        waiting = SmppOutbox.objects.filter(route_id=self.route_id, state=_OUT.WAITING)
        jobs = (
            waiting.values("message__job_id", "message__job__validity_period")
            .annotate(oldest=Min("message__created_at"))
            .order_by()
        )
        for job in jobs:
            born_before = now - timedelta(minutes=job["message__job__validity_period"])
            if job["oldest"] > born_before:
                continue
            rows = waiting.filter(
                message__job_id=job["message__job_id"], message__created_at__lte=born_before
            )
            claims = dict(rows.values_list("message_id", "claim"))
            with transaction.atomic():
                SmppOutbox.objects.filter(pk__in=list(claims), state=_OUT.WAITING).delete()
                # A dispatcher that took one over meanwhile (a newer claim) routes it anew.
                messages_fail(
                    failures=[(pk, "VALIDITY_EXPIRED") for pk in claims],
                    status=_Q.EXPIRED,
                    from_statuses=(_Q.SUBMITTING,),
                    claims=claims,
                )
            dispatch.job_finish_if_complete(job["message__job_id"])

    def _fail_over(self, ids: list[int], *, reason: str) -> None:
        if not ids:
            return
        with transaction.atomic():
            gone = SmppOutbox.objects.filter(pk__in=ids, state__in=[_OUT.WAITING, _OUT.SENDING])
            ids = list(gone.values_list("message_id", flat=True))
            gone.delete()
            RouteFailover.objects.bulk_create(
                [
                    RouteFailover(message_id=pk, from_route_id=self.route_id, reason=reason[:32])
                    for pk in ids
                ]
            )
            # Due now: the next dispatcher claims them and routing passes over this route.
            OutgoingMessage.objects.filter(pk__in=ids, status=_Q.SUBMITTING).update(
                next_attempt_at=timezone.now()
            )
        dispatch.wake_on_commit()

    def _record(self, rows: list[SmppOutbox], answers) -> None:
        by_message = defaultdict(dict)
        for answer in answers:
            message_id, seq, _total = answer.part.key
            by_message[message_id][seq] = answer
        accepted, results, failover = [], [], []
        for row in rows:
            got = by_message.get(row.pk, {})
            statuses = [a.status for a in got.values()]
            if len(got) == row.total_parts and not any(statuses):
                accepted.append((row, [got[s].smsc_id for s in sorted(got)]))
                continue
            error = next((s for s in statuses if s), None)
            if error is None:  # some part never answered (cannot happen after submit())
                results.append(SubmitResult(row.pk, False, error_code="SMPP_NO_ANSWER"))
                continue
            code = f"SMPP_0x{error:02X}"
            if 0 in statuses:
                results.append(
                    SubmitResult(row.pk, False, error_code="SMPP_PARTIAL", permanent=True)
                )
            elif error not in PERMANENT_SUBMIT and routing.next_route_exists(
                row.pk,
                OutgoingMessage.objects.values_list("country", flat=True).get(pk=row.pk),
                leaving=self.route,
            ):
                failover.append(row.pk)
            else:
                results.append(
                    SubmitResult(
                        row.pk, False, error_code=code, permanent=error in PERMANENT_SUBMIT
                    )
                )
        if failover:
            self._fail_over(failover, reason="SMPP_REJECTED")
        claims = dict(
            SmppOutbox.objects.filter(pk__in=[r.pk for r in rows]).values_list(
                "message_id", "claim"
            )
        )
        if accepted:
            SmppPart.objects.bulk_create(
                [
                    SmppPart(
                        route_id=self.route_id,
                        smsc_id=smsc_id,
                        message_id=row.pk,
                        part=n,
                        parts=len(ids),
                    )
                    for row, ids in accepted
                    for n, smsc_id in enumerate(ids, start=1)
                ],
                ignore_conflicts=True,
            )
            bulk.update(
                SmppOutbox,
                fields=("smsc_ids",),
                key=("message",),
                rows=[(json.dumps(ids), row.pk) for row, ids in accepted],
                constants={"state": _OUT.ACCEPTED},
            )
            results += [SubmitResult(row.pk, True, operator_id=ids[0]) for row, ids in accepted]
        self._results(results, claims)
        if accepted:
            smpp_received.kept_receipts_apply(
                self.route, [smsc_id for _row, ids in accepted for smsc_id in ids]
            )

    def _results(self, results: list[SubmitResult], claims: dict[int, int]) -> None:
        """Record answers as a dispatcher would, under the claim; rejected messages leave the
        outbox (a retry is routed anew)."""
        if not results:
            return
        dispatch.results_record(results, attempts=claims)
        rejected = [r.message_id for r in results if not r.accepted]
        SmppOutbox.objects.filter(pk__in=rejected).delete()
        jobs = OutgoingMessage.objects.filter(pk__in=[r.message_id for r in results])
        for job_id in set(jobs.values_list("job_id", flat=True)):
            dispatch.job_finish_if_complete(job_id)


class Connector:
    """Every enabled SMPP route gets a RouteConnector thread; new routes are picked up."""

    def __init__(self, *, route_ids: list[int] | None = None, rescan: float = 10.0):
        self.route_ids = route_ids
        self.rescan = rescan
        self.stop = threading.Event()
        self.threads: dict[int, threading.Thread] = {}

    def routes(self) -> list[int]:
        routes = Route.objects.filter(kind=Route.Kind.SMPP, enabled=True)
        if self.route_ids is not None:
            routes = routes.filter(pk__in=self.route_ids)
        return list(routes.values_list("pk", flat=True))

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                route_ids = self.routes()
            except DatabaseError:
                # Scanned again after the pause: an outage must not end the process.
                logger.warning("SMPP connector: database unavailable", exc_info=True)
                close_old_connections()
                self.stop.wait(self.rescan)
                continue
            for route_id in route_ids:
                thread = self.threads.get(route_id)
                if thread is None or not thread.is_alive():
                    worker = RouteConnector(route_id, self.stop)
                    thread = threading.Thread(
                        target=worker.run, name=f"smpp-{route_id}", daemon=True
                    )
                    self.threads[route_id] = thread
                    thread.start()
            close_old_connections()
            self.stop.wait(self.rescan)
        for thread in self.threads.values():
            thread.join(timeout=15)
