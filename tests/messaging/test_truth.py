"""What the customer is shown is what happened: empty messages and far-away dates refused,
each person's own text in the history, cancelled apart from failed, no "delivered" under a
message that was not."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from addressbooks.models import AddressBook, Contact
from addressbooks.services import book_contacts
from core import recipients
from messaging import services
from messaging.models import MessageEvent, OutgoingMessage, SmsJob
from messaging.stats import account_stats
from tests.messaging.test_send_views import compose_url, later, send_data, text

pytestmark = pytest.mark.django_db
Q = OutgoingMessage.Status
A, B = "+33612345671", "+33612345672"


def balance(account):
    account.refresh_from_db()
    return account.credits


class TestEmptyMessages:
    def test_the_form_refuses_spaces_only(self, owner_client, account):
        response = owner_client.post(compose_url(account), send_data(message="     "))

        assert response.status_code == 200
        assert "Le message est vide." in text(response)
        assert not SmsJob.objects.exists()
        assert balance(account) == Decimal("100.00")

    def test_the_service_refuses_spaces_and_new_lines(self, account, owner):
        with pytest.raises(services.SendError, match="vide"):
            services.job_submit(
                account=account,
                user=owner,
                message=" \n\t ",
                parsed=recipients.parse(A, "FR"),
                stop_clause=False,
            )
        assert not SmsJob.objects.exists()


class TestPlannedDateBound:
    def test_the_form_refuses_a_date_over_a_year_ahead(self, owner_client, account):
        response = owner_client.post(
            compose_url(account), send_data(when="later", scheduled_at="9999-12-31T10:00")
        )

        assert "au plus 365 jours à l'avance" in text(response)
        assert not SmsJob.objects.exists()
        assert balance(account) == Decimal("100.00")

    def test_the_form_says_the_bound(self, owner_client, account):
        response = owner_client.get(compose_url(account))

        assert "Au plus un an à l'avance" in text(response)

    def test_a_date_within_the_year_is_planned(self, owner_client, account):
        owner_client.post(compose_url(account), send_data(when="later", scheduled_at=later(300)))

        assert SmsJob.objects.get().status == SmsJob.Status.SCHEDULED

    def test_the_service_refuses_it_too(self, account, owner):
        with pytest.raises(services.SendError):
            services.job_submit(
                account=account,
                user=owner,
                message="Bonjour",
                parsed=recipients.parse(A, "FR"),
                stop_clause=False,
                scheduled_at=timezone.now() + timedelta(days=366),
            )
        assert balance(account) == Decimal("100.00")


def personalised_job(account, owner):
    book = AddressBook.objects.create(account=account, name="Clients")
    Contact(book=book, name="Alice", home_mobile=A).save()
    Contact(book=book, name="Bruno", home_mobile=B).save()
    parsed = recipients.ParsedRecipients()
    parsed.add(book_contacts(book), "FR", f"book:{book.pk}")
    return services.job_submit(
        account=account,
        user=owner,
        message="Bonjour {{ name }}",
        parsed=parsed,
        stop_clause=False,
        scheduled_at=timezone.now() + timedelta(days=1),
    )


class TestHistoryShowsEachText:
    def test_the_page_shows_each_recipients_text(self, owner_client, account, owner):
        personalised_job(account, owner)

        content = text(owner_client.get(reverse("messaging:history", args=[account.name])))

        assert "Bonjour Alice" in content and "Bonjour Bruno" in content
        assert "{{ name }}" not in content

    def test_the_export_shows_each_recipients_text(self, owner_client, account, owner):
        personalised_job(account, owner)

        response = owner_client.get(reverse("messaging:history_export", args=[account.name]))
        body = b"".join(response.streaming_content).decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(body), delimiter=";"))

        texts = {row[2].lstrip("'"): row[4] for row in rows[1:]}  # numbers carry an apostrophe
        assert texts == {A: "Bonjour Alice", B: "Bonjour Bruno"}
        assert "Rapport reçu le" in rows[0]


class TestCancelledIsNotFailed:
    def test_a_cancelled_job_shows_cancelled_and_refunded(self, owner_client, account, owner):
        job = personalised_job(account, owner)
        assert services.job_cancel(job=job)

        content = text(owner_client.get(reverse("messaging:history", args=[account.name])))

        assert '<span class="status status-cancelled">Annulé</span>' in content
        assert "status-failed" not in content and "CANCELLED" not in content
        assert "remboursé" in content
        assert set(job.messages.values_list("status", flat=True)) == {Q.CANCELLED}
        refunds = MessageEvent.objects.filter(kind="refund", status=Q.CANCELLED)
        assert sorted(refunds.values_list("credits", flat=True)) == [Decimal("1.00")] * 2
        assert balance(account) == Decimal("100.00")

    def test_a_cancelled_jobs_page_says_its_credits_came_back(self, owner_client, account, owner):
        job = personalised_job(account, owner)
        services.job_cancel(job=job)

        content = text(owner_client.get(job.get_absolute_url()))

        assert 'data-testid="credits-removed">2,00 (remboursé)<' in content
        assert 'data-testid="job-status">Annulé<' in content

    def test_the_dashboard_counts_cancelled_apart(self, account, owner):
        job = personalised_job(account, owner)
        services.job_cancel(job=job)

        stats = account_stats(account, "all")

        assert stats["cancelled"] == 2
        assert stats["failed"] == 0
        assert stats["credits"] == Decimal("0.00")

    def test_a_job_whose_every_message_failed_is_not_badged_sent(
        self, owner_client, account, owner, scripted_operator, django_capture_on_commit_callbacks
    ):
        scripted_operator.SCRIPT[A].append("permanent:BARRED")
        with django_capture_on_commit_callbacks(execute=True):
            job = services.job_submit(
                account=account,
                user=owner,
                message="Bonjour",
                parsed=recipients.parse(A, "FR"),
                stop_clause=False,
            )
        job.refresh_from_db()
        assert job.status == SmsJob.Status.DONE

        content = text(owner_client.get(job.get_absolute_url()))

        assert 'data-testid="job-status">Non envoyé<' in content
        assert 'data-testid="job-status">Envoyé<' not in content


class TestNoContradiction:
    def test_an_undelivered_message_shows_when_its_report_came(self, owner_client, account):
        job = SmsJob.objects.create(
            account=account, message="Bonjour", encoding="GSM-7", segments=1,
            credits=Decimal("1.00"), status="done",
        )  # fmt: skip
        OutgoingMessage.objects.create(
            job=job, account=account, receiver=A, country="FR", parts=1,
            credits=Decimal("1.00"), status=Q.UNDELIVERED, error_code="ABSENT_SUBSCRIBER",
            submitted_at=timezone.now(), delivered_at=timezone.now(),
        )  # fmt: skip

        content = text(owner_client.get(reverse("messaging:history", args=[account.name])))

        assert "Non délivré" in content
        assert "Rapport reçu le" in content
        assert "Délivré le" not in content
