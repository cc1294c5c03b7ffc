"""Campaigns: preparation (charge, held rows, variants), pace, pause/resume, cancel with exact
refunds, winner of an A/B test, and every movement of the ledger naming its campaign."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import CreditMovement
from messaging import campaign_pace, campaign_stats, campaigns, clicks, dispatch, held
from messaging import reports as received
from messaging.encoding import count
from messaging.models import (
    Campaign,
    HeldRecipients,
    OutgoingMessage,
    ShortLink,
    SmsJob,
    StopListEntry,
)
from messaging.personal_data import StillSending, number_erase
from tests.accounts.factories import ledger_sum

Q = OutgoingMessage.Status
C = Campaign.Status


def numbers(n, start=0):
    return [f"+336{10000000 + start + i:08d}" for i in range(n)]


@pytest.fixture
def create(account, owner, scripted_operator, django_capture_on_commit_callbacks):
    """Create a campaign (not commercial, so the window does not matter) and prepare it as
    the queued task would."""

    def _create(to, *, variants=None, execute=True, **kwargs):
        kwargs.setdefault("stop_clause", False)
        with django_capture_on_commit_callbacks(execute=execute):
            campaign = campaigns.campaign_create(
                account=account,
                user=owner,
                name=kwargs.pop("name", "Soldes"),
                variants=variants or [{"message": "Bonjour", "share": 100}],
                audience={"typed": "\n".join(to)},
                **kwargs,
            )
        campaign.refresh_from_db()
        return campaign

    return _create


def drain(now=None):
    """What the pumps would do: claim every due row and submit it."""
    return dispatch.pump(now=now, budget=30)


def submitted(campaign):
    """Messages handed to the operator (also by the pump the start wakes, eager here)."""
    return OutgoingMessage.objects.filter(job__campaign=campaign, status=Q.SUBMITTED).count()


def test_it_prepares_charges_and_holds_until_start(create, account):
    later = timezone.now() + timedelta(hours=2)
    campaign = create(numbers(3), start_at=later)
    assert campaign.status == C.SCHEDULED
    job = campaign.jobs.get()
    assert job.status == SmsJob.Status.SCHEDULED and job.scheduled_at is None
    assert campaign.estimated_credits == Decimal("3.00") == job.credits
    assert ledger_sum(account) == Decimal("97.00")
    # Stored, not written: each message row is written when the pacer releases it.
    assert not job.messages.exists() and held.waiting([job.pk]) == {job.pk: 3}
    assert drain() == 0  # held: nothing due
    assert campaigns.tick(now=later + timedelta(seconds=1)) == 3  # no pace: all at once
    assert drain(now=later + timedelta(seconds=2)) == 3
    campaigns.tick(now=later + timedelta(seconds=3))
    campaign.refresh_from_db()
    assert campaign.status == C.COMPLETED


def test_the_pace_holds(create):
    campaign = create(numbers(100), pace_kind="minute", pace_value=20)
    start = campaign.started_at
    assert campaign.status == C.SENDING and campaign.released == 1  # the first one at once
    drain(now=start)
    for second in range(10, 181, 10):
        now = start + timedelta(seconds=second)
        campaigns.tick(now=now)
        drain(now=now)
        assert submitted(campaign) == 1 + (20 * second) // 60
    # 3 minutes at 20 a minute (+ the first): 61, never more.
    assert submitted(campaign) == 61


def test_spread_over_hours_sets_the_rate(create):
    campaign = create(numbers(60), pace_kind="hours", pace_value=2)
    assert campaign.rate_per_minute == pytest.approx(0.5)


def test_pause_holds_and_resume_goes_on_without_a_burst(create):
    campaign = create(numbers(50), pace_kind="minute", pace_value=10)
    start = campaign.started_at
    assert submitted(campaign) == 1  # the first one, at the start
    campaigns.tick(now=start + timedelta(seconds=60))  # 10 more released, not claimed yet
    assert campaigns.campaign_pause(campaign)
    campaign.refresh_from_db()
    assert campaign.released == 1
    assert drain(now=start + timedelta(seconds=61)) == 0
    campaigns.tick(now=start + timedelta(minutes=30))  # paused: nothing
    assert drain(now=start + timedelta(minutes=30)) == 0
    assert campaigns.campaign_resume(campaign)
    resumed = start + timedelta(minutes=40)
    campaigns.tick(now=resumed)
    assert drain(now=resumed) == 1  # counts from the resume, not from the start
    campaigns.tick(now=resumed + timedelta(seconds=60))
    assert drain(now=resumed + timedelta(seconds=60)) == 10
    assert submitted(campaign) == 12


def test_cancel_refunds_exactly_the_unsent(create, account):
    campaign = create(numbers(10), pace_kind="minute", pace_value=3)
    start = campaign.started_at
    campaigns.tick(now=start + timedelta(seconds=60))
    drain(now=start + timedelta(seconds=60))
    assert submitted(campaign) == 4
    before = account.movements.count()
    refunded = campaigns.campaign_cancel(campaign)
    assert refunded == Decimal("6.00")
    assert ledger_sum(account) == Decimal("96.00")
    # Not written yet (their turn had not come): refunded, and written as cancelled.
    assert OutgoingMessage.objects.filter(job__campaign=campaign, status=Q.CANCELLED).count() == 6
    assert not HeldRecipients.objects.exists()
    assert account.movements.count() == before + 1
    assert campaigns.campaign_cancel(campaign) is None  # once
    assert ledger_sum(account) == Decimal("96.00")
    campaign.refresh_from_db()
    assert campaign.status == C.CANCELLED
    assert campaign.jobs.get().status == SmsJob.Status.DONE
    stats = campaign_stats.statistics(campaign)
    assert (stats["total"], stats["sent"], stats["cancelled"], stats["pending"]) == (10, 4, 6, 0)


def test_cancel_refunds_released_and_waiting_messages(create, account, monkeypatch):
    monkeypatch.setattr(held, "CHUNK", 3)
    campaign = create(numbers(10), pace_kind="minute", pace_value=3)
    campaigns.tick(now=campaign.started_at + timedelta(seconds=60))  # 3 more, not claimed
    assert OutgoingMessage.objects.filter(job__campaign=campaign, status=Q.QUEUED).count() == 3
    monkeypatch.setattr(campaign_pace, "UNPACED_PER_TICK", 4)  # a big audience: the rest later
    assert campaigns.campaign_cancel(campaign) == Decimal("9.00")  # 3 written + 6 waiting
    assert ledger_sum(account) == Decimal("99.00")  # charged 10, the first one sent
    cancelled = OutgoingMessage.objects.filter(job__campaign=campaign, status=Q.CANCELLED)
    # The released ones, and the waiting chunks the cancellation wrote (whole chunks: 2 + 3).
    assert cancelled.count() == 3 + 5
    stats = campaign_stats.statistics(campaign)
    assert (stats["total"], stats["cancelled"], stats["pending"]) == (10, 9, 0)
    campaigns.tick()  # the last waiting ones
    assert cancelled.count() == 9 and not HeldRecipients.objects.exists()
    assert campaign_stats.statistics(campaign)["cancelled"] == 9
    assert ledger_sum(account) == Decimal("99.00")


def test_recipients_are_written_as_the_pace_releases_them(create, monkeypatch):
    monkeypatch.setattr(held, "CHUNK", 4)
    campaign = create(
        numbers(20),
        variants=[{"message": "A", "share": 50}, {"message": "B", "share": 50}],
        pace_kind="minute",
        pace_value=6,
    )
    a, b = campaign.jobs.order_by("variant")
    assert HeldRecipients.objects.filter(job=a).count() == 3  # 10 recipients, chunks of 4
    rows = OutgoingMessage.objects.filter(job__campaign=campaign)
    assert rows.count() == 1  # the first one, at the start
    stats = campaign_stats.statistics(campaign)
    assert (stats["total"], stats["pending"]) == (20, 19)  # the first one sent already
    start = campaign.started_at
    campaigns.tick(now=start + timedelta(minutes=1))
    drain(now=start + timedelta(minutes=1))
    assert rows.count() == 7 == submitted(campaign)
    assert sorted([rows.filter(job=a).count(), rows.filter(job=b).count()]) == [3, 4]
    campaigns.tick(now=start + timedelta(minutes=4))  # 25 allowed: the 13 left
    drain(now=start + timedelta(minutes=4))
    assert not HeldRecipients.objects.exists()
    assert sorted(rows.values_list("receiver", flat=True)) == numbers(20)  # each one, once
    assert submitted(campaign) == 20
    campaigns.tick(now=start + timedelta(minutes=5))
    campaign.refresh_from_db()
    assert campaign.status == C.COMPLETED


def test_short_links_are_made_with_their_message(create, account):
    campaign = create(
        numbers(5),
        variants=[{"message": "Hi {{ name }} https://shop.example.com/x", "share": 100}],
        track_links=True,
        pace_kind="minute",
        pace_value=2,
    )
    message = OutgoingMessage.objects.get(job__campaign=campaign)  # the first one only
    link = ShortLink.objects.get()
    assert (link.receiver, link.url) == (message.receiver, "https://shop.example.com/x")
    assert message.text == f"Hi  http://localhost:8000/l/{link.code}"
    assert message.parts == count(message.text).segments == 1
    campaigns.tick(now=campaign.started_at + timedelta(minutes=2))
    assert ShortLink.objects.count() == 5 == len({s.code for s in ShortLink.objects.all()})
    assert campaign.jobs.get().credits == Decimal("5.00")


def test_the_export_lists_the_recipients_still_waiting(create):
    campaign = create(numbers(4), pace_kind="minute", pace_value=1)
    rows = list(campaign_stats.export_rows(campaign))
    assert sorted(r[0] for r in rows[1:]) == numbers(4)
    assert [r[2] for r in rows[1:]].count(str(Q.QUEUED.label)) == 3  # the first one is sent
    assert {r[4] for r in rows[1:]} == {"1,00"}


def test_a_number_waiting_in_a_campaign_is_not_erased(create, account):
    campaign = create(numbers(3), pace_kind="minute", pace_value=1)
    chunk = HeldRecipients.objects.get(job__campaign=campaign)
    waiting = chunk.rows[chunk.taken][0]
    with pytest.raises(StillSending):
        number_erase(account=account, number=waiting)


def test_every_movement_names_the_campaign(create, account, scripted_operator):
    scripted_operator.SCRIPT[numbers(2)[1]] = ["permanent:REJECTED"]
    campaign = create(numbers(2))
    drain()
    movements = CreditMovement.objects.filter(account=account, kind__in=["debit", "refund"])
    assert movements.count() == 2
    assert all(m.reason.endswith(f"[{campaign.uuid}]") for m in movements)


def test_stop_listed_recipients_are_kept_apart(create, account):
    StopListEntry.objects.create(account=account, number=numbers(3)[0])
    campaign = create(numbers(3))
    assert OutgoingMessage.objects.filter(job__campaign=campaign, status=Q.STOPLISTED).count() == 1
    assert campaign.estimated_credits == Decimal("2.00")


def test_a_stop_after_the_preparation_is_applied_at_release(create, account):
    """A recipient who answers STOP while the campaign waits to reach them gets nothing: the
    message is written STOP-listed when its turn comes and its credit comes back, once."""
    campaign = create(numbers(4), pace_kind="minute", pace_value=1)  # the first one at once
    assert ledger_sum(account) == Decimal("96.00")
    chunk = HeldRecipients.objects.get(job__campaign=campaign)
    stopper = chunk.rows[chunk.taken + 1][0]
    StopListEntry.objects.create(account=account, number=stopper)

    campaigns.tick(now=campaign.started_at + timedelta(minutes=5))
    drain(now=campaign.started_at + timedelta(minutes=5))

    mine = OutgoingMessage.objects.get(job__campaign=campaign, receiver=stopper)
    assert (mine.status, mine.credits, mine.operator_id) == (Q.STOPLISTED, Decimal("0.00"), "")
    assert submitted(campaign) == 3
    refund = CreditMovement.objects.get(account=account, kind="refund")
    assert refund.amount == Decimal("1.00") and refund.reason.endswith(f"[{campaign.uuid}]")
    assert ledger_sum(account) == Decimal("97.00")
    assert mine.events.get().credits == Decimal("1.00")
    assert campaign_stats.statistics(campaign)["stoplisted"] == 1


def test_not_enough_credits_fails_and_charges_nothing(create, account):
    type(account).objects.filter(pk=account.pk).update(credits=Decimal("1.00"))
    campaign = create(numbers(5))
    assert campaign.status == C.FAILED
    assert "5,00" in campaign.errors[-1]["message"]  # the credits it needs
    assert not SmsJob.objects.filter(campaign=campaign).exists()
    account.refresh_from_db()
    assert account.credits == Decimal("1.00")


def test_invalid_numbers_are_reported_as_batch_errors(create):
    campaign = create([*numbers(2), "not a number"])
    assert campaign.status == C.SENDING
    assert [e["receiver"] for e in campaign.errors] == ["not a number"]


def test_variants_split_the_audience_and_links_are_tracked(create):
    campaign = create(
        numbers(10),
        variants=[
            {"message": "A: https://shop.example.com/a", "share": 50},
            {"message": "B: https://shop.example.com/b", "share": 50},
        ],
        track_links=True,
    )
    a, b = campaign.jobs.order_by("variant")
    assert (a.variant, a.recipients_count, b.variant, b.recipients_count) == ("A", 5, "B", 5)
    link = ShortLink.objects.filter(job=a).first()
    message = OutgoingMessage.objects.get(job=a, receiver=link.receiver)
    assert message.text == f"A: http://localhost:8000/l/{link.code}"
    assert link.url == "https://shop.example.com/a"
    assert ShortLink.objects.count() == 10 and len({s.code for s in ShortLink.objects.all()}) == 10


def test_clicks_count_for_their_variant_once_flushed(create, client):
    campaign = create(
        numbers(6),
        variants=[
            {"message": "A: https://shop.example.com/a", "share": 50},
            {"message": "B: https://shop.example.com/b", "share": 50},
        ],
        track_links=True,
    )
    a_links = list(ShortLink.objects.filter(job__variant="A").values_list("code", flat=True))
    b_link = ShortLink.objects.filter(job__variant="B").values_list("code", flat=True).first()
    for code in (a_links[0], a_links[0], a_links[1], b_link):
        assert client.get(f"/l/{code}", HTTP_USER_AGENT="Mozilla/5.0").status_code == 302
    client.get(f"/l/{b_link}", HTTP_USER_AGENT="WhatsApp/2.23")  # a preview: not counted
    before = {v["label"]: v["clicks"] for v in campaign_stats.statistics(campaign)["variants"]}
    assert before == {"A": 0, "B": 0}  # still in Redis
    assert clicks.flush() == 4
    stats = campaign_stats.statistics(campaign)
    got = {v["label"]: (v["clicks"], v["clickers"], v["click_rate"]) for v in stats["variants"]}
    assert got == {"A": (3, 2, 66.7), "B": (1, 1, 33.3)}  # recipients who clicked / sent
    assert (stats["clicks"], stats["clickers"]) == (4, 3)
    first = ShortLink.objects.get(code=a_links[0])
    assert first.clicks == 2 and first.first_click_at <= first.last_click_at


def test_the_winner_goes_to_the_rest(create, account, client):
    campaign = create(
        numbers(10),
        variants=[
            {"message": "A https://ex.com/a", "share": 20},
            {"message": "B https://ex.com/b", "share": 20},
        ],
        track_links=True,
        winner_after_hours=2,
    )
    assert len(campaign.rest) == 6
    drain()
    b = campaign.jobs.get(variant="B")
    code = ShortLink.objects.filter(job=b).values_list("code", flat=True).first()
    assert client.get(f"/l/{code}").status_code == 302
    later = campaign.started_at + timedelta(hours=2, seconds=1)
    campaigns.tick(now=later)
    campaign.refresh_from_db()
    assert campaign.winner == "B" and campaign.rest == []
    winner = campaign.jobs.get(variant=campaigns.WINNER)
    assert winner.recipients_count == 6 and winner.message == "B https://ex.com/b"
    assert drain(now=later) == 6
    campaigns.tick(now=later + timedelta(seconds=5))
    campaign.refresh_from_db()
    assert campaign.status == C.COMPLETED
    assert ledger_sum(account) == Decimal("90.00")


def test_a_dead_preparation_is_taken_over(create):
    campaign = create(numbers(2), execute=False)
    assert campaign.status == C.DRAFT
    later = timezone.now() + timedelta(minutes=1)
    campaigns.tick(now=later)  # queues the preparation again (eager here)
    campaign.refresh_from_db()
    assert campaign.status in (C.SCHEDULED, C.SENDING)


def test_replies_and_stops_count_for_the_variant(create):
    campaign = create(numbers(2), variants=[{"message": "Hi", "share": 100}])
    drain()
    first = OutgoingMessage.objects.filter(job__campaign=campaign).first()
    received.incoming_messages_receive(
        replies=[{"operator_id": first.operator_id, "text": "STOP", "at": timezone.now().isoformat(), "id": "r1"}]
    )
    from messaging.campaign_stats import statistics

    stats = statistics(campaign)
    assert (stats["replies"], stats["stops"], stats["sent"]) == (1, 1, 2)


def test_a_preparation_that_lost_its_claim_is_rolled_back(create, account, monkeypatch):
    campaign = create(numbers(3), execute=False)
    real = campaigns._rest_estimate

    def taken_over(*args):
        # Another task claims the campaign while this one is writing.
        Campaign.objects.filter(pk=campaign.pk).update(
            lease_until=timezone.now() + timedelta(hours=1)
        )
        return real(*args)

    monkeypatch.setattr(campaigns, "_rest_estimate", taken_over)
    assert campaigns.campaign_prepare(campaign.pk) is False
    campaign.refresh_from_db()
    assert campaign.status == C.DRAFT
    assert not SmsJob.objects.filter(campaign=campaign).exists()
    assert ledger_sum(account) == Decimal("100.00")


def test_the_pace_counts_from_the_end_of_the_preparation(create, monkeypatch):
    real = campaigns.services.job_submit

    def slow(**kwargs):  # a preparation of ten minutes
        job = real(**kwargs)
        later = timezone.now() + timedelta(minutes=10)
        monkeypatch.setattr(campaigns.timezone, "now", lambda: later)
        return job

    monkeypatch.setattr(campaigns.services, "job_submit", slow)
    campaign = create(numbers(50), pace_kind="minute", pace_value=2)
    campaigns.tick(now=timezone.now() + timedelta(seconds=31))
    campaign.refresh_from_db()
    assert campaign.released == 2  # 30 s at 2 a minute after the start, not ten minutes' worth
