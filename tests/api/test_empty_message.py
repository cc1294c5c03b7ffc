"""POST /sms/{sn}/jobs refuses a message of spaces only (it would be charged and sent)."""

from decimal import Decimal

from messaging.models import SmsJob


def test_the_api_refuses_spaces_only(api_client, sn, account):
    response = api_client.post(
        f"/sms/{sn}/jobs", {"message": "     ", "receivers": ["+33612345671"], "noStopClause": True}
    )

    assert response.status_code == 400
    assert "empty" in response.json()["message"]
    assert not SmsJob.objects.exists()
    account.refresh_from_db()
    assert account.credits == Decimal("100.00")


