"""Nothing waits forever on an SMPP route: a lost submit_sm answer on a busy bind, messages
waiting for a link that stays down past their validity period."""

import threading
import time

import pytest

from messaging.operator.smpp_link import LinkDown, Part, SmppLink
from tests.conftest import require
from tests.smsc import harness


@pytest.fixture
def smsc():
    require(*harness.available())
    server = harness.Smsc()
    yield server
    server.kill()


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
