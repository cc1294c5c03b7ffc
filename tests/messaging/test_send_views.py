"""The send form, the job page (with its HTMX polling), planned sends and cancellation."""

import html
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import CreditMovement
from messaging.models import OutgoingMessage, SmsJob

A, B = "+33612345671", "+33612345672"


def compose_url(account):
    return reverse("messaging:compose", args=[account.name])


def job_url(job):
    return reverse("messaging:job", args=[job.account.name, job.pk])


def cancel_url(job):
    return reverse("messaging:job_cancel", args=[job.account.name, job.pk])


def scheduled_url(account):
    return reverse("messaging:scheduled", args=[account.name])


def send_data(**overrides):
    """The send form as the browser posts it. Non-commercial: the real clock's commercial
    window plays no part."""
    data = {
        "receivers": A,
        "message": "Bonjour",
        "no_stop_clause": "on",
        "sender": "short",
        "sms_class": "phoneDisplay",
        "when": "now",
        "scheduled_at": "",
        "tag": "",
        "send": "1",
    }
    data.update(overrides)
    return data


def later(days=2):
    """A deferred time as the datetime-local input sends it (Paris time)."""
    return (timezone.localtime() + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M")


def text(response):
    return html.unescape(response.content.decode())


def balance(account):
    account.refresh_from_db()
    return account.credits


@pytest.mark.django_db
class TestSend:
    def test_it_creates_a_job_and_redirects_to_its_page(self, owner_client, account, owner):
        response = owner_client.post(compose_url(account), send_data(receivers=f"{A}\n{B}"))

        job = SmsJob.objects.get()
        assert response.status_code == 302
        assert response["Location"] == job_url(job)
        assert job.account == account
        assert job.created_by == owner
        assert job.stop_clause is False
        assert job.recipients_count == 2
        assert OutgoingMessage.objects.filter(job=job).count() == 2
        assert balance(account) == Decimal("98.00")

    def test_the_dispatch_runs_after_the_request_commits(
        self, owner_client, account, scripted_operator, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            owner_client.post(compose_url(account), send_data(receivers=f"{A}\n{B}"))

        job = SmsJob.objects.get()
        assert job.status == SmsJob.Status.DONE
        assert sorted(m.receiver for m in scripted_operator.SUBMITTED) == [A, B]

    def test_the_job_page_shows_the_counts_invalid_receivers_and_credits(
        self, owner_client, account
    ):
        owner_client.post(
            compose_url(account),
            send_data(receivers=f"{A}\nhello\n+33140000000\n06 12 34 56 71", message="a" * 200),
        )
        job = SmsJob.objects.get()

        response = owner_client.get(job_url(job))

        page = text(response)
        assert response.status_code == 200
        assert 'data-testid="valid-receivers">1<' in page
        assert 'data-testid="credits-removed">2,00<' in page  # 2 segments × 1.00
        assert 'data-testid="invalid-receivers"' in page
        assert "<code>hello</code> — pas un numéro de téléphone" in page
        assert "<code>+33140000000</code> — pas un numéro de mobile" in page
        assert "Destinataires valides" in page
        assert "Crédits débités" in page

    def test_a_member_can_send(self, client, member, account):
        client.force_login(member)

        response = client.post(compose_url(account), send_data())

        job = SmsJob.objects.get()
        assert response.status_code == 302
        assert job.created_by == member
        assert balance(account) == Decimal("99.00")

    def test_insufficient_credits_re_renders_the_form_and_creates_nothing(
        self, owner_client, account
    ):
        receivers = "\n".join(f"+336123456{i:02d}" for i in range(60))

        response = owner_client.post(
            compose_url(account), send_data(receivers=receivers, message="a" * 200)
        )

        page = text(response)
        assert response.status_code == 200
        assert 'data-testid="send-error"' in page
        assert "Votre solde de crédits est insuffisant" in page
        assert "120" in page
        # What was typed is kept.
        assert "+33612345659" in page
        assert not SmsJob.objects.exists()
        assert not OutgoingMessage.objects.exists()
        assert not CreditMovement.objects.filter(kind=CreditMovement.Kind.DEBIT).exists()
        assert balance(account) == Decimal("100.00")

    def test_the_insufficient_credits_error_uses_the_french_number_format(
        self, owner_client, account
    ):
        receivers = "\n".join(f"+336123456{i:02d}" for i in range(60))

        response = owner_client.post(
            compose_url(account), send_data(receivers=receivers, message="a" * 200)
        )

        assert "cet envoi nécessite 120,00 crédits" in text(response)

    def test_a_deferred_send_in_the_past_is_a_form_error(self, owner_client, account):
        response = owner_client.post(
            compose_url(account), send_data(when="later", scheduled_at="2020-01-06T10:00")
        )

        assert response.status_code == 200
        assert "La date d'envoi doit être dans le futur." in text(response)
        assert not SmsJob.objects.exists()
        assert balance(account) == Decimal("100.00")

    def test_a_deferred_send_without_a_date_is_a_form_error(self, owner_client, account):
        response = owner_client.post(compose_url(account), send_data(when="later"))

        assert response.status_code == 200
        assert not SmsJob.objects.exists()

    def test_without_the_send_button_nothing_is_sent(self, owner_client, account):
        data = send_data()
        del data["send"]

        response = owner_client.post(compose_url(account), data)

        assert response.status_code == 200
        assert not SmsJob.objects.exists()

    def test_a_disabled_account_cannot_send(self, owner_client, account):
        account.status = "disable"
        account.save()

        response = owner_client.post(compose_url(account), send_data())

        assert response.status_code == 200
        assert "Ce compte est désactivé" in text(response)
        assert not SmsJob.objects.exists()

    def test_anonymous_post_sends_nothing(self, client, account):
        response = client.post(compose_url(account), send_data())

        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))
        assert not SmsJob.objects.exists()


@pytest.mark.django_db
class TestPolling:
    def test_a_pending_job_keeps_polling(self, owner_client, account):
        # In a `db` test the on-commit dispatch never runs: the message stays queued.
        owner_client.post(compose_url(account), send_data())
        job = SmsJob.objects.get()

        response = owner_client.get(job_url(job) + "?poll=1", HTTP_HX_REQUEST="true")

        page = response.content.decode()
        assert response.status_code == 200
        assert 'hx-trigger="every 1s"' in page
        assert f'hx-get="{job_url(job)}?poll=1"' in page
        assert "<html" not in page

    def test_a_submitted_job_keeps_polling_until_its_reports(
        self, owner_client, account, scripted_operator, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            owner_client.post(compose_url(account), send_data())
        job = SmsJob.objects.get()
        assert job.status == SmsJob.Status.DONE

        response = owner_client.get(job_url(job) + "?poll=1", HTTP_HX_REQUEST="true")

        assert response.status_code == 200
        assert 'hx-trigger="every 1s"' in response.content.decode()

    def test_a_job_whose_messages_are_all_final_stops_polling(
        self, owner_client, account, scripted_operator, django_capture_on_commit_callbacks
    ):
        scripted_operator.SCRIPT[A] = ["permanent:BARRED"]
        scripted_operator.SCRIPT[B] = ["permanent:UNKNOWN_SUBSCRIBER"]
        with django_capture_on_commit_callbacks(execute=True):
            owner_client.post(compose_url(account), send_data(receivers=f"{A}\n{B}"))
        job = SmsJob.objects.get()

        response = owner_client.get(job_url(job) + "?poll=1", HTTP_HX_REQUEST="true")

        page = response.content.decode()
        assert response.status_code == 286
        assert "hx-trigger" not in page
        assert 'data-testid="count-failed">2<' in page

    def test_a_cancelled_job_stops_polling(self, owner_client, account):
        owner_client.post(compose_url(account), send_data(when="later", scheduled_at=later()))
        job = SmsJob.objects.get()
        owner_client.post(cancel_url(job))

        response = owner_client.get(job_url(job) + "?poll=1", HTTP_HX_REQUEST="true")

        assert response.status_code == 286

    def test_the_full_page_is_not_a_partial(self, owner_client, account):
        owner_client.post(compose_url(account), send_data())
        job = SmsJob.objects.get()

        response = owner_client.get(job_url(job))

        assert response.status_code == 200
        assert "<html" in response.content.decode()


@pytest.mark.django_db
class TestPlannedSends:
    def test_a_deferred_send_is_listed_with_its_planned_time(self, owner_client, account):
        response = owner_client.post(
            compose_url(account),
            send_data(when="later", scheduled_at=later(), message="Rendez-vous demain"),
        )
        job = SmsJob.objects.get()
        assert response["Location"] == job_url(job)
        assert job.status == SmsJob.Status.SCHEDULED

        page = text(owner_client.get(scheduled_url(account)))

        assert "Envois planifiés" in page
        assert "Rendez-vous demain" in page
        assert job_url(job) in page
        assert cancel_url(job) in page

    def test_the_job_page_of_a_planned_send_says_when(self, owner_client, account):
        owner_client.post(compose_url(account), send_data(when="later", scheduled_at=later()))
        job = SmsJob.objects.get()

        page = text(owner_client.get(job_url(job)))

        assert "Cet envoi est planifié pour le" in page
        assert cancel_url(job) in page

    def test_the_list_is_empty_without_planned_sends(self, owner_client, account):
        owner_client.post(compose_url(account), send_data())  # immediate: not planned

        page = text(owner_client.get(scheduled_url(account)))

        assert "Aucun envoi planifié." in page

    def test_cancel_refunds_and_says_so(self, owner_client, account):
        owner_client.post(
            compose_url(account),
            send_data(when="later", scheduled_at=later(), receivers=f"{A}\n{B}"),
        )
        job = SmsJob.objects.get()
        assert balance(account) == Decimal("98.00")

        response = owner_client.post(cancel_url(job), follow=True)

        assert response.redirect_chain == [(scheduled_url(account), 302)]
        page = text(response)
        assert "L'envoi a été annulé" in page
        assert "Aucun envoi planifié." in page
        job.refresh_from_db()
        assert job.status == SmsJob.Status.CANCELLED
        assert balance(account) == Decimal("100.00")
        assert CreditMovement.objects.filter(
            account=account, kind=CreditMovement.Kind.REFUND, key=f"job:{job.pk}:cancel"
        ).exists()

    def test_the_cancel_message_uses_the_french_number_format(self, owner_client, account):
        owner_client.post(
            compose_url(account),
            send_data(when="later", scheduled_at=later(), receivers=f"{A}\n{B}"),
        )
        job = SmsJob.objects.get()

        response = owner_client.post(cancel_url(job), follow=True)

        assert "2,00 crédits ont été remboursés" in text(response)

    def test_one_credit_refunded_is_singular_in_both_languages(self, owner_client, account):
        for language, expected in (("fr", "1,00 crédit a été remboursé"),
                                   ("en", "1.00 credit was refunded")):  # fmt: skip
            owner_client.cookies["django_language"] = language
            owner_client.post(compose_url(account), send_data(when="later", scheduled_at=later()))
            job = SmsJob.objects.filter(status=SmsJob.Status.SCHEDULED).get()
            assert job.credits == Decimal("1.00")

            response = owner_client.post(cancel_url(job), follow=True)

            assert expected in text(response)

    def test_cancelling_twice_refunds_once(self, owner_client, account):
        owner_client.post(compose_url(account), send_data(when="later", scheduled_at=later()))
        job = SmsJob.objects.get()
        owner_client.post(cancel_url(job))

        response = owner_client.post(cancel_url(job), follow=True)

        assert "Cet envoi ne peut plus être annulé" in text(response)
        assert CreditMovement.objects.filter(kind=CreditMovement.Kind.REFUND).count() == 1
        assert balance(account) == Decimal("100.00")

    def test_cancel_needs_a_post(self, owner_client, account):
        owner_client.post(compose_url(account), send_data(when="later", scheduled_at=later()))
        job = SmsJob.objects.get()

        assert owner_client.get(cancel_url(job)).status_code == 405

        job.refresh_from_db()
        assert job.status == SmsJob.Status.SCHEDULED


@pytest.mark.django_db
class TestOutsider:
    @pytest.fixture
    def planned(self, owner_client, account):
        owner_client.post(compose_url(account), send_data(when="later", scheduled_at=later()))
        return SmsJob.objects.get()

    @pytest.fixture
    def outsider_client(self, outsider):
        client = Client()
        client.force_login(outsider)
        return client

    def test_outsider_gets_404_on_the_job_page(self, outsider_client, planned):
        assert outsider_client.get(job_url(planned)).status_code == 404
        assert (
            outsider_client.get(job_url(planned) + "?poll=1", HTTP_HX_REQUEST="true").status_code
            == 404
        )

    def test_outsider_cannot_cancel(self, outsider_client, planned, account):
        assert outsider_client.post(cancel_url(planned)).status_code == 404

        planned.refresh_from_db()
        assert planned.status == SmsJob.Status.SCHEDULED
        assert balance(account) == Decimal("99.00")

    def test_outsider_gets_404_on_the_planned_sends(self, outsider_client, account, planned):
        assert outsider_client.get(scheduled_url(account)).status_code == 404

    def test_outsider_cannot_reach_the_job_through_their_own_account(
        self, outsider_client, outsider, planned
    ):
        theirs = outsider.memberships.get().account.name
        assert (
            outsider_client.get(reverse("messaging:job", args=[theirs, planned.pk])).status_code
            == 404
        )
        assert (
            outsider_client.post(
                reverse("messaging:job_cancel", args=[theirs, planned.pk])
            ).status_code
            == 404
        )
        planned.refresh_from_db()
        assert planned.status == SmsJob.Status.SCHEDULED

    def test_outsider_cannot_send_from_the_account(self, outsider_client, account):
        assert outsider_client.post(compose_url(account), send_data()).status_code == 404
        assert not SmsJob.objects.exists()
