"""The staff page "Dispatch health": what waits, what is late, what no report matched."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from core import recipients
from messaging import dispatch, services
from messaging import reports as received
from messaging.models import OutgoingMessage, UnmatchedReport

URL = reverse("admin:messaging_dispatch_health")


@pytest.mark.django_db
def test_it_shows_due_work_lost_claims_and_old_unmatched_reports(staff_client, account, owner):
    job = services.job_submit(
        account=account,
        user=owner,
        message="Bonjour",
        parsed=recipients.parse("+33612345671\n+33612345672\n+33612345673", "FR"),
        stop_clause=False,
    )
    dispatch.job_start_next()
    past = timezone.now() - timedelta(minutes=5)
    OutgoingMessage.objects.filter(job=job).update(next_attempt_at=past)
    # A dispatcher that claimed one of them long enough ago that its lease ran out.
    assert len(dispatch.messages_claim(now=past - dispatch.lease(), limit=1)) == 0
    assert len(dispatch.messages_claim(now=past, limit=1)) == 1
    OutgoingMessage.objects.filter(job=job, status="submitting").update(next_attempt_at=past)
    received.delivery_reports_receive(
        reports=[{"operator_id": "ghost", "status": "delivered", "part": 1, "parts": 1}]
    )
    UnmatchedReport.objects.update(received_at=timezone.now() - timedelta(days=2))

    response = staff_client.get(URL)

    assert response.status_code == 200
    page = response.content.decode()
    health = response.context["health"]
    assert health["due"] == 2
    assert health["expired_leases"] == 1
    assert health["oldest_due_late"] >= timedelta(minutes=5)
    assert [r.operator_id for r in health["unmatched_stale"]] == ["ghost"]
    assert "ghost" in page
    assert f"#{job.pk}" not in page  # queued one second ago: not stuck yet


@pytest.mark.django_db
def test_it_lists_jobs_stuck_longer_than_expected(staff_client, account, owner):
    job = services.job_submit(
        account=account,
        user=owner,
        message="Bonjour",
        parsed=recipients.parse("+33612345671", "FR"),
        stop_clause=False,
    )
    type(job).objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(minutes=5))

    page = staff_client.get(URL).content.decode()

    assert f"#{job.pk}" in page


@pytest.mark.django_db
def test_it_is_for_staff_only(owner_client, client):
    assert owner_client.get(URL).status_code == 302  # to the admin login
    assert client.get(URL).status_code == 302
