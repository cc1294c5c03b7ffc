"""The campaign pages: create (form errors where the customer acted), history, detail with live
statistics (HTMX partial), actions, CSV export; links from the job and message pages."""

import csv
import io

import pytest
from django.urls import reverse

from messaging import dispatch
from messaging.models import Campaign, OutgoingMessage

pytestmark = pytest.mark.django_db

TO = "+33612345671\n+33612345672\n+33612345673\n+33612345674"


@pytest.fixture
def post_new(owner_client, account, scripted_operator, django_capture_on_commit_callbacks):
    def _post(**data):
        body = {"name": "Soldes", "sender": "short", "receivers": TO, "message": "Bonjour",
                "no_stop_clause": "on", "sms_class": "phoneDisplay", "when": "now",
                "winner_metric": "clicks", "send": "1", **data}  # fmt: skip
        with django_capture_on_commit_callbacks(execute=True):
            return owner_client.post(reverse("messaging:campaign_new", args=[account.name]), body)

    return _post


def test_it_creates_a_campaign_with_two_variants_and_links(post_new, owner_client, account):
    response = post_new(
        message="A https://shop.example.com/a", message_b="B https://shop.example.com/b",
        share_a="50", share_b="50", track_links="on", pace_kind="minute", pace_value="60",
    )  # fmt: skip
    campaign = Campaign.objects.get()
    assert response.status_code == 302 and response["Location"] == campaign.get_absolute_url()
    assert campaign.status == Campaign.Status.SENDING
    assert sorted(campaign.jobs.values_list("variant", "recipients_count")) == [("A", 2), ("B", 2)]
    dispatch.pump(budget=5)
    page = owner_client.get(campaign.get_absolute_url()).content.decode()
    assert "Soldes" in page and 'data-variant="A"' in page and 'data-variant="B"' in page
    partial = owner_client.get(campaign.get_absolute_url(), HTTP_HX_REQUEST="true")
    assert 'id="live"' in partial.content.decode() and "<html" not in partial.content.decode()
    listing = owner_client.get(reverse("messaging:campaigns", args=[account.name]))
    assert campaign.get_absolute_url() in listing.content.decode()
    # At 60 a minute only the first message is written yet (the others wait for their turn).
    message = OutgoingMessage.objects.get(job__campaign=campaign)
    job = message.job
    assert campaign.get_absolute_url() in owner_client.get(job.get_absolute_url()).content.decode()
    detail = owner_client.get(reverse("messaging:message", args=[account.name, message.pk]))
    assert campaign.get_absolute_url() in detail.content.decode()
    history = owner_client.get(reverse("messaging:history", args=[account.name]))
    assert 'data-testid="history-campaign"' in history.content.decode()
    dashboard = owner_client.get(reverse("messaging:dashboard", args=[account.name]))
    assert campaign.get_absolute_url() in dashboard.content.decode()


def test_form_errors_show_where_the_customer_acted(post_new):
    response = post_new(name="", message_b="B", share_a="50", share_b="30")
    assert response.status_code == 200
    form = response.context["form"]
    assert "name" in form.errors and "winner_after_hours" in form.errors
    response = post_new(pace_kind="hours", pace_value="")
    assert "pace_value" in response.context["form"].errors
    assert not Campaign.objects.exists()


def test_pause_resume_cancel_and_export(post_new, owner_client, account):
    post_new(pace_kind="minute", pace_value="1")
    campaign = Campaign.objects.get()
    url = campaign.get_absolute_url()
    owner_client.post(reverse("messaging:campaign_pause", args=[account.name, campaign.uuid]))
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.PAUSED
    owner_client.post(reverse("messaging:campaign_resume", args=[account.name, campaign.uuid]))
    owner_client.post(reverse("messaging:campaign_cancel", args=[account.name, campaign.uuid]))
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.CANCELLED
    page = owner_client.get(url).content.decode()
    assert f"[{campaign.uuid}]" in page  # its credit movements
    export = owner_client.get(reverse("messaging:campaign_export", args=[account.name, campaign.uuid]))
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig")),
                           delimiter=";"))  # fmt: skip
    assert len(rows) == 5 and {r[1] for r in rows[1:]} == {"A"}
    assert owner_client.get(reverse("messaging:campaign_rename", args=[account.name, campaign.uuid])).status_code == 405
    owner_client.post(reverse("messaging:campaign_delete", args=[account.name, campaign.uuid]))
    assert not Campaign.objects.exists()
    assert OutgoingMessage.objects.count() == 4


def test_an_outsider_gets_404(client, outsider, post_new, account):
    post_new()
    campaign = Campaign.objects.get()
    client.force_login(outsider)
    assert client.get(campaign.get_absolute_url()).status_code == 404
    response = client.post(reverse("messaging:campaign_cancel", args=[account.name, campaign.uuid]))
    assert response.status_code == 404


@pytest.mark.parametrize("url_name", ["messaging:compose", "messaging:campaign_new"])
def test_both_forms_show_the_same_send_options(owner_client, account, url_name):
    """One partial (messaging/_send_options.html) for the two forms: book sizes, the books'
    help and advanced options left open on a non-default class read the same on both."""
    from addressbooks.models import AddressBook

    AddressBook.objects.create(account=account, name="Clients", contacts_count=1520)
    url = reverse(url_name, args=[account.name])
    page = owner_client.post(url, {"message": "Bonjour", "sms_class": "flash"}).content.decode()

    assert 'Clients <span class="muted">(1\xa0520)</span>' in page
    assert "les numéros déjà saisis ou présents dans un autre carnet" in page
    assert '<details class="advanced" open>' in page
    assert page.count('name="no_stop_clause"') == 1
