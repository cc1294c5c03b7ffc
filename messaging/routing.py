"""Routing: which upstream ("route") carries each message, and failover to the next one.

`submit(messages)` stands where dispatch used to call the operator. With no enabled route,
everything goes to the operator of settings.SMS_OPERATOR (the simulator by default), as
before routes existed. Otherwise, for each message, the routes serving its country (or `*`)
are tried cheapest first (then by priority), skipping those that are resting (throttled, link
down) and those that already failed this message; a rejection, a throttling answer or a link
error moves it on to the next one, each move a RouteFailover row. When no route is left the
last answer stands (transient: dispatch retries later; permanent: the message fails). A
country no route serves goes to the settings' operator.

In-process kinds (simulator, generic HTTP, OVHcloud) answer here, at most `throughput`
messages a second per route across every dispatcher process (a counter in Redis,
core.ratelimit.take); what a dispatcher cannot send within throughput_wait() goes back to the
queue. An SMPP route's bind is held by its connector process
(messaging.operator.smpp_connector): its messages are handed over through SmppOutbox rows, they
stay `submitting` with a longer lease, and the connector records the answers itself
(dispatch.results_record, under the same claim).
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core import ratelimit

from .models import OutgoingMessage, Route, RouteCountry, RouteFailover, SmppOutbox
from .operator import OutboundSms, SubmitResult, get_operator
from .route_models import HEARTBEAT_STALE_SECONDS

logger = logging.getLogger(__name__)
_OUT = SmppOutbox.State
_Q = OutgoingMessage.Status
# Answers that say the route, not the message, is the problem: it rests for a while.
THROTTLED = ("THROTTLED", "ESME_RTHROTTLED")
LINK_ERRORS = ("LINK_DOWN", "URLError", "HTTPError", "TimeoutError", "ConnectionRefusedError")
LINK_ERRORS += ("ConnectionResetError", "RemoteDisconnected", "JSONDecodeError", "OSError")
LINK_ERRORS += ("OVH_INVALIDKEY", "OVH_INVALIDCREDENTIAL", "OVH_NOTCREDENTIAL", "OVH_FORBIDDEN")
LINK_ERRORS += ("OVH_NOTGRANTEDCALL",)
# Answers lost after the request went out (the upstream may have sent the SMS): a message
# moving on to another route after one of these is flagged "possible duplicate", as SMPP's
# resend after a lost answer is (the same route deduplicates a retry; another cannot).
MAYBE_SENT = ("LINK_NO_ANSWER", "TimeoutError", "RemoteDisconnected", "ConnectionResetError")
MAYBE_SENT += ("JSONDecodeError",)
LINK_ERRORS += ("LINK_NO_ANSWER",)
THROTTLE_REST = timedelta(seconds=1)
LINK_REST = timedelta(seconds=30)
# Without the shared throughput counter (Redis unreachable), messages wait this long in the
# queue, then try again: a route's limit is never guessed.
COUNTER_DOWN_WAIT = timedelta(seconds=5)
# The clock and the pause of the throughput limit (tests replace them).
_now, _sleep = time.time, time.sleep

# The keys of Route.config each kind reads (shown in admin).
CONFIG_HELP = {
    Route.Kind.SIMULATED: 'any SimulatorConfig field, e.g. {"transient_error_rate": 0.1}',
    Route.Kind.SMPP: '{"host", "port", "system_id", "system_type", "window": 10, '
    '"gsm7_packed": false, "source_ton", "source_npi", "short_code"}; credentials: password',
    Route.Kind.HTTP: '{"url"}; credentials: token',
    Route.Kind.OVH: '{"endpoint", "service_name", "sender"}; credentials: application_key, '
    "application_secret, consumer_key",
}


def handoff_lease() -> timedelta:
    return timedelta(seconds=settings.SMPP["HANDOFF_LEASE_SECONDS"])


def is_healthy(route: Route, now: datetime) -> bool:
    if not route.enabled or (route.resting_until and route.resting_until > now):
        return False
    if route.kind == Route.Kind.SMPP:
        fresh = now - timedelta(seconds=HEARTBEAT_STALE_SECONDS)
        return route.link == Route.Link.UP and bool(
            route.heartbeat_at and route.heartbeat_at > fresh
        )
    return True


def route_table() -> dict[str, list[tuple]]:
    """country (or "*") → (cost, priority, route) of the enabled routes serving it."""
    table: dict[str, list[tuple]] = defaultdict(list)
    for served in RouteCountry.objects.filter(route__enabled=True).select_related("route"):
        table[served.country.upper()].append((served.cost, served.priority, served.route))
    return table


def candidates(table: dict[str, list[tuple]], country: str) -> list[Route]:
    """Routes for a country, its own and the `*` ones, cheapest first, then by priority
    (a route listing the country itself uses that cost rather than its `*` one)."""
    own = table.get(country.upper(), [])
    mine = {route.pk for _c, _p, route in own}
    served = own + [t for t in table.get(RouteCountry.ANY, []) if t[2].pk not in mine]
    return [route for _c, _p, route in sorted(served, key=lambda t: (t[0], t[1], t[2].pk))]


def operator_for(route: Route):
    """The in-process operator of a route of a kind other than SMPP."""
    from .operator.http import HttpOperator
    from .operator.simulated import SimulatedOperator

    if route.kind == Route.Kind.SIMULATED:
        base = settings.SMS_OPERATOR.get("SIMULATOR", {})
        return SimulatedOperator({"SIMULATOR": {**base, **route.config}})
    if route.kind == Route.Kind.HTTP:
        return HttpOperator(
            {"URL": route.config.get("url", ""), "TOKEN": route.credentials.get("token", "")}
        )
    if route.kind == Route.Kind.OVH:
        from .operator.ovh import OvhOperator

        return OvhOperator(route)
    raise ValueError(f"no in-process operator for {route.kind}")


def submit(messages: Sequence[OutboundSms]) -> list[SubmitResult]:
    """Submit claimed messages through their routes; one result per message answered now
    (messages handed to an SMPP connector get theirs from it, later)."""
    if not messages:
        return []
    table = route_table()
    if not table:
        return get_operator().submit(messages)
    now = timezone.now()
    ids = [m.message_id for m in messages]
    countries = dict(OutgoingMessage.objects.filter(pk__in=ids).values_list("id", "country"))
    failed_before: dict[int, set[int]] = defaultdict(set)
    lost_on: dict[int, set[int]] = defaultdict(set)  # routes that may have sent it already
    for message_id, route_id, reason in RouteFailover.objects.filter(
        message_id__in=ids
    ).values_list("message_id", "from_route_id", "reason"):
        failed_before[message_id].add(route_id)
        if reason in MAYBE_SENT:
            lost_on[message_id].add(route_id)
    results, todo = _smpp_outbox_answers(messages, now)

    healthy: dict[int, bool] = {}
    options_for: dict[str, list[Route]] = {}
    tried: dict[int, set[int]] = defaultdict(set)
    last: dict[int, SubmitResult] = {}
    moving: dict[int, tuple[Route, str]] = {}  # message → (route it left, why)
    failovers: list[RouteFailover] = []
    while todo:
        groups: dict[Route | None, list[OutboundSms]] = defaultdict(list)
        for m in todo:
            country = countries.get(m.message_id, "")
            if country not in options_for:
                options_for[country] = candidates(table, country)
            options = options_for[country]
            route = _pick(options, tried[m.message_id], failed_before[m.message_id], healthy, now)
            if m.message_id in moving:
                left, why = moving.pop(m.message_id)
                failovers.append(
                    RouteFailover(
                        message_id=m.message_id, from_route=left, to_route=route, reason=why
                    )
                )
            if route is not None:
                groups[route].append(m)
            elif not options:
                groups[None].append(m)  # no route serves this country
            elif m.message_id in last:
                results.append(last[m.message_id])  # every route tried: its last answer stands
            else:
                results.append(SubmitResult(m.message_id, False, error_code="NO_ROUTE_UP"))
        todo = []
        for route, batch in groups.items():
            if route is None:
                results.extend(get_operator().submit(batch))
                continue
            # Failovers written before the next route was known (by the SMPP connector, or
            # on a delivery error) name the route that takes the message now.
            left = [m.message_id for m in batch if failed_before[m.message_id]]
            if left:
                RouteFailover.objects.filter(message_id__in=left, to_route=None).update(
                    to_route=route
                )
            copies = [m.message_id for m in batch if lost_on[m.message_id] - {route.pk}]
            if copies:
                OutgoingMessage.objects.filter(pk__in=copies).update(possible_duplicate=True)
            if route.kind == Route.Kind.SMPP:
                smpp_handoff(route, batch, now=now)
            else:
                rejected = _submit_in_process(route, batch, results, now)
                for m, answer in rejected:
                    tried[m.message_id].add(route.pk)
                    last[m.message_id] = answer
                    moving[m.message_id] = (route, answer.error_code or "REJECTED")
                    if answer.error_code in MAYBE_SENT:
                        lost_on[m.message_id].add(route.pk)
                    todo.append(m)
                if any(a.error_code in LINK_ERRORS + THROTTLED for _m, a in rejected):
                    healthy[route.pk] = False
    if failovers:
        RouteFailover.objects.bulk_create(failovers)
    return results


def _pick(options, tried, failed_before, healthy, now) -> Route | None:
    """The first healthy route not tried in this call; routes that failed this message
    before come last (they may have recovered, and may be all there is)."""
    fresh = [r for r in options if r.pk not in tried]
    for route in sorted(fresh, key=lambda r: r.pk in failed_before):
        if route.pk not in healthy:
            healthy[route.pk] = is_healthy(route, now)
        if healthy[route.pk]:
            return route
    return None


def _submit_in_process(route, batch, results, now) -> list[tuple[OutboundSms, SubmitResult]]:
    """Submit to a simulator/HTTP/OVHcloud route; record it on the accepted messages, rest
    the route on throttling or link errors. Returns the rejected (message, answer) pairs."""
    by_id = {m.message_id: m for m in batch}
    operator, answers = operator_for(route), []
    for chunk in _within_throughput(route, batch):
        answers += operator.submit(chunk)
    accepted = [a for a in answers if a.accepted]
    rejected = [(by_id[a.message_id], a) for a in answers if not a.accepted]
    if accepted:
        OutgoingMessage.objects.filter(pk__in=[a.message_id for a in accepted]).update(route=route)
        results.extend(accepted)
    codes = {a.error_code for _m, a in rejected}
    if codes & set(LINK_ERRORS):
        route_rest(route, LINK_REST, error=", ".join(sorted(codes & set(LINK_ERRORS))))
    elif codes & set(THROTTLED):
        route_rest(route, THROTTLE_REST)
    elif accepted and route.link != Route.Link.UP:
        Route.objects.filter(pk=route.pk).update(link=Route.Link.UP, link_changed_at=now)
    return rejected


def throughput_wait() -> float:
    """How long a dispatcher waits for its route's throughput before giving the rest of its
    batch back: a third of the lease, so the batch is recorded long before the lease ends."""
    return settings.DISPATCH["LEASE_SECONDS"] / 3


def _within_throughput(route: Route, batch: Sequence[OutboundSms]):
    """Yield chunks of `batch` as the route's throughput allows them, counted across every
    dispatcher process (the SMPP connector keeps its own, one connector per route). What is
    left when the wait runs out, or when the counter cannot be read, goes back to the queue."""
    todo, deadline = list(batch), _now() + throughput_wait()
    while todo:
        try:
            granted, wait = ratelimit.take(
                f"route:{route.pk}:throughput",
                len(todo),
                limit=max(1, route.throughput),
                now=_now(),
            )
        except Exception:  # noqa: BLE001 - no counter: wait in the queue, never guess
            logger.warning("routing: throughput counter unreachable, route %s waits", route.pk)
            messages_release(todo, due=timezone.now() + COUNTER_DOWN_WAIT)
            return
        if granted:
            yield todo[:granted]
            todo = todo[granted:]
        if todo:
            if _now() + wait > deadline:
                messages_release(todo, due=timezone.now() + timedelta(seconds=wait))
                return
            _sleep(wait)


def messages_release(messages: Sequence[OutboundSms], *, due: datetime) -> None:
    """Give claimed messages back to the queue untouched: `queued`, due at `due`, the claim's
    attempt not counted (they were never offered to an upstream). Only where the claim is
    still the caller's."""
    by_claim: dict[int, list[int]] = defaultdict(list)
    for m in messages:
        by_claim[m.attempt].append(m.message_id)
    for attempt, ids in by_claim.items():
        OutgoingMessage.objects.filter(pk__in=ids, status=_Q.SUBMITTING, attempts=attempt).update(
            status=_Q.QUEUED, attempts=attempt - 1, next_attempt_at=due
        )


def route_rest(route: Route, rest: timedelta, *, error: str = "") -> None:
    """Pass over a route for a while (throttled, or its link failed)."""
    now = timezone.now()
    changes = {"resting_until": now + rest}
    if error:
        changes.update(link=Route.Link.DOWN, link_error=error[:200], link_changed_at=now)
    Route.objects.filter(pk=route.pk).update(**changes)


def _smpp_outbox_answers(messages, now) -> tuple[list[SubmitResult], list[OutboundSms]]:
    """Messages already handed to an SMPP connector earlier (their lease ran out):
    accepted ones are answered from its record and never sent again; one still being sent
    or awaiting its resend stays with the connector; one never picked up is routed anew. A
    route disabled meanwhile has no connector: its unanswered messages follow the duplicate
    policy here (sent once more elsewhere, flagged; failed if that was already the resend)."""
    ids = [m.message_id for m in messages]
    rows = {
        r.message_id: r
        for r in SmppOutbox.objects.filter(message_id__in=ids).select_related("route")
    }
    if not rows:
        return [], list(messages)
    results, todo, keep = [], [], []
    for m in messages:
        row = rows.get(m.message_id)
        if row is None:
            todo.append(m)
        elif row.state == _OUT.ACCEPTED:
            results.append(SubmitResult(m.message_id, True, operator_id=row.smsc_ids[0]))
        elif (
            row.state == _OUT.WAITING
            and SmppOutbox.objects.filter(pk=row.pk, state=_OUT.WAITING).delete()[0]
        ):
            todo.append(m)  # taken back before the connector picked it up
        elif not row.route.enabled and row.resent:
            results.append(SubmitResult(m.message_id, False, "", "SMPP_NO_ANSWER", True))
            row.delete()
        elif not row.route.enabled:
            OutgoingMessage.objects.filter(pk=m.message_id).update(possible_duplicate=True)
            row.delete()
            todo.append(m)
        else:
            keep.append(m)
    if keep:
        with transaction.atomic():
            for m in keep:
                SmppOutbox.objects.filter(pk=m.message_id).update(claim=m.attempt)
            OutgoingMessage.objects.filter(pk__in=[m.message_id for m in keep]).update(
                next_attempt_at=now + handoff_lease()
            )
    return results, todo


def smpp_handoff(route: Route, batch: Sequence[OutboundSms], *, now: datetime) -> None:
    """Hand messages to the route's connector: an outbox row each, and a lease long enough
    for the connector to work through its queue (it renews it while they wait)."""
    with transaction.atomic():
        SmppOutbox.objects.bulk_create(
            [
                SmppOutbox(
                    message_id=m.message_id,
                    route=route,
                    claim=m.attempt,
                    payload={
                        "receiver": m.receiver,
                        "sender": m.sender,
                        "text": m.text,
                        "sms_class": m.sms_class,
                    },
                )
                for m in batch
            ]
        )
        OutgoingMessage.objects.filter(pk__in=[m.message_id for m in batch]).update(
            route=route, next_attempt_at=now + handoff_lease()
        )


def next_route_exists(message_id: int, country: str, *, leaving: Route) -> bool:
    """Whether another healthy route could take a message the connector hands back."""
    now = timezone.now()
    failed = set(
        RouteFailover.objects.filter(message_id=message_id).values_list("from_route_id", flat=True)
    )
    return any(
        r.pk != leaving.pk and r.pk not in failed and is_healthy(r, now)
        for r in candidates(route_table(), country)
    )
