"""One SMPP 3.4 transceiver bind, with a window of outstanding submit_sm (no Django here).

Built on smpplib (python-smpplib): it connects, binds, and parses deliver_sm (receipts and MO,
with their TLVs); the fixed-layout PDUs a busy bind exchanges by the thousand (submit_sm and
the answers) are packed by smpp_frames, which is ~20 times cheaper. This class adds what a
long-running sender needs and smpplib leaves to its user: a window of
unanswered submit_sm matched to their answers by sequence number, a throughput cap that
halves on ESME_RTHROTTLED and recovers, enquire_link when the line is quiet (and a dead line
detected when its answer does not come), and one exception, LinkDown, for every way the link
can break (refused, closed, closed mid-PDU, garbage, silence).

Why smpplib: maintained (python-smpplib on GitHub, releases through 2024), pure Python, small,
synchronous — one thread per bind is all a connector needs — and its PDU layer is complete for
SMPP 3.4 (submit_sm, deliver_sm with TLVs, enquire_link, unbind, generic_nack). Its message
splitting is not used: it can cut an escape pair (its own FIXME), and the parts must be the
ones messaging.encoding.count() bills, so smpp_codec builds them.
"""

from __future__ import annotations

import logging
import select
import socket
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from smpplib import consts, exceptions, smpp
from smpplib.client import Client

from . import smpp_frames as frames

logger = logging.getLogger(__name__)

ESME_ROK = 0x00
ESME_RTHROTTLED = 0x58
ESME_RX_T_APPNACK = 0x64  # "try again later": a deliver_sm we could not store
# Bind answers that mean the credentials (not the network) are wrong.
BAD_CREDENTIALS = {0x0D: "ESME_RBINDFAIL", 0x0E: "ESME_RINVPASWD", 0x0F: "ESME_RINVSYSID"}
# Submit answers that concern the message itself: another route would refuse it as well.
PERMANENT_SUBMIT = {0x0A, 0x0B, 0x01, 0x42, 0x43, 0x44, 0x48, 0x49, 0x50, 0x51, 0x61, 0x62}


class LinkDown(Exception):
    """The bind is gone (or never came): the connector marks the route down and rebinds."""


class BindRefused(LinkDown):
    """The SMSC refused our credentials: retrying soon will not help."""


@dataclass
class Part:
    """One submit_sm to send; `key` lets the caller find its message again."""

    key: object
    params: dict
    attempts: int = 0
    not_before: float = 0.0


@dataclass
class Answer:
    part: Part
    status: int
    smsc_id: str = ""
    latency: float = 0.0


@dataclass
class _Rate:
    """A token bucket whose rate halves on throttling and climbs back 10 % a second."""

    ceiling: float
    rate: float = 0.0
    tokens: float = 1.0
    at: float = field(default_factory=time.monotonic)

    def __post_init__(self):
        self.rate = self.ceiling

    def wait(self) -> float:
        now = time.monotonic()
        elapsed, self.at = now - self.at, now
        self.rate = min(self.ceiling, self.rate * (1.1**elapsed))
        self.tokens = min(max(1.0, self.rate / 10), self.tokens + elapsed * self.rate)
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self):
        self.tokens -= 1

    def throttled(self):
        self.rate = max(1.0, self.rate / 2)
        self.tokens = min(self.tokens, 0.0)


class SmppLink:
    def __init__(
        self,
        *,
        host: str,
        port: int,
        system_id: str,
        password: str,
        system_type: str = "",
        window: int = 10,
        throughput: float = 1000.0,
        timeout: float = 10.0,
        enquire_every: float = 30.0,
        on_deliver: Callable | None = None,
        on_tick: Callable | None = None,
        tick_every: float = 5.0,
    ):
        self.window = max(1, window)
        self.timeout = timeout
        self.enquire_every = enquire_every
        self.on_deliver = on_deliver or (lambda pdu: ESME_ROK)
        # Called every `tick_every` seconds while submit() works (a throttled link can take
        # minutes over a batch): the connector's heartbeat.
        self.on_tick = on_tick or (lambda: None)
        self.tick_every = tick_every
        self.rate = _Rate(float(throughput))
        self.credentials = {"system_id": system_id, "password": password}
        self.system_type = system_type
        self.client = Client(host, port, timeout=timeout, allow_unknown_opt_params=True)
        self.outstanding: dict[int, tuple[Part, float]] = {}
        self.answers: list[Answer] = []
        self.retry: deque[Part] = deque()  # throttled parts, sent again first
        self.last_heard = time.monotonic()
        self.enquiring_since: float | None = None
        self.throttled = 0
        self.buffer = bytearray()  # bytes read, not yet a whole PDU

    # --- Bind -----------------------------------------------------------------------------

    def bind(self) -> None:
        try:
            self.client.connect()
            # Small PDUs both ways: without this, Nagle holds a submit_sm back until the ACK
            # of our previous deliver_sm_resp, which the SMSC delays (40 ms on Linux).
            self.client._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.client.bind_transceiver(system_type=self.system_type, **self.credentials)
        except exceptions.PDUError as error:
            status = error.args[1] if len(error.args) > 1 else 0
            self.close()
            if status in BAD_CREDENTIALS:
                raise BindRefused(
                    f"bind refused: {BAD_CREDENTIALS[status]} (bad credentials)"
                ) from error
            raise LinkDown(f"bind refused: status 0x{status:02X}") from error
        except (exceptions.ConnectionError, OSError, ValueError, KeyError) as error:
            self.close()
            raise LinkDown(f"cannot bind: {type(error).__name__} {error}") from error
        self.last_heard = time.monotonic()

    def unbind(self) -> None:
        """Polite goodbye; a link that breaks meanwhile just closes."""
        try:
            self._send(frames.HEADER.pack(16, frames.UNBIND, 0, self.client.next_sequence()))
            deadline = time.monotonic() + 2
            while (
                time.monotonic() < deadline and self.client.state != consts.SMPP_CLIENT_STATE_OPEN
            ):
                self._read(0.5)
        except (LinkDown, exceptions.ConnectionError, exceptions.PDUError, OSError):
            pass
        self.close()

    def close(self) -> None:
        if self.client._socket is not None:
            self.client._socket.close()
            self.client._socket = None
        self.client.state = consts.SMPP_CLIENT_STATE_CLOSED

    # --- Sending --------------------------------------------------------------------------

    def submit(self, parts: list[Part], *, budget: float | None = None) -> list[Answer]:
        """Send parts with up to `window` unanswered at once and return every answer that
        came (throttled parts are sent again by the link itself). With `budget` (seconds),
        return what was answered by then; the rest stays outstanding for the next call."""
        queue = deque(parts)
        deadline = None if budget is None else time.monotonic() + budget
        ticked = time.monotonic()
        while queue or self.retry or self.outstanding:
            if deadline is not None and time.monotonic() >= deadline:
                break
            if time.monotonic() - ticked >= self.tick_every:
                self.on_tick()
                ticked = time.monotonic()
            self._send_what_fits(queue)
            self._read(0.05 if (queue or self.retry) else self.timeout)
            self._check_alive()
        answers, self.answers = self.answers, []
        return answers

    def _send_what_fits(self, queue: deque[Part]) -> None:
        """Fill the window, the new submit_sm written in one go (one system call for up to
        `window` PDUs instead of one each)."""
        batch: list[bytes] = []
        sent: list[tuple[int, Part]] = []
        while len(self.outstanding) + len(sent) < self.window:
            if self.retry and self.retry[0].not_before <= time.monotonic():
                part = self.retry.popleft()
            elif queue:
                part = queue.popleft()
            else:
                break
            wait = self.rate.wait()
            if wait > 0:
                (self.retry.appendleft if part.attempts else queue.appendleft)(part)
                if not self.outstanding and not sent:
                    time.sleep(min(wait, 0.2))
                break
            self.rate.take()
            part.attempts += 1
            sequence = self.client.next_sequence()
            batch.append(frames.submit_sm(sequence, part.params))
            sent.append((sequence, part))
        if not batch:
            return
        now = time.monotonic()
        # Outstanding before the write: if it fails midway, their fate is unknown.
        for sequence, part in sent:
            self.outstanding[sequence] = (part, now)
        self._send(b"".join(batch))

    def poll(self, seconds: float) -> list[Answer]:
        """Read what the SMSC sends for up to `seconds` (receipts, MO, late answers)."""
        deadline = time.monotonic() + seconds
        while True:
            self._read(max(0.0, deadline - time.monotonic()))
            self._check_alive()
            if time.monotonic() >= deadline:
                break
        answers, self.answers = self.answers, []
        return answers

    def unanswered(self) -> list[Part]:
        """Parts sent whose answer never came, and throttled parts not sent again yet; the
        link is finished with them (called after LinkDown)."""
        parts = [part for part, _at in self.outstanding.values()]
        self.outstanding.clear()
        return parts

    def not_sent(self) -> list[Part]:
        parts = list(self.retry)
        self.retry.clear()
        return parts

    # --- Reading --------------------------------------------------------------------------

    def _read(self, timeout: float) -> None:
        """Read what has come (waiting up to `timeout` for the first bytes) and act on each
        whole PDU; a partial one waits in the buffer for the rest."""
        sock = self.client._socket
        if sock is None:
            raise LinkDown("not connected")
        try:
            readable, _w, _x = select.select([sock], [], [], timeout)
            while readable:
                data = sock.recv(65536)
                if not data:
                    raise LinkDown(
                        "the SMSC closed the connection" + (" mid-PDU" if self.buffer else "")
                    )
                self.buffer += data
                for raw in frames.split(self.buffer):
                    self._act(raw)
                self.last_heard = time.monotonic()
                self.enquiring_since = None
                readable, _w, _x = select.select([sock], [], [], 0)
        except LinkDown:
            raise
        except Exception as error:  # noqa: BLE001 - garbage makes parsers raise many kinds
            raise LinkDown(f"link broken: {type(error).__name__}: {error}"[:200]) from error

    def _act(self, raw: bytes) -> None:
        _length, command, status, sequence = frames.HEADER.unpack_from(raw)
        if command in (frames.SUBMIT_SM_RESP, frames.GENERIC_NACK):
            smsc_id = frames.message_id(raw) if command == frames.SUBMIT_SM_RESP else ""
            self._answered(sequence, status, smsc_id)
        elif command == frames.DELIVER_SM:
            pdu = smpp.parse_pdu(raw, client=self.client, allow_unknown_opt_params=True)
            self._send(frames.deliver_sm_resp(sequence, self._delivered(pdu)))
        elif command == frames.ENQUIRE_LINK:
            self._send(frames.response(frames.ENQUIRE_LINK_RESP, sequence))
        elif command == frames.UNBIND:
            self._send(frames.response(frames.UNBIND_RESP, sequence))
            raise LinkDown("the SMSC unbound")
        elif command == frames.UNBIND_RESP:
            self.client.state = consts.SMPP_CLIENT_STATE_OPEN
        elif command != frames.ENQUIRE_LINK_RESP:
            logger.warning("SMPP: unexpected command 0x%08X status 0x%02X", command, status)

    def _send(self, data: bytes) -> None:
        try:
            self.client._socket.sendall(data)
        except (OSError, AttributeError) as error:
            raise LinkDown(f"send failed: {type(error).__name__} {error}") from error

    def _check_alive(self) -> None:
        now = time.monotonic()
        if self.enquiring_since is not None:
            if now - self.enquiring_since > self.timeout:
                raise LinkDown("no answer to enquire_link")
        elif now - self.last_heard > self.enquire_every:
            self.enquire_link()
        if self.outstanding:
            oldest = min(at for _p, at in self.outstanding.values())
            late = now - oldest
            # A silent line after a timeout, or an answer three timeouts late while other PDUs
            # still come (receipts, MO): that answer is lost, and waiting on would hold the
            # route's messages forever.
            if late > self.timeout and (
                now - self.last_heard > self.timeout or late > 3 * self.timeout
            ):
                raise LinkDown("submit_sm unanswered")

    def enquire_link(self) -> None:
        self._send(frames.HEADER.pack(16, frames.ENQUIRE_LINK, 0, self.client.next_sequence()))
        self.enquiring_since = time.monotonic()

    def _answered(self, sequence: int, status: int, smsc_id: str) -> None:
        entry = self.outstanding.pop(sequence, None)
        if entry is None:
            return  # an answer to a submit from before a reconnect
        part, sent_at = entry
        latency = time.monotonic() - sent_at
        if status == ESME_RTHROTTLED:
            self.throttled += 1
            self.rate.throttled()
            part.not_before = time.monotonic() + min(5.0, 0.1 * 2**part.attempts)
            self.retry.append(part)
            return
        self.answers.append(Answer(part, status, smsc_id, latency))

    def _delivered(self, pdu) -> int:
        try:
            return self.on_deliver(pdu)
        except Exception:  # noqa: BLE001 - answered "try again later": the SMSC resends it
            logger.exception("deliver_sm not stored")
            return ESME_RX_T_APPNACK
