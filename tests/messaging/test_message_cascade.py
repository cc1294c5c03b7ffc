"""Messages have no database constraint to their job and account (messaging.models: the checks
cost ~40% of PostgreSQL's work per inserted message): deleting a job still deletes its
messages, through Django's collector; an account cannot be deleted under them."""

import pytest
from django.db.models import ProtectedError

from core import recipients
from messaging import dispatch, services
from messaging.models import OutgoingMessage, SmsJob

pytestmark = pytest.mark.django_db
NUMBERS = "\n".join(f"+3361234{i:04d}" for i in range(3))


def send(account, owner):
    job = services.job_submit(
        account=account, user=owner, message="Bonjour",
        parsed=recipients.parse(NUMBERS, "FR"), stop_clause=False,
    )  # fmt: skip
    dispatch.pump(budget=5)
    return job


def test_deleting_a_job_deletes_its_messages(account, owner):
    job, other = send(account, owner), send(account, owner)
    assert OutgoingMessage.objects.filter(job=job).count() == 3
    message = OutgoingMessage.objects.filter(job=job).first()
    assert (message.job, message.account) == (job, account)

    SmsJob.objects.filter(pk=job.pk).delete()

    assert not OutgoingMessage.objects.filter(job_id=job.pk).exists()
    assert OutgoingMessage.objects.filter(job=other).count() == 3


def test_an_account_with_messages_cannot_be_deleted_from_under_them(account, owner):
    """Its ledger protects it (accounts.models.CreditMovement): no message is left without
    its account."""
    job = send(account, owner)

    with pytest.raises(ProtectedError):
        account.delete()

    assert OutgoingMessage.objects.filter(job=job, account=account).count() == 3
